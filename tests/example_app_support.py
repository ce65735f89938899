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
    full_env = {k: v for k, v in os.environ.items() if k != "HOMEDATA_DIR"}
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
