"""A local rehearsal of a Heroku deploy: build the committed app from scratch and run it as dynos.

doctor reads files; only running the app proves it works. The rehearsal does what Heroku does, on
this machine, from what is committed: ``git archive`` of HEAD into a fresh folder (so a file that
was never committed is missing here too), a clean venv built by the package manager the buildpack
picks, with its own command and tool version (pip, uv, Poetry or Pipenv), with Heroku's Python
when it is installed, the app's config vars (app.json, ``.env``, ``--env``, or
the real app's) and its add-ons as real local servers, the Procfile's ``release`` command before
anything starts, then the ``web`` command with ``PORT`` and ``WEB_CONCURRENCY`` and no other
environment of yours, 60 seconds to bind (R10), a GET of every parameterless route, the other
process types kept up for 10 seconds, the memory of the web process tree against the 512 MB of an
eco/basic dyno (R14), and SIGTERM with 30 seconds to exit (R12).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from homedeploy.errors import CheckFailed, HomedeployError
from homedeploy.project.package_manager import Manager
from homedeploy.project.venv import Interpreter
from homedeploy.runtime.crash import CrashCause, crash_cause
from homedeploy.runtime.routes import RouteProbe, probe_route
from homedeploy.runtime.serving import REQUEST_TIMEOUT, WebProcess

if TYPE_CHECKING:
    from homedeploy.jsonout import JsonKeys
    from homedeploy.runtime.build_cache import BuildSlot
    from homedeploy.runtime.services import ServiceReport

MEMORY_LIMIT = 512 * 1024 * 1024
"""RAM of an eco, basic or standard-1X dyno; above it Heroku logs R14 and swaps."""
WEB_CONCURRENCY = 2
"""What the Python buildpack's WEB_CONCURRENCY.sh picks on a 512 MB dyno."""
PROCESS_WATCH = 10.0
"""Seconds the other Procfile processes (worker, clock...) must stay up."""
RELEASE_TIMEOUT = 600.0
"""A release command running longer than this is stopped (Heroku allows an hour; locally a hang
is far likelier than a ten-minute migration)."""

MISSING_MODULE_RE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")
CONFIG_VAR_RE = re.compile(r"^KeyError: '([A-Z][A-Z0-9_]*)'$")
POSTGRES_SCHEME_RE = re.compile(r"Can't load plugin: sqlalchemy\.dialects:postgres\b")


@dataclass
class ProcessReport:
    """A Procfile process other than web, run for :data:`PROCESS_WATCH` seconds."""

    name: str
    command: str
    state: str  # "up" (stayed up), "crashed" (exited), "done" (release: exited 0), "failed"
    seconds: float | None = None
    returncode: int | None = None
    log_tail: list[str] = field(default_factory=list)


@dataclass
class RehearsalReport:
    """What the rehearsal did and found. ``reason`` names the failure (None when ``ok``).

    ``verdict`` is ``pass``, ``fail``, or ``not rehearsed`` (something the app needs, such as a
    PostgreSQL server, is not installed here, so nothing was proven either way).
    """

    ok: bool
    project: str
    verdict: str = "fail"
    commit: str | None = None
    reason: str | None = None
    message: str | None = None
    heroku: str | None = None
    fix: str | None = None
    cause: CrashCause | None = None
    python: str | None = None
    python_requested: str | None = None
    package_manager: str | None = None
    build_command: str | None = None
    python_heroku: str | None = None
    python_source: str | None = None
    python_exact: bool | None = None
    build_from: str | None = None
    build_seconds: float | None = None
    build_reused: bool = False
    build_key: str | None = None
    config: dict[str, str] = field(default_factory=dict)  # name -> source; never values
    services: list[ServiceReport] = field(default_factory=list)
    release: ProcessReport | None = None
    processes: list[ProcessReport] = field(default_factory=list)
    boot_seconds: float | None = None
    rss_bytes: int | None = None
    memory_limit_bytes: int = MEMORY_LIMIT
    probes: list[RouteProbe] = field(default_factory=list)
    routes: list[RouteProbe] = field(default_factory=list)
    routes_note: str | None = None
    stop_seconds: float | None = None
    stop_clean: bool | None = None
    port: int | None = None
    url: str | None = None
    pid: int | None = None
    workdir: str | None = None
    log_file: str | None = None
    notes: list[str] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase, in order: export, checks, build, services (waiting for the add-ons
    after the build), release, boot, routes, processes, stop."""

    JSON_KEYS: ClassVar[JsonKeys] = (..., "rss_mb")
    """``push --local --json``: every field, then ``rss_mb``."""

    @property
    def rss_mb(self) -> float | None:
        return round(self.rss_bytes / 1024 / 1024, 1) if self.rss_bytes else None


@contextlib.contextmanager
def phase(report: RehearsalReport, name: str) -> Iterator[None]:
    """Time one phase of the rehearsal into ``report.phases`` (also when it fails)."""
    started = time.monotonic()
    try:
        yield
    finally:
        report.phases[name] = round(report.phases.get(name, 0.0) + time.monotonic() - started, 3)


class RehearsalFailed(Exception):
    """Stops the rehearsal with a reason; turned into the report's reason/message/fix."""

    def __init__(
        self,
        reason: str,
        message: str,
        fix: str | None = None,
        heroku: str | None = None,
        cause: CrashCause | None = None,
        verdict: str = "fail",
    ) -> None:
        super().__init__(message)
        self.reason, self.message, self.fix, self.heroku = reason, message, fix, heroku
        self.cause, self.verdict = cause, verdict


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def export_tree(repo_root: Path, treeish: str, destination: Path) -> None:
    """``git archive`` ``treeish`` (``HEAD``, ``HEAD:sub``) and unpack it into ``destination``."""
    from git import Repo

    destination.parent.mkdir(parents=True, exist_ok=True)
    archive = destination.parent / f".{destination.name}.tar"
    with archive.open("wb") as stream:
        Repo(repo_root).archive(stream, treeish=treeish, format="tar")
    destination.mkdir()
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, filter="data")
        else:  # Python 3.10 before 3.10.12
            tar.extractall(destination)  # our own git archive
    archive.unlink()


def export_head(repo_root: Path, prefix: str, destination: Path) -> None:
    """``git archive`` HEAD (or HEAD's ``prefix`` folder) and unpack it into ``destination``."""
    export_tree(repo_root, f"HEAD:{prefix}" if prefix else "HEAD", destination)


def dyno_environment(
    app_dir: Path, venv_dir: Path, port: int, config: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment a web dyno gives the process: the app's config vars, then Heroku's runtime
    and the buildpack's .profile.d, and nothing from the developer's shell."""
    return {
        **(config or {}),
        "PATH": f"{venv_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(app_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": (config or {}).get("WEB_CONCURRENCY", str(WEB_CONCURRENCY)),
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


def cause_fix(cause: CrashCause | None, sources: dict[str, str]) -> str | None:
    """A fix for the well-known causes (a config var read at import, postgres:// in SQLAlchemy)."""
    if cause is None:
        return None
    variable = CONFIG_VAR_RE.match(cause.exception)
    if variable:
        name = variable.group(1)
        return (
            f"the app reads the config var {name} at import and the dyno has none: add it to "
            "app.json's env (a value, or generator: secret), to .env (`homedeploy config push` "
            f"sends it), pass --env {name}=..., or give it a default."
        )
    if POSTGRES_SCHEME_RE.search(cause.exception):
        return (
            "Heroku's DATABASE_URL starts with postgres://, which SQLAlchemy 1.4+ rejects: "
            'rewrite it before use: url.replace("postgres://", "postgresql://", 1).'
        )
    return None


def _installed(venv_dir: Path, top: str) -> bool:
    """Whether the venv has the top-level module ``top`` (a package folder or a module file)."""
    for site in venv_dir.glob("lib/python*/site-packages"):
        if (site / top).is_dir() or (site / f"{top}.py").is_file() or any(site.glob(f"{top}.*.so")):
            return True
    return False


DECLARED_IN = {
    "pip": "requirements.txt",
    "uv": "pyproject.toml (and uv.lock)",
    "poetry": "pyproject.toml (and poetry.lock)",
    "pipenv": "Pipfile (and Pipfile.lock)",
}
"""Where each package manager's dependencies are declared, for the fixes a failure names."""


def _boot_failure(
    lines: list[str],
    app_dir: Path,
    base: CheckFailed,
    sources: dict[str, str] | None = None,
    venv_dir: Path | None = None,
    manager: str | None = None,
) -> RehearsalFailed:
    """Name the cause of a failed boot from the web process's log."""
    from homedeploy.requirements.app_needs import dist_for_import

    declared = DECLARED_IN.get(manager or "pip", "requirements.txt")

    text = "\n".join(lines)
    cause = crash_cause(lines, [app_dir])
    missing = MISSING_MODULE_RE.search(text)
    if missing:
        module = missing.group(1)
        top = module.split(".")[0]
        installed = venv_dir is not None and _installed(venv_dir, top)
        if installed and "." in module:
            return RehearsalFailed(
                "missing-module",
                f"the app imports {module!r}, which the installed {top} does not have (it was "
                f"removed or renamed in the release {declared} installs).",
                f"update the import (e.g. flask.ext.X became flask_X), or pin the {top} release "
                "the code was written for.",
                "H10 (App crashed)",
                cause,
            )
        if not installed and not ((app_dir / f"{top}.py").exists() or (app_dir / top).is_dir()):
            return RehearsalFailed(
                "missing-module",
                f"the app imports {module!r}, which {declared} does not install "
                "(ModuleNotFoundError at boot).",
                f"add {dist_for_import(module)} (it provides {top!r}) to {declared} and commit.",
                "H10 (App crashed)",
                cause,
            )
    if "Failed to find attribute" in text or "Failed to find application" in text:
        detail = next(line for line in lines if "Failed to find" in line)
        return RehearsalFailed(
            "procfile-target",
            f"gunicorn cannot find the app: {detail.strip()}",
            "point the Procfile at the real object (`homedeploy doctor --fix`).",
            "H10 (App crashed)",
            cause,
        )
    if "command not found" in text:
        detail = next(line for line in lines if "command not found" in line)
        return RehearsalFailed(
            "command-not-found",
            f"the web command cannot start: {detail.strip()}",
            f"add the server (gunicorn) to {declared}, or fix the Procfile.",
            "H10 (App crashed)",
            cause,
        )
    if cause is not None:
        fix = cause_fix(cause, sources or {}) or (
            "fix the error at that line; it happens while the app loads, before any request."
        )
        return RehearsalFailed(
            "import-crash",
            f"the app crashed while loading: {cause.describe()}",
            fix,
            "H10 (App crashed)",
            cause,
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


PIP_COMMAND = "pip --python VENV install --no-compile -r requirements.txt"
"""How the rehearsal's pip build runs (part of the build cache key)."""


def build_venv(
    app_dir: Path,
    venv_dir: Path,
    report: RehearsalReport,
    tell: Callable[[str], None],
    detail: Callable[[str], None] | None = None,
    *,
    tree: str | None = None,
    reuse: bool = True,
) -> BuildSlot | None:
    """Build the clean venv with Heroku's Python (or the nearest, said loudly) and the package
    manager the buildpack picks, by its own command.

    pip installs requirements.txt into a venv made without pip, by one shared pip
    (:mod:`homedeploy.runtime.build`); uv, Poetry and Pipenv run at the buildpack's pinned version
    (installed on demand into the tools cache) with the flags ``lib/<tool>.sh`` passes, so a
    stale lock or an excluded Python fails here as it fails on Heroku. The tool's own lines go
    to ``detail`` (shown transiently), else ``tell``.

    The venv is built in the build cache (:mod:`homedeploy.runtime.build_cache`) and
    ``venv_dir`` links to it; when every input of the install (``tree``: the commit's git tree,
    for installs from the project's own files) is byte-identical to a previous successful
    build, that build is reused (``reuse=False``: always build anew). The slot returned is held
    (shared) until the caller releases it, so no other rehearsal prunes it meanwhile (None when
    the cache folder cannot be written: then the venv is built in ``venv_dir`` itself).
    """
    from homedeploy.project.package_manager import choose_manager
    from homedeploy.project.python_version import requested_python
    from homedeploy.runtime import build_cache
    from homedeploy.runtime.build import heroku_python

    requested = requested_python(app_dir)
    choice = heroku_python(requested)
    report.python = choice.interpreter.version
    report.python_requested = requested.major
    report.python_heroku = choice.heroku_version
    report.python_source = choice.source
    report.python_exact = choice.exact
    if not choice.exact:
        report.notes.append(choice.note)
    tool = choose_manager(app_dir).tool or "pip"
    report.package_manager = tool
    started = time.monotonic()
    if tool == "pip":
        inputs = build_cache.pip_build_inputs(
            app_dir, choice.interpreter, tree, PIP_COMMAND, choice.heroku_version
        )
    else:
        from homedeploy.project.package_manager import BUILD_ARGS, TOOL_VERSIONS

        inputs = build_cache.tool_build_inputs(
            tool,
            app_dir,
            choice.interpreter,
            tree,
            TOOL_VERSIONS[tool],
            " ".join(BUILD_ARGS[tool]),
        )
    report.build_key = inputs.short

    def build_into(target: Path) -> None:
        if tool == "pip":
            _pip_build(app_dir, target, choice, report, tell, detail)
        else:
            _tool_build(tool, app_dir, target, choice.interpreter, report, tell, detail)

    def waiting() -> None:
        tell(
            f"waiting for another rehearsal building or using the same inputs (key "
            f"{inputs.short}; {build_cache.LOCK_WAIT:g} s at most)"
        )

    def without_cache(error: OSError) -> None:
        tell(f"the build cache cannot be used ({error.strerror or error}): building without it")
        build_into(venv_dir)
        report.build_seconds = round(time.monotonic() - started, 2)

    try:
        slot = build_cache.acquire(inputs, on_wait=waiting)
    except OSError as error:  # a read-only or full cache folder, or a holder that never ends
        without_cache(error)
        return None
    try:
        found = reuse and build_cache.reusable(slot)
        if not found:
            try:
                slot.exclusive_within(build_cache.LOCK_WAIT, waiting)
            except TimeoutError as error:
                slot.release()
                without_cache(error)
                return None
            found = reuse and build_cache.reusable(slot)
        if found:
            record = slot.record
            report.build_reused = True
            report.build_from = record.get("build_from")
            report.build_command = record.get("build_command")
            report.notes.extend(str(note) for note in record.get("notes", []))
            tell(
                f"build reused: the install's inputs are unchanged since the build of "
                f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(record['built_at']))} "
                f"(key {inputs.short}; --fresh-build to build anew)"
            )
        else:
            build_cache.begin(slot)
            notes_before = len(report.notes)
            try:
                build_into(slot.venv)
            except BaseException:
                build_cache.discard(slot)
                slot.release()
                raise
            outcome = {
                "build_from": report.build_from,
                "build_command": report.build_command,
                "notes": report.notes[notes_before:],
            }
            with contextlib.suppress(OSError):  # not recorded (full disk): never reused
                build_cache.finish(slot, outcome, round(time.monotonic() - started, 2))
        venv_dir.symlink_to(slot.venv, target_is_directory=True)
        slot.share()
    except BaseException:
        slot.release()
        raise
    report.build_seconds = round(time.monotonic() - started, 2)
    return slot


def _pip_build(
    app_dir: Path,
    venv_dir: Path,
    choice: Any,
    report: RehearsalReport,
    tell: Callable[[str], None],
    detail: Callable[[str], None] | None,
) -> None:
    from homedeploy.project.package_manager import INSTALL_FAILED
    from homedeploy.runtime.build import build_rehearsal_venv

    try:
        outcome = build_rehearsal_venv(
            app_dir, venv_dir, choice, progress=detail or tell, tell=tell
        )
    except HomedeployError as error:
        raise RehearsalFailed(
            "build-failed", error.message, error.fix, INSTALL_FAILED["pip"]
        ) from None
    report.build_from = outcome.installed_from
    report.notes.extend(outcome.notes)


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


def run_release(
    app_dir: Path,
    workdir: Path,
    command: str,
    env: dict[str, str],
    report: RehearsalReport,
    tell: Callable[[str], None],
) -> None:
    """The Procfile's ``release`` command, after the build and before any dyno starts."""
    log_file = workdir / "release.log"
    tell(f"release phase: `{command}`")
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "-c", f"exec >>{shlex.quote(str(log_file))} 2>&1\n{command}"],
        cwd=app_dir,
        env={**env, "DYNO": "release.1"},
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code: int | None = process.wait(timeout=RELEASE_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        code = None
    except BaseException:
        # Ctrl-C: the release runs in its own session (the terminal's SIGINT never reaches it),
        # so it would outlive the rehearsal, writing to the add-on database from a removed folder.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    lines = log_lines(log_file)
    release = ProcessReport(
        "release",
        command,
        "done" if code == 0 else "failed",
        round(time.monotonic() - started, 2),
        code,
        lines[-40:],
    )
    report.release = release
    if code == 0:
        return
    cause = crash_cause(lines, [app_dir])
    what = f"exited with code {code}" if code is not None else f"ran over {RELEASE_TIMEOUT:g} s"
    detail = f": {cause.describe()}" if cause else (f": {lines[-1]}" if lines else "")
    raise RehearsalFailed(
        "release-failed",
        f"the release command `{command}` {what}{detail}",
        cause_fix(cause, report.config)
        or "fix the command (it runs with the app's config vars, after the build); its output "
        "is below.",
        "Release command failed: the release is not deployed (the previous one keeps running).",
        cause,
    )


class OtherProcesses:
    """The Procfile's other process types, each started as its own dyno."""

    def __init__(self) -> None:
        self.running: list[tuple[ProcessReport, WebProcess, Path]] = []
        self.started_at = 0.0

    def start(
        self,
        app_dir: Path,
        workdir: Path,
        processes: dict[str, Any],
        env: dict[str, str],
        tell: Callable[[str], None],
    ) -> None:
        self.started_at = time.monotonic()
        for name, process in processes.items():
            if name in ("web", "release"):
                continue
            log_file = workdir / f"{name}.log"
            command = f"exec >>{shlex.quote(str(log_file))} 2>&1\n{process.command}"
            child = WebProcess(command, cwd=app_dir, env={**env, "DYNO": f"{name}.1"})
            tell(f"starting {name}: `{process.command}`")
            child.start()
            self.running.append((ProcessReport(name, process.command, "up"), child, log_file))

    def crashed(self) -> ProcessReport | None:
        for report, child, log_file in self.running:
            if not child.alive:
                report.state = "crashed"
                report.returncode = child.returncode()
                report.seconds = round(time.monotonic() - self.started_at, 2)
                report.log_tail = log_lines(log_file)[-40:]
                return report
        return None

    def watch(self, seconds: float = PROCESS_WATCH) -> ProcessReport | None:
        """Wait until each has been up ``seconds``; the first that exits is returned."""
        while self.running:
            crashed = self.crashed()
            if crashed is not None:
                return crashed
            if time.monotonic() - self.started_at >= seconds:
                break
            time.sleep(0.1)
        for report, _child, log_file in self.running:
            report.seconds = round(time.monotonic() - self.started_at, 2)
            report.log_tail = log_lines(log_file)[-10:]
        return None

    def stop(self, timeout: float) -> None:
        for _report, child, _log in self.running:
            child.stop(timeout)


def process_failure(crashed: ProcessReport, app_dir: Path) -> RehearsalFailed:
    cause = crash_cause(crashed.log_tail, [app_dir])
    detail = f": {cause.describe()}" if cause else ""
    return RehearsalFailed(
        "process-crashed",
        f"the {crashed.name} process exited with code {crashed.returncode} after "
        f"{crashed.seconds:g} s (it must stay up){detail}",
        cause_fix(cause, {})
        or f"fix `{crashed.command}` so it keeps running (Heroku restarts a crashed "
        "dyno with a growing delay).",
        "H10-like: the dyno crashes and restarts (State changed from up to crashed)",
        cause,
    )


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
    config: dict[str, str] | None = None,
    all_routes: bool = True,
    tree: str | None = None,
) -> None:
    from homedeploy.project.procfile import read_procfile

    procfile = read_procfile(app_dir / "Procfile")
    web = procfile.web
    assert web is not None
    port = _free_port()
    log_file = workdir / "web.log"
    report.port, report.log_file = port, str(log_file)
    env = dyno_environment(app_dir, venv_dir, port, config)
    # The log goes to a file, so a kept process outlives homedeploy without losing its output.
    command = f"exec >>{shlex.quote(str(log_file))} 2>&1\n{web.command}"
    process = WebProcess(command, cwd=app_dir, env=env)
    tell(f"starting `{web.command}` with PORT={port} WEB_CONCURRENCY={env['WEB_CONCURRENCY']}")
    booting = time.monotonic()
    process.start()
    report.pid = process.pid
    listing_key = _listing_key(report, tree, web.command, config or {})
    cached = _cached_listing(listing_key) if all_routes and listing_key else None
    lister: Any = None
    if cached is None and all_routes:
        lister = _start_route_lister(app_dir, venv_dir, web.command, env, report)
    others = OtherProcesses()
    others.start(app_dir, workdir, procfile.processes, {**env, "PORT": str(_free_port())}, tell)
    stopped = False
    try:
        try:
            report.boot_seconds = round(process.wait_until_bound(port, boot_timeout), 3)
        except CheckFailed as error:
            process.stop(stop_timeout)
            stopped = True
            raise _boot_failure(
                log_lines(log_file), app_dir, error, report.config, venv_dir, report.package_manager
            ) from None
        report.probes = [probe_route(port, path, REQUEST_TIMEOUT, log_file) for path in paths]
        report.phases["boot"] = round(time.monotonic() - booting, 3)
        if not process.alive:
            process.stop(stop_timeout)
            stopped = True
            raise _boot_failure(
                log_lines(log_file),
                app_dir,
                CheckFailed("the web process exited after binding"),
                report.config,
                venv_dir,
                report.package_manager,
            )
        failed = [p for p in report.probes if not p.ok]
        if failed:
            lines = log_lines(log_file)
            if any("Traceback" in line for line in lines) and not failed[0].status:
                raise _boot_failure(
                    lines,
                    app_dir,
                    CheckFailed("no answer"),
                    report.config,
                    venv_dir,
                    report.package_manager,
                )
            detail = f"HTTP {failed[0].status}" if failed[0].status else failed[0].error
            cause = crash_cause(lines, [app_dir])
            raise RehearsalFailed(
                "http-error",
                f"GET {failed[0].path} failed: {detail}"
                + (f": {cause.describe()}" if cause else "."),
                cause_fix(cause, report.config)
                or "read the log below; a 500 comes with a traceback.",
                "H10/H12/H13 depending on the error",
                cause,
            )
        with phase(report, "routes"):
            if lister is not None or cached is not None:
                listing = cached if cached is not None else lister.result()
                if cached is None and listing_key and not listing.error:
                    _store_listing(listing_key, listing)
                _probe_routes(listing, port, paths, log_file, report, app_dir, tell)
            report.rss_bytes = _settled_rss(process, env)
        with phase(report, "processes"):
            crashed = others.watch()
        report.processes = [entry[0] for entry in others.running]
        if crashed is not None:
            raise process_failure(crashed, app_dir)
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
        with phase(report, "stop"):
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
        if lister is not None:
            lister.kill()
        if not keep or not report.url:
            others.stop(stop_timeout)
        if not stopped and not (keep and report.url):
            process.stop(stop_timeout)


def _start_route_lister(
    app_dir: Path, venv_dir: Path, web_command: str, env: dict[str, str], report: RehearsalReport
) -> Any:
    from homedeploy.project.procfile import parse_gunicorn
    from homedeploy.runtime.routes import RouteLister

    gunicorn = parse_gunicorn(web_command)
    python = venv_dir / "bin" / "python"
    if gunicorn is None or not gunicorn.target or not python.exists():
        report.routes_note = "only / was requested: the web command does not run gunicorn"
        return None
    cwd = app_dir / gunicorn.chdir if gunicorn.chdir else app_dir
    sys_path = [str(cwd / entry) for entry in gunicorn.pythonpath]
    try:
        return RouteLister(python, gunicorn.target, cwd, env, sys_path)
    except OSError as error:
        report.routes_note = f"the routes could not be read: {error.strerror}"
        return None


def _settled_rss(process: WebProcess, env: dict[str, str], limit: float = 1.5) -> int | None:
    """The web process tree's RSS once its workers are up: polled every 50 ms until the tree has
    its master and ``WEB_CONCURRENCY`` workers (for gunicorn) and two readings agree within 2 %,
    or ``limit`` seconds passed (a server without workers settles at once)."""
    from homedeploy.runtime.serving import process_tree_rss

    pid = process.pid
    if pid is None:
        return None
    try:
        workers = int(env.get("WEB_CONCURRENCY", "1"))
    except ValueError:
        workers = 1
    deadline = time.monotonic() + limit
    previous = process.rss_bytes()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        current = process.rss_bytes()
        if current is None or previous is None:
            return current
        grown = _tree_size(pid) >= 1 + workers or _tree_size(pid) <= 1
        if grown and abs(current - previous) <= 0.02 * previous:
            return max(current, process_tree_rss(pid) or 0)
        previous = current
    return process.rss_bytes()


def _tree_size(pid: int) -> int:
    """Processes in the tree of ``pid`` below the shell (``bash -c`` execs the command)."""
    count, pending = 0, [pid]
    while pending:
        current = pending.pop()
        count += 1
        try:
            text = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        pending.extend(int(part) for part in text.split())
    return count


ROUTES_SECTION = "rehearsal-routes"


VOLATILE_SOURCES = ("heroku-", "app.json generator")
"""Config var sources whose values change every rehearsal (an add-on's port and password, a
generated secret): the url_map key holds their source, not their value."""


def _listing_key(
    report: RehearsalReport, tree: str | None, web_command: str, config: dict[str, str]
) -> str | None:
    """What the url_map depends on, hashed: the commit's files (its git tree), the venv (the
    build key), the web command and the config vars. Reading the url_map imports the app a
    second time (seconds for a big app, on a 2-core machine while the web process boots), so a
    listing read for the same key is reused. None (always read it) when any part is unknown."""
    import hashlib
    import json

    if not report.build_key or not tree:
        return None
    stable = {}
    for name, value in sorted(config.items()):
        source = report.config.get(name, "")
        stable[name] = f"<{source}>" if source.startswith(VOLATILE_SOURCES) else value
    text = json.dumps([tree, report.build_key, web_command, stable], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _cached_listing(key: str) -> Any:
    from homedeploy.requirements.cache import read_entry
    from homedeploy.runtime.routes import RouteListing

    entry = read_entry(ROUTES_SECTION, key)
    routes = entry.get("routes") if entry else None
    if not isinstance(routes, list):
        return None
    return RouteListing(routes=[str(route) for route in routes])


def _store_listing(key: str, listing: Any) -> None:
    from homedeploy.requirements.cache import write_entry

    write_entry(ROUTES_SECTION, key, {"routes": list(listing.routes)})


def _probe_routes(
    listing: Any,
    port: int,
    paths: list[str],
    log_file: Path,
    report: RehearsalReport,
    app_dir: Path,
    tell: Callable[[str], None],
) -> None:
    """GET each route of ``listing``, one after the other: requests at once would interleave
    their log lines, and a 5xx must come with the lines of its own request (a sweep of a dozen
    routes takes a fraction of a second anyway)."""
    from homedeploy.runtime.routes import MAX_ROUTES, probe_route
    from homedeploy.runtime.serving import REQUEST_TIMEOUT

    if listing.error:
        report.routes_note = f"only / was requested: {listing.error}"
        return
    routes = [route for route in listing.routes if route not in paths]
    if len(routes) > MAX_ROUTES:
        report.routes_note = f"{len(routes)} routes; the first {MAX_ROUTES} were requested"
        routes = routes[:MAX_ROUTES]
    tell(f"requesting {len(routes)} more route(s) from the app's url_map")
    for route in ["/", *routes] if "/" not in paths else routes:
        probe = probe_route(port, route, REQUEST_TIMEOUT, log_file)
        report.routes.append(probe)
    failed = [probe for probe in report.routes if not probe.ok]
    if not failed:
        return
    first = failed[0]
    cause = crash_cause(first.log, [app_dir])
    detail = f"HTTP {first.status}" if first.status is not None else first.error
    others = f" ({len(failed) - 1} more route(s) failed too)" if len(failed) > 1 else ""
    raise RehearsalFailed(
        "route-error",
        f"GET {first.path} failed: {detail}{others}" + (f": {cause.describe()}" if cause else "."),
        cause_fix(cause, report.config)
        or "fix the view behind that route; its log lines are below.",
        "H500-like: the router passes the app's 500 to the visitor (and H12/H13 on timeouts)",
        cause,
    )
