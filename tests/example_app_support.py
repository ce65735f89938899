"""Helpers for the example app's tests: put ``example_app/`` on sys.path, serve it with gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_app"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_bin() -> str:
    """The gunicorn next to this interpreter (the test venv's)."""
    return str(Path(sys.executable).with_name("gunicorn"))


@contextmanager
def serve_example(
    port: int,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``gunicorn wsgi:app`` in ``example_app/`` on 127.0.0.1:port until the block ends."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("HOMEDATA_DIR", "DATABASE_URL")}
    full_env.update(env or {})
    proc = subprocess.Popen(
        [
            gunicorn_bin(),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *extra,
            "wsgi:app",
        ],
        cwd=EXAMPLE,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc, timeout)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{err[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def shared_homedata() -> Path:
    """The real exports in ``../shared/homedata``; the calling test skips when they are absent.

    ``HOMEDATA_TEST_SHARED`` points elsewhere (a git worktree whose ``../shared`` is not the
    repository's).
    """
    import pytest

    folder = Path(os.environ.get("HOMEDATA_TEST_SHARED") or ROOT.parent / "shared" / "homedata")
    if not (folder / "room.json").is_file():
        pytest.skip("../shared/homedata is absent")
    return folder


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), or None."""
    import glob
    import shutil

    found = shutil.which("initdb")
    if found and Path(found).resolve().with_name("pg_ctl").exists():
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """A throwaway PostgreSQL on 127.0.0.1:port in a fresh temporary folder; yields its URL.

    initdb refuses to run as root, so as root the server runs as Debian's ``postgres`` user.
    The calling test skips when the server programs are absent.
    """
    import pwd
    import shutil
    import tempfile

    import pytest

    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (Debian's postgresql) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="homedata-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = None
        if account is None or runuser is None:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip("running as root without a 'postgres' user (and runuser) for the server")
        as_user = [runuser, "-u", "postgres", "--"]
        os.chown(folder, account.pw_uid, account.pw_gid)
    data = folder / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "homedata",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=120,
        )
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "-l",
                str(folder / "server.log"),
                "start",
            ],
            check=True,
            capture_output=True,
            env=env,
            timeout=90,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc}\n{log[-2000:]}") from None
    try:
        yield f"postgresql://homedata@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            env=env,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)
