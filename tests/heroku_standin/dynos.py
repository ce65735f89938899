"""Optional real web dynos: the pushed commit's ``web:`` command run under gunicorn on 127.0.0.1.

With ``HerokuStandIn(run_dynos=True)`` every succeeded release starts its code like a Cedar dyno
would: the commit is exported (``git archive``, as the slug would hold it), the Procfile's web
command runs with bash, ``PORT`` set and the app's config vars in the environment, and
``.venv/bin`` of this checkout first on PATH (standing in for the build's installed
requirements). The web proxy then forwards requests to it, so a broken app really fails the
HTTP check (503, like Heroku's H10 "App crashed").
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import StandInApp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dyno:
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    log: Path
    crash_reported: bool = False

    def running(self) -> bool:
        return self.process.poll() is None

    def listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def state(self) -> str:
        """What Heroku would report: up, starting (not bound yet) or crashed."""
        if not self.running():
            return "crashed"
        return "up" if self.listening() else "starting"

    def crash_lines(self, tail: int = 8) -> list[tuple[str, str]]:
        """Once, after the process died: its last output lines and the platform's lines."""
        if self.running() or self.crash_reported:
            return []
        self.crash_reported = True
        try:
            output = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            output = []
        lines = [("app[web.1]", line) for line in output[-tail:] if line.strip()]
        lines.append(("heroku[web.1]", f"Process exited with status {self.process.returncode}"))
        lines.append(("heroku[web.1]", "State changed from starting to crashed"))
        return lines

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.log.unlink(missing_ok=True)


def export_commit(repo: Path, sha: str, git_env: dict[str, str] | None = None) -> Path:
    """A fresh folder holding ``sha``'s files, as the slug would."""
    folder = Path(tempfile.mkdtemp(prefix="standin-dyno-"))
    archive = subprocess.run(
        ["git", "--git-dir", str(repo), "archive", "--format=tar", sha],
        capture_output=True,
        check=True,
        env={**os.environ, **(git_env or {})},
    )
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def start_dyno(
    repo: Path,
    sha: str,
    command: str,
    config: dict[str, str],
    git_env: dict[str, str] | None = None,
) -> Dyno:
    """Export ``sha`` from ``repo`` and start ``command`` there with $PORT set."""
    folder = export_commit(repo, sha, git_env)
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(folder),
        "PORT": str(port),
        "DYNO": "web.1",
        "PYTHONUNBUFFERED": "1",
        "WEB_CONCURRENCY": "1",
        **config,
    }
    log = Path(tempfile.mkstemp(prefix="standin-dyno-", suffix=".log")[1])
    with log.open("wb") as handle:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=folder,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Dyno(process, port, folder, log)


def restart_web(
    repos: Path, app: StandInApp, sha: str | None, git_env: dict[str, str] | None = None
) -> None:
    """Replace the app's web dyno with one running ``sha`` (None: just stop it)."""
    if app.dyno is not None:
        app.dyno.stop()
        app.dyno = None
    web = app.formation.get("web")
    if sha is None or web is None or web["quantity"] < 1:
        return
    app.dyno = start_dyno(repos / f"{app.name}.git", sha, web["command"], app.config, git_env)
    app.log("heroku[web.1]", f"Starting process with command `{web['command']}`")


def run_detached(
    app: StandInApp, name: str, command: str, env: dict[str, str], folder: Path | None
) -> None:
    """A detached one-off dyno: the command runs in the background, its output goes to the logs."""
    import threading

    def work() -> None:
        where = folder or Path(tempfile.mkdtemp(prefix="standin-run-"))
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=where,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(where), **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for line in (done.stdout + done.stderr).splitlines():
            app.log(f"app[{name}]", line)
        app.log(f"heroku[{name}]", f"Process exited with status {done.returncode}")
        for dyno in app.one_off:
            if dyno["name"] == name:
                dyno["state"] = "complete"
        shutil.rmtree(where, ignore_errors=True)

    app.log(f"heroku[{name}]", f"Starting process with command `{command}`")
    threading.Thread(target=work, daemon=True).start()
