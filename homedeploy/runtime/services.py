"""Add-on services for the rehearsal: a real PostgreSQL and a real Redis on 127.0.0.1.

Heroku Postgres and Heroku Redis are servers the app talks to through ``DATABASE_URL`` and
``REDIS_URL``; an app that needs them cannot be proven to boot without them. The rehearsal starts
the same servers from the machine's own packages (Debian's ``postgresql`` and ``redis-server``):
``initdb`` (once per project, see below), a free port on 127.0.0.1, a random user and password,
the URL spelt as Heroku spells it (``postgres://``, not ``postgresql://``), and the servers
stopped afterwards. Nothing is started globally and no system service is touched.

When the binaries are missing the service is reported ``missing`` with the command that installs
them; the rehearsal is then "not rehearsed", never "passed".

The database outlives the rehearsal, as a Heroku Postgres add-on outlives releases: the cluster
of a project (its repository and folder) is kept in homedeploy's cache (``addons/<project>/``),
with its user, password and database, and the next rehearsal of that project starts the server
on it again, so its release phase runs against the data the previous one left (a re-deploy, where
``flask db upgrade`` finds its tables and a loader skips what is loaded) instead of paying
``initdb`` and a full data load every time. The first rehearsal of a project, and every rehearsal
with ``--fresh-addons`` (which replaces the kept cluster), start from an empty database, as a
first deploy does. A kept cluster in use by another rehearsal of the same project (or left
serving by ``--keep``) is not shared: that rehearsal gets a throwaway one, and says so. The
least recently used clusters beyond :data:`KEEP_CLUSTERS` are removed. Redis stays throwaway
(no persistence): it starts in milliseconds, and apps use it as a cache or queue.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from homedeploy.jsonout import JsonKeys

POSTGRES = "heroku-postgresql"
REDIS = "heroku-redis"

SERVICE_VARIABLES = {POSTGRES: "DATABASE_URL", REDIS: "REDIS_URL"}
"""The config var each add-on sets on the app (the primary attachment's name)."""

OTHER_VARIABLES: dict[str, tuple[str, ...]] = {
    POSTGRES: (),
    REDIS: (
        "REDISTOGO_URL",
        "REDISCLOUD_URL",
        "REDISGREEN_URL",
        "STACKHERO_REDIS_URL_CLEAR",
        "MEMETRIA_REDIS_URL",
        "OPENREDIS_URL",
    ),
}
"""What other Redis add-ons of the Elements marketplace call their URL (plain redis://, not TLS):
the rehearsal's redis-server stands in for them under the name the code reads."""

INSTALL_HINTS = {
    POSTGRES: "apt-get install postgresql (Debian/Ubuntu; brew install postgresql on macOS)",
    REDIS: "apt-get install redis-server (Debian/Ubuntu; brew install redis on macOS)",
}

KEEP_CLUSTERS = 8
"""Kept PostgreSQL clusters at most (one per project; the least recently used go first)."""

START_TIMEOUT = 30.0
"""Seconds a server gets to accept connections before the rehearsal gives up on it."""


@dataclass
class ServiceReport:
    """One add-on as the rehearsal provided it. The URL holds a password: never printed."""

    addon: str
    variable: str
    state: str  # "started", "missing" (binaries absent), "failed" (did not start)
    why: str  # why the rehearsal needed it: "app.json" or "the code reads DATABASE_URL"
    port: int | None = None
    seconds: float | None = None
    version: str | None = None
    detail: str | None = None
    fix: str | None = None
    kept: bool = False  # the database of a previous rehearsal of the project, started again
    url: str | None = field(default=None, repr=False)

    JSON_KEYS: ClassVar[JsonKeys] = (
        "addon",
        "variable",
        "state",
        "why",
        "port",
        "seconds",
        "version",
        "detail",
        "fix",
        "kept",
    )
    """Everything but the URL (it carries the password)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def postgres_bindir() -> Path | None:
    """The folder with ``initdb``, ``postgres`` and ``pg_ctl``: Debian keeps them out of PATH in
    /usr/lib/postgresql/N/bin (newest N first); elsewhere they are on PATH."""
    versions = []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for child in root.iterdir():
            if (child / "bin" / "postgres").is_file() and child.name.split(".")[0].isdigit():
                versions.append((int(child.name.split(".")[0]), child / "bin"))
    if versions:
        return max(versions)[1]
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    return None


def _run_as() -> tuple[int, int] | None:
    """PostgreSQL refuses to run as root: (uid, gid) of the ``postgres`` user (or nobody) then."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
    return None


class Service:
    """A server process started for one rehearsal; ``stop`` ends it and removes its files (a
    kept cluster's data stays in its store, whose lock ``stop`` releases)."""

    def __init__(self, report: ServiceReport, folder: Path) -> None:
        self.report = report
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.store_lock: IO[str] | None = None

    def log_tail(self, count: int = 15) -> list[str]:
        try:
            text = (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-count:]

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_server(timeout)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.store_lock is not None:
            self.store_lock.close()
            self.store_lock = None

    def stop_server(self, timeout: float = 10.0) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            # PostgreSQL: SIGINT is the "fast" shutdown; Redis: SIGTERM without saving.
            sig = signal.SIGINT if self.report.addon == POSTGRES else signal.SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.process = None


def _popen(
    command: list[str], folder: Path, user: tuple[int, int] | None
) -> subprocess.Popen[bytes]:
    log = (folder / "server.log").open("ab")
    try:
        return subprocess.Popen(
            command,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user[0] if user else None,
            group=user[1] if user else None,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        )
    finally:
        log.close()


def _wait_ready(service: Service, ready: list[str] | None, user: tuple[int, int] | None) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    port = service.report.port
    assert port is not None and service.process is not None
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            return False
        if _accepts(port):
            if ready is None:
                return True
            check = subprocess.run(
                ready, capture_output=True, timeout=10, user=user[0] if user else None
            )
            if check.returncode == 0:
                return True
        time.sleep(0.05)
    return False


def _traversable(path: Path, uid: int) -> bool:
    """Whether the user ``uid`` can reach ``path`` (every ancestor searchable by it)."""
    for folder in [path, *path.parents]:
        try:
            stat = folder.stat()
        except OSError:
            continue  # made later, by us, with the right mode
        if stat.st_uid == uid:
            continue
        if not stat.st_mode & 0o001:
            return False
    return True


def addons_root() -> Path:
    """Where kept clusters live: ``addons/`` in homedeploy's cache, or, when the server must run
    as another user (we are root) who cannot reach the cache (``/root`` is 0700), a 0711 folder
    of the temporary directory."""
    from homedeploy.requirements.cache import cache_root

    root = cache_root() / "addons"
    user = _run_as()
    if user is None or _traversable(root, user[0]):
        return root
    return _private_temp_folder(Path(tempfile.gettempdir()) / f"homedeploy-addons-{os.geteuid()}")


def _private_temp_folder(path: Path) -> Path:
    """``path`` in the world-writable temporary directory, made 0711 by us, or one we made
    before; OSError when it is anything else (a symlink, or a folder another user made or can
    write: its clusters, credentials and configuration would be theirs to plant or read)."""
    import errno
    import stat

    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o711)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise OSError(errno.EPERM, f"{path} is not a private folder of this user", str(path))
    return path


def project_store(project_key: str) -> Path:
    """The kept PostgreSQL cluster of one project (``project_key``: its repository and folder)."""
    digest = hashlib.sha256(project_key.encode()).hexdigest()[:24]
    return addons_root() / digest / POSTGRES


def _lock_store(store: Path) -> IO[str] | None:
    """The store's lock, held for the rehearsal; None when another rehearsal holds it."""
    store.parent.mkdir(parents=True, exist_ok=True)
    for folder in (store.parent.parent, store.parent):
        with contextlib.suppress(OSError):
            folder.chmod(folder.stat().st_mode | 0o711)
    handle = (store.parent / "lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    with contextlib.suppress(OSError):
        os.utime(store.parent / "lock")  # most recently used: kept by prune_stores()
    return handle


def prune_stores(keep: Path) -> None:
    """Remove the least recently used kept clusters beyond :data:`KEEP_CLUSTERS`."""
    try:
        root = addons_root()
        stores = [p for p in root.iterdir() if p.is_dir() and p != keep.parent]
    except OSError:
        return

    def used(folder: Path) -> float:
        try:
            return (folder / "lock").stat().st_mtime
        except OSError:
            return 0.0

    for folder in sorted(stores, key=used, reverse=True)[KEEP_CLUSTERS - 1 :]:
        with contextlib.suppress(OSError), (folder / "lock").open("a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # in use
            shutil.rmtree(folder, ignore_errors=True)


def _read_credentials(store: Path, version: str | None) -> dict[str, str] | None:
    """The kept cluster's user, password and database, when it is whole and of this server."""
    try:
        data = json.loads((store / "credentials.json").read_text(encoding="utf-8"))
        pg_version = (store / "data" / "PG_VERSION").read_text().strip()
    except (OSError, ValueError):
        return None
    keys = ("username", "password", "database", "pg_version")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        return None
    if data["pg_version"] != pg_version or data.get("server") != version:
        return None
    return {k: data[k] for k in keys}


def start_postgres(
    folder: Path, why: str, *, project_key: str | None = None, fresh: bool = False
) -> Service:
    """Start ``postgres`` on a free 127.0.0.1 port: on the project's kept cluster when there is
    one (``project_key``; not with ``fresh``), else after ``initdb`` and ``createdb``, in the
    project's store (kept afterwards) or in ``folder`` (removed afterwards)."""
    report = ServiceReport(POSTGRES, SERVICE_VARIABLES[POSTGRES], "missing", why)
    service = Service(report, folder)
    bindir = postgres_bindir()
    if bindir is None:
        report.detail = "PostgreSQL's server (initdb, postgres) is not installed on this machine"
        report.fix = INSTALL_HINTS[POSTGRES]
        return service
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    version = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
    )
    report.version = version.stdout.strip() or None
    report.state = "failed"
    note = None
    if project_key is not None:
        try:
            store = project_store(project_key)
            service.store_lock = _lock_store(store)
        except OSError as error:  # the cache folder cannot be written: a throwaway one
            note = f"the database cannot be kept ({error.strerror or error}): it is a throwaway"
        else:
            if service.store_lock is not None:
                return _start_kept(bindir, store, service, user, fresh, started)
            note = (
                "the project's kept database is in use by another rehearsal (or one left serving "
                "by --keep): this one started a throwaway database"
            )
    fresh_credentials = _initdb(bindir, folder, user, report)
    if fresh_credentials is None or not _run_cluster(
        bindir, folder, fresh_credentials, service, user
    ):
        return service
    if not _createdb(bindir, fresh_credentials, report, None):
        return service
    report.detail = note
    return _started(service, fresh_credentials, started)


ORPHAN_STOP_TIMEOUT = 10.0
"""Seconds a server left running on a kept cluster gets to shut down before it is killed."""


def _stop_orphan(data: Path) -> None:
    """Stop a ``postgres`` still serving the kept cluster ``data`` (its rehearsal was killed
    with SIGKILL or SIGTERM, so no ``finally`` stopped it). We hold the store's lock, so no live
    rehearsal runs it; without this the cluster looks broken ("lock file postmaster.pid already
    exists"), is replaced by an empty one, and the old server keeps running. Only a process
    whose command line names this data folder is signalled (the pid in postmaster.pid may have
    been reused); SIGINT is PostgreSQL's fast shutdown, SIGKILL after
    :data:`ORPHAN_STOP_TIMEOUT`."""
    try:
        pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return
    if str(data).encode() not in argv or not argv[0].endswith(b"postgres"):
        return
    for sig, wait in ((signal.SIGINT, ORPHAN_STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _start_kept(
    bindir: Path,
    store: Path,
    service: Service,
    user: tuple[int, int] | None,
    fresh: bool,
    started: float,
) -> Service:
    """The project's kept cluster, started again; or, the first time, with ``fresh`` or when it
    does not start, a new empty one made in its place (kept in turn)."""
    report = service.report
    note = None
    _stop_orphan(store / "data")
    credentials = None if fresh else _read_credentials(store, report.version)
    if credentials is not None and _run_cluster(bindir, store, credentials, service, user):
        report.kept = True
        return _started(service, credentials, started)
    if credentials is not None:
        service.stop_server()
        note = (
            "the kept database did not start ("
            + " / ".join(service.log_tail(3))
            + "): this rehearsal started a new, empty one"
        )
    shutil.rmtree(store, ignore_errors=True)
    prune_stores(store)
    store.mkdir(parents=True)
    made = _initdb(bindir, store, user, report)
    if (
        made is not None
        and _run_cluster(bindir, store, made, service, user)
        and _createdb(bindir, made, report, store)
    ):
        report.detail = note
        return _started(service, made, started)
    return service


def _started(service: Service, credentials: dict[str, str], started: float) -> Service:
    report = service.report
    report.url = (
        f"postgres://{credentials['username']}:{credentials['password']}@127.0.0.1:"
        f"{report.port}/{credentials['database']}"
    )
    report.state = "started"
    report.seconds = round(time.monotonic() - started, 2)
    return service


def _run_cluster(
    bindir: Path,
    home: Path,
    credentials: dict[str, str],
    service: Service,
    user: tuple[int, int] | None,
) -> bool:
    """Start ``postgres`` on ``home/data`` (its log in the rehearsal's folder); ready or not."""
    report = service.report
    report.port = free_port()
    service.process = _popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(home / "data"),
            "-p",
            str(report.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ],
        service.folder,
        user,
    )
    ready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(report.port)]
    if not _wait_ready(service, ready, None):
        report.detail = "postgres did not accept connections: " + " / ".join(service.log_tail(5))
        return False
    return True


def _initdb(
    bindir: Path, home: Path, user: tuple[int, int] | None, report: ServiceReport
) -> dict[str, str] | None:
    """A new cluster in ``home/data`` with a random user, password and database name."""
    data = home / "data"
    credentials = {
        "username": "u" + secrets.token_hex(6),
        "password": secrets.token_hex(16),
        "database": "d" + secrets.token_hex(6),
    }
    (home / "pwfile").write_text(credentials["password"] + "\n")
    if user is not None:
        # The server runs as an unprivileged user, which must reach its folder.
        for parent in (home.parent, home):
            parent.chmod(parent.stat().st_mode | 0o711)
        os.chown(home, *user)
        os.chown(home / "pwfile", *user)
    init = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            credentials["username"],
            f"--pwfile={home / 'pwfile'}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        user=user[0] if user else None,
        group=user[1] if user else None,
        cwd=home,
    )
    (home / "pwfile").unlink()
    if init.returncode != 0:
        report.detail = f"initdb failed: {(init.stderr or init.stdout).strip()[-400:]}"
        return None
    return credentials


def _createdb(
    bindir: Path, credentials: dict[str, str], report: ServiceReport, store: Path | None
) -> bool:
    """Create the app's database; in a ``store``, record the credentials (0600) so that the
    next rehearsal of the project starts on this cluster again."""
    port = report.port
    env_password = {**os.environ, "PGPASSWORD": credentials["password"]}
    create = subprocess.run(
        [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            credentials["username"],
            credentials["database"],
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_password,
    )
    if create.returncode != 0:
        report.detail = f"createdb failed: {create.stderr.strip()[-300:]}"
        return False
    if store is None:
        return True
    try:
        pg_version = (store / "data" / "PG_VERSION").read_text().strip()
    except OSError:
        return True  # not recorded: the next rehearsal makes a new one
    record = {**credentials, "pg_version": pg_version, "server": report.version}
    fd, tmp = tempfile.mkstemp(prefix=".credentials.", dir=store)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(tmp, store / "credentials.json")
    return True


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


def installed(addon: str) -> bool:
    """Whether this machine has the server binaries for ``addon``."""
    return (postgres_bindir() if addon == POSTGRES else redis_binary()) is not None


def start_redis(folder: Path, why: str) -> Service:
    """``redis-server`` on a free 127.0.0.1 port with a password and no persistence."""
    report = ServiceReport(REDIS, SERVICE_VARIABLES[REDIS], "missing", why)
    service = Service(report, folder)
    binary = redis_binary()
    if binary is None:
        report.detail = "redis-server is not installed on this machine"
        report.fix = INSTALL_HINTS[REDIS]
        return service
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    report.state = "failed"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    report.version = version.stdout.strip().split(" sha=")[0] or None
    password = secrets.token_hex(16)
    report.port = free_port()
    config = folder / "redis.conf"
    config.write_text(
        f'port {report.port}\nbind 127.0.0.1\nrequirepass {password}\nsave ""\n'
        f"appendonly no\ndir {folder}\ndaemonize no\nprotected-mode yes\n"
    )
    config.chmod(0o600)
    service.process = _popen([binary, str(config)], folder, None)
    if not _wait_ready(service, None, None):
        report.detail = "redis-server did not accept connections: " + " / ".join(
            service.log_tail(5)
        )
        return service
    report.url = f"redis://:{password}@127.0.0.1:{report.port}"
    report.state = "started"
    report.seconds = round(time.monotonic() - started, 2)
    return service


def start_service(
    addon: str, folder: Path, why: str, *, project_key: str | None = None, fresh: bool = False
) -> Service:
    """Start the stand-in for ``addon`` in ``folder``; PostgreSQL on the project's kept cluster
    when ``project_key`` is given (see the module doc)."""
    if addon == POSTGRES:
        return start_postgres(folder, why, project_key=project_key, fresh=fresh)
    return start_redis(folder, why)
