"""A local rehearsal of a Heroku deploy: build the committed app from scratch and boot it as a dyno.

doctor reads files; only running the app proves it boots. The rehearsal does what Heroku does, on
this machine, from what is committed: ``git archive`` of HEAD into a fresh folder (so a file that
was never committed is missing here too), a clean venv built from requirements.txt alone, the
Procfile's web command started with ``PORT`` and ``WEB_CONCURRENCY`` and no other environment of
yours, 60 seconds to bind (R10), an HTTP probe, the memory of the whole process tree against the
512 MB of an eco/basic dyno (R14), and SIGTERM with 30 seconds to exit (R12).
"""

from __future__ import annotations

import re
import shlex
import socket
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homedeploy.errors import CheckFailed, HomedeployError
from homedeploy.project.package_manager import Manager
from homedeploy.project.venv import Interpreter
from homedeploy.runtime.serving import ProbeResult, WebProcess

MEMORY_LIMIT = 512 * 1024 * 1024
"""RAM of an eco, basic or standard-1X dyno; above it Heroku logs R14 and swaps."""
WEB_CONCURRENCY = 2
"""What the Python buildpack's WEB_CONCURRENCY.sh picks on a 512 MB dyno."""

MISSING_MODULE_RE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
CONFIG_VAR_RE = re.compile(r"^KeyError: '([A-Z][A-Z0-9_]*)'$")
EXCEPTION_LINE_RE = re.compile(r"^([A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*)$")


@dataclass
class RehearsalReport:
    """What the rehearsal did and found. ``reason`` names the failure (None when ``ok``)."""

    ok: bool
    project: str
    commit: str | None = None
    reason: str | None = None
    message: str | None = None
    heroku: str | None = None
    fix: str | None = None
    python: str | None = None
    python_requested: str | None = None
    package_manager: str | None = None
    build_command: str | None = None
    build_seconds: float | None = None
    boot_seconds: float | None = None
    rss_bytes: int | None = None
    memory_limit_bytes: int = MEMORY_LIMIT
    probes: list[ProbeResult] = field(default_factory=list)
    stop_seconds: float | None = None
    stop_clean: bool | None = None
    port: int | None = None
    url: str | None = None
    pid: int | None = None
    workdir: str | None = None
    log_file: str | None = None
    notes: list[str] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["rss_mb"] = round(self.rss_bytes / 1024 / 1024, 1) if self.rss_bytes else None
        return data


class RehearsalFailed(Exception):
    """Stops the rehearsal with a reason; turned into the report's reason/message/fix."""

    def __init__(
        self, reason: str, message: str, fix: str | None = None, heroku: str | None = None
    ) -> None:
        super().__init__(message)
        self.reason, self.message, self.fix, self.heroku = reason, message, fix, heroku


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def export_head(repo_root: Path, prefix: str, destination: Path) -> None:
    """``git archive`` HEAD (or HEAD's ``prefix`` folder) and unpack it into ``destination``."""
    from git import Repo

    archive = destination.parent / "source.tar"
    treeish = f"HEAD:{prefix}" if prefix else "HEAD"
    with archive.open("wb") as stream:
        Repo(repo_root).archive(stream, treeish=treeish, format="tar")
    destination.mkdir()
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, filter="data")
        else:  # Python 3.10 before 3.10.12
            tar.extractall(destination)  # our own git archive
    archive.unlink()


def dyno_environment(app_dir: Path, venv_dir: Path, port: int) -> dict[str, str]:
    """The environment a web dyno gives the process (Heroku's runtime + the buildpack's
    .profile.d), and nothing from the developer's shell."""
    return {
        "PATH": f"{venv_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(app_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
        "PYTHONUNBUFFERED": "true",
        "PYTHONPATH": str(app_dir),
        "LANG": "C.UTF-8",
        "FORWARDED_ALLOW_IPS": "*",
        "GUNICORN_CMD_ARGS": "--access-logfile -",
        "DYNO": "web.1",
    }


def log_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _boot_failure(lines: list[str], app_dir: Path, base: CheckFailed) -> RehearsalFailed:
    """Name the cause of a failed boot from the web process's log."""
    from homedeploy.requirements.app_needs import dist_for_import

    text = "\n".join(lines)
    missing = MISSING_MODULE_RE.search(text)
    if missing:
        module = missing.group(1)
        top = module.split(".")[0]
        if not ((app_dir / f"{top}.py").exists() or (app_dir / top).is_dir()):
            return RehearsalFailed(
                "missing-module",
                f"the app imports {module!r}, which requirements.txt does not install "
                "(ModuleNotFoundError at boot).",
                f"add {dist_for_import(module)} (it provides {top!r}) to requirements.txt "
                "and commit.",
                "H10 (App crashed)",
            )
    if "Failed to find attribute" in text or "Failed to find application" in text:
        detail = next(line for line in lines if "Failed to find" in line)
        return RehearsalFailed(
            "procfile-target",
            f"gunicorn cannot find the app: {detail.strip()}",
            "point the Procfile at the real object (`homedeploy doctor --fix`).",
            "H10 (App crashed)",
        )
    if "command not found" in text:
        detail = next(line for line in lines if "command not found" in line)
        return RehearsalFailed(
            "command-not-found",
            f"the web command cannot start: {detail.strip()}",
            "add the server (gunicorn) to requirements.txt, or fix the Procfile.",
            "H10 (App crashed)",
        )
    if "Traceback (most recent call last)" in text:
        exceptions = [m.group(1) for line in lines if (m := EXCEPTION_LINE_RE.match(line.strip()))]
        last = exceptions[-1] if exceptions else "an exception"
        fix = "fix the error shown in the log; it happens at import, before any request."
        variable = CONFIG_VAR_RE.match(last)
        if variable:
            fix = (
                f"the app reads the environment variable {variable.group(1)} at import; a dyno "
                "(and this rehearsal) has none of your shell's variables: set it with "
                f"`homedeploy config push` (it sends .env) or give {variable.group(1)} a default."
            )
        return RehearsalFailed(
            "import-crash", f"the app crashed while loading: {last}", fix, "H10 (App crashed)"
        )
    if "did not bind" in base.message:
        return RehearsalFailed(
            "boot-timeout",
            base.message,
            "the web process must listen on 0.0.0.0:$PORT within 60 s (gunicorn does so by "
            "itself; Flask's dev server does not).",
            "R10 (Boot timeout)",
        )
    return RehearsalFailed("crashed", base.message, base.fix, "H10 (App crashed)")


def build_venv(
    app_dir: Path,
    venv_dir: Path,
    report: RehearsalReport,
    tell: Callable[[str], None],
    detail: Callable[[str], None] | None = None,
) -> None:
    """Build the clean venv with the package manager the buildpack picks, by its own command.

    pip installs requirements.txt; uv, Poetry and Pipenv run at the buildpack's pinned version
    (installed on demand into the tools cache) with the flags ``lib/<tool>.sh`` passes, so a
    stale lock or an excluded Python fails here as it fails on Heroku. The tool's own lines go
    to ``detail`` (shown transiently), else ``tell``.
    """
    from homedeploy.project.package_manager import choose_manager
    from homedeploy.project.python_version import requested_python
    from homedeploy.project.venv import find_interpreter

    requested = requested_python(app_dir)
    interpreter = find_interpreter(requested.major)
    report.python, report.python_requested = interpreter.version, requested.major
    if not interpreter.matches:
        report.notes.append(
            f"Heroku would use Python {requested.major}; it is not installed here, so the "
            f"rehearsal used {interpreter.version}."
        )
    tool = choose_manager(app_dir).tool or "pip"
    report.package_manager = tool
    started = time.monotonic()
    if tool == "pip":
        _pip_build(app_dir, venv_dir, interpreter, tell, detail)
    else:
        _tool_build(tool, app_dir, venv_dir, interpreter, report, tell, detail)
    report.build_seconds = round(time.monotonic() - started, 2)


def _pip_build(
    app_dir: Path,
    venv_dir: Path,
    interpreter: Interpreter,
    tell: Callable[[str], None],
    detail: Callable[[str], None] | None,
) -> None:
    from homedeploy.project.package_manager import INSTALL_FAILED
    from homedeploy.project.venv import create_venv

    try:
        create_venv(
            venv_dir,
            interpreter,
            app_dir / "requirements.txt",
            progress=detail or tell,
            cwd=app_dir,
        )
    except HomedeployError as error:
        raise RehearsalFailed(
            "build-failed", error.message, error.fix, INSTALL_FAILED["pip"]
        ) from None


BUILD_TIMEOUT = 900
"""Total seconds for one dependency install (the Heroku build itself times out at 15 min)."""


def tool_build_environment(tool: str, venv_dir: Path) -> dict[str, str]:
    """The variables ``lib/<tool>.sh`` exports, pointed at the rehearsal's venv instead of
    ``/app/.heroku/python`` (the buildpack installs into its Python; here it is a venv)."""
    from homedeploy.project.tools import tool_environment

    bin_dir = venv_dir / "bin"
    common = {
        "PATH": f"{bin_dir}:{tool_environment().get('PATH', '/usr/bin:/bin')}",
        "VIRTUAL_ENV": str(venv_dir),
    }
    if tool == "uv":
        return tool_environment(
            {
                "UV_PROJECT_ENVIRONMENT": str(venv_dir),
                "UV_NO_MANAGED_PYTHON": "1",
                "UV_PYTHON_DOWNLOADS": "never",
                "UV_LINK_MODE": "copy",
            }
        )
    if tool == "poetry":
        return tool_environment({**common, "POETRY_VIRTUALENVS_CREATE": "false"})
    return tool_environment(
        {**common, "PIPENV_SYSTEM": "1", "PIPENV_VERBOSITY": "-1", "PIPENV_NOSPIN": "1"}
    )


def _tool_build(
    tool: Manager,
    app_dir: Path,
    venv_dir: Path,
    interpreter: Interpreter,
    report: RehearsalReport,
    tell: Callable[[str], None],
    detail: Callable[[str], None] | None,
) -> None:
    from homedeploy.project.package_manager import (
        BUILD_ARGS,
        DISPLAY,
        INSTALL_FAILED,
        SHOWN_COMMAND,
        TOOL_VERSIONS,
    )
    from homedeploy.project.tools import ToolUnavailable, cached_tool, ensure_tool, run_tool

    version = TOOL_VERSIONS[tool]
    if cached_tool(tool) is None:
        tell(f"installing {DISPLAY[tool]} {version} (the buildpack's version) into the tools cache")
    try:
        installed = ensure_tool(tool)
    except (ToolUnavailable, HomedeployError) as error:
        raise RehearsalFailed(
            "tool-unavailable",
            error.message,
            error.fix,
            f"Error: Unable to install {DISPLAY[tool]}.",
        ) from None
    env = tool_build_environment(tool, venv_dir)
    command = [str(installed.executable), *BUILD_ARGS[tool]]
    if tool == "uv":
        command += ["--python", interpreter.path]
    else:
        from homedeploy.project.venv import create_venv

        try:
            create_venv(venv_dir, interpreter, None, progress=detail or tell)
        except HomedeployError as error:
            raise RehearsalFailed("build-failed", error.message, error.fix) from None
    report.build_command = f"{SHOWN_COMMAND[tool]} ({DISPLAY[tool]} {version})"
    tell(f"Installing dependencies using '{SHOWN_COMMAND[tool]}' ({DISPLAY[tool]} {version})")
    run = run_tool(command, app_dir, env=env, timeout=BUILD_TIMEOUT, progress=detail or tell)
    if run.ok:
        return
    why = "timed out" if run.timed_out else f"exit code {run.returncode}"
    raise RehearsalFailed(
        "build-failed",
        f"`{SHOWN_COMMAND[tool]}` failed ({why}):\n{run.tail(10)}",
        _tool_fix(tool, run.output),
        INSTALL_FAILED[tool],
    )


def _tool_fix(tool: str, output: str) -> str:
    lock = {"uv": "uv lock", "poetry": "poetry lock", "pipenv": "pipenv lock"}[tool]
    if "needs to be updated" in output or "changed significantly" in output:
        return f"run `{lock}` and commit the lock file (`homedeploy check-reqs --write`)."
    if "out of date" in output:
        return f"run `{lock}` and commit Pipfile.lock (`homedeploy check-reqs --write`)."
    if "incompatible with the project's Python requirement" in output:
        return "make .python-version and requires-python agree (`uv python pin`), then lock."
    return "read the tool's message above; `homedeploy doctor` explains most causes."


def boot_like_a_dyno(
    app_dir: Path,
    venv_dir: Path,
    workdir: Path,
    report: RehearsalReport,
    *,
    keep: bool,
    boot_timeout: float,
    stop_timeout: float,
    paths: list[str],
    tell: Callable[[str], None],
) -> None:
    from homedeploy.project.procfile import read_procfile

    web = read_procfile(app_dir / "Procfile").web
    assert web is not None
    port = _free_port()
    log_file = workdir / "web.log"
    report.port, report.log_file = port, str(log_file)
    # The log goes to a file, so a kept process outlives homedeploy without losing its output.
    command = f"exec >>{shlex.quote(str(log_file))} 2>&1\n{web.command}"
    process = WebProcess(command, cwd=app_dir, env=dyno_environment(app_dir, venv_dir, port))
    tell(f"starting `{web.command}` with PORT={port} WEB_CONCURRENCY={WEB_CONCURRENCY}")
    process.start()
    report.pid = process.pid
    stopped = False
    try:
        try:
            report.boot_seconds = round(process.wait_until_bound(port, boot_timeout), 3)
        except CheckFailed as error:
            process.stop(stop_timeout)
            stopped = True
            raise _boot_failure(log_lines(log_file), app_dir, error) from None
        report.probes = process.probe(port, paths)
        time.sleep(0.3)  # let the second worker finish loading before measuring memory
        report.rss_bytes = process.rss_bytes()
        if not process.alive:
            process.stop(stop_timeout)
            stopped = True
            raise _boot_failure(
                log_lines(log_file), app_dir, CheckFailed("the web process exited after binding")
            )
        failed = [p for p in report.probes if not p.ok]
        if failed:
            lines = log_lines(log_file)
            if any("Traceback" in line for line in lines) and not failed[0].status:
                raise _boot_failure(lines, app_dir, CheckFailed("no answer"))
            detail = f"HTTP {failed[0].status}" if failed[0].status else failed[0].error
            raise RehearsalFailed(
                "http-error",
                f"GET {failed[0].path} failed: {detail}.",
                "read the log below; a 500 comes with a traceback.",
                "H10/H12/H13 depending on the error",
            )
        if report.rss_bytes and report.rss_bytes > MEMORY_LIMIT:
            raise RehearsalFailed(
                "memory",
                f"the web process tree uses {report.rss_bytes / 1024 / 1024:.0f} MB, over the "
                "512 MB of an eco/basic dyno.",
                "lower WEB_CONCURRENCY or load less at import; or use a larger dyno.",
                "R14 (Memory quota exceeded)",
            )
        if keep:
            report.url = f"http://127.0.0.1:{port}/"
            return
        stop = process.stop(stop_timeout)
        stopped = True
        report.stop_seconds, report.stop_clean = round(stop.seconds, 3), stop.clean
        if not stop.clean:
            raise RehearsalFailed(
                "stop-timeout",
                f"the web process did not exit within {stop_timeout:g} s of SIGTERM.",
                "let gunicorn handle SIGTERM; do not block in signal handlers or atexit.",
                "R12 (Exit timeout)",
            )
    finally:
        if not stopped and not (keep and report.url):
            process.stop(stop_timeout)
