"""Throwaway add-on services for the rehearsal: a real PostgreSQL and a real Redis on 127.0.0.1.

Heroku Postgres and Heroku Redis are servers the app talks to through ``DATABASE_URL`` and
``REDIS_URL``; an app that needs them cannot be proven to boot without them. The rehearsal starts
the same servers from the machine's own packages (Debian's ``postgresql`` and ``redis-server``):
``initdb`` into the rehearsal folder, a free port on 127.0.0.1, a random user and password, the URL
spelt as Heroku spells it (``postgres://``, not ``postgresql://``), and everything stopped and
removed afterwards. Nothing is started globally and no system service is touched.

When the binaries are missing the service is reported ``missing`` with the command that installs
them; the rehearsal is then "not rehearsed", never "passed".
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

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
    """A server process started for one rehearsal; ``stop`` ends it and removes its files."""

    def __init__(self, report: ServiceReport, folder: Path) -> None:
        self.report = report
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def log_tail(self, count: int = 15) -> list[str]:
        try:
            text = (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-count:]

    def stop(self, timeout: float = 10.0) -> None:
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
        shutil.rmtree(self.folder, ignore_errors=True)


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


def start_postgres(folder: Path, why: str) -> Service:
    """initdb into ``folder``, start ``postgres`` on a free 127.0.0.1 port, create a database."""
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
    data = folder / "data"
    username = "u" + secrets.token_hex(6)
    password = secrets.token_hex(16)
    database = "d" + secrets.token_hex(6)
    (folder / "pwfile").write_text(password + "\n")
    if user is not None:
        # The server runs as an unprivileged user, which must reach its folder.
        for parent in (folder.parent, folder):
            parent.chmod(parent.stat().st_mode | 0o711)
        os.chown(folder, *user)
        os.chown(folder / "pwfile", *user)
    report.state = "failed"
    init = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            username,
            f"--pwfile={folder / 'pwfile'}",
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
        cwd=folder,
    )
    (folder / "pwfile").unlink()
    if init.returncode != 0:
        report.detail = f"initdb failed: {(init.stderr or init.stdout).strip()[-400:]}"
        return service
    version = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
    )
    report.version = version.stdout.strip() or None
    report.port = free_port()
    service.process = _popen(
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
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
        folder,
        user,
    )
    env_password = {**os.environ, "PGPASSWORD": password}
    ready = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(report.port)]
    if not _wait_ready(service, ready, None):
        report.detail = "postgres did not accept connections: " + " / ".join(service.log_tail(5))
        return service
    create = subprocess.run(
        [
            str(bindir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(report.port),
            "-U",
            username,
            database,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=env_password,
    )
    if create.returncode != 0:
        report.detail = f"createdb failed: {create.stderr.strip()[-300:]}"
        return service
    report.url = f"postgres://{username}:{password}@127.0.0.1:{report.port}/{database}"
    report.state = "started"
    report.seconds = round(time.monotonic() - started, 2)
    return service


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


STARTERS = {POSTGRES: start_postgres, REDIS: start_redis}


def start_service(addon: str, folder: Path, why: str) -> Service:
    """Start the stand-in for ``addon`` (a key of :data:`STARTERS`) in ``folder``."""
    return STARTERS[addon](folder, why)
