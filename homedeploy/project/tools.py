"""The buildpack's own tools (uv, Poetry, Pipenv, pip) at the versions it pins, installed on demand.

A lock file is "fresh" only if the tool that reads it on Heroku says so, and a local build only
proves something if it runs the same tool, version and command. So each tool is installed once,
from the package index pip is configured with, into a venv under homedeploy's cache
(``<cache>/tools/<tool>-<version>``), the way ``lib/<tool>.sh`` installs it: its own venv,
``pip install <tool>==<version>``. Installs are serialised with a file lock and marked done
only at the end, so parallel runs never use half a tool.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import HomedeployError, NetworkError
from homedeploy.project.package_manager import TOOL_VERSIONS, Manager

INSTALL_TIMEOUT = 600
"""Total seconds for one tool install (pip's own connect/read time-outs are shorter)."""
RUN_TIMEOUT = 300
"""Default total seconds for one tool run (lock checks are far quicker)."""


@dataclass(frozen=True)
class Tool:
    """An installed tool: the executable, the venv's Python, the version."""

    name: Manager
    version: str
    executable: Path
    python: Path


class ToolUnavailable(HomedeployError):
    """The tool is not cached and could not (or may not, offline) be installed."""

    exit_code = 3


def tools_root() -> Path:
    """``HOMEDEPLOY_TOOLS_DIR``, else ``tools/`` in homedeploy's cache folder."""
    from homedeploy import settings

    override = settings.tools_dir_override()
    if override is not None:
        return override
    from homedeploy.requirements.cache import cache_root

    return cache_root() / "tools"


def _folder(name: Manager, version: str) -> Path:
    major = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return tools_root() / f"{name}-{version}-py{major}"


def _tool_from(folder: Path, name: Manager, version: str) -> Tool:
    bin_dir = folder / ("Scripts" if os.name == "nt" else "bin")
    return Tool(name, version, bin_dir / name, bin_dir / "python")


def cached_tool(name: Manager) -> Tool | None:
    """The tool when it is already installed (no network)."""
    version = TOOL_VERSIONS[name]
    folder = _folder(name, version)
    tool = _tool_from(folder, name, version)
    if (folder / ".installed").is_file() and tool.executable.exists():
        return tool
    return None


def ensure_tool(name: Manager, *, offline: bool = False) -> Tool:
    """The buildpack's ``name`` at its pinned version, installing it first when needed.

    Raises :class:`ToolUnavailable` when it is not cached and ``offline``, or pip fails.
    """
    found = cached_tool(name)
    if found is not None:
        return found
    version = TOOL_VERSIONS[name]
    if offline:
        raise ToolUnavailable(
            f"{name} {version} (the version Heroku's buildpack uses) is not installed in "
            f"{tools_root()}, and --offline forbids installing it",
            fix=f"run once without --offline to install {name} {version}.",
        )
    root = tools_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = _folder(name, version)
    with _install_lock(root / f".{folder.name}.lock"):
        found = cached_tool(name)
        if found is not None:
            return found
        # A folder without the marker is a half-finished install (interrupted): start again.
        shutil.rmtree(folder, ignore_errors=True)
        try:
            _install(folder, name, version)
            _run_pip_install(folder, name, version)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        (folder / ".installed").write_text(f"{name}=={version}\n", encoding="utf-8")
    tool = cached_tool(name)
    assert tool is not None
    return tool


def _install(folder: Path, name: Manager, version: str) -> None:
    step = [sys.executable, "-m", "venv", str(folder)]
    done = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    if done.returncode != 0:
        raise ToolUnavailable(
            f"could not create a venv for {name}: {done.stderr.strip()[-500:]}",
            fix="check that the venv module works (`python3 -m venv /tmp/x`).",
        )


def _run_pip_install(folder: Path, name: Manager, version: str) -> None:
    python = _tool_from(folder, name, version).python
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command.append(f"{name}=={version}")
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise NetworkError(
            f"installing {name} {version} took over {INSTALL_TIMEOUT} s",
            fix="check the network and pip's index settings (pip config list).",
        ) from None
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        raise ToolUnavailable(
            f"could not install {name} {version} (the version Heroku's buildpack uses): "
            + (" ".join(errors) or done.stderr.strip()[-500:]),
            fix="check the network and pip's index settings (pip config list), then retry.",
        )


class _install_lock:
    """An exclusive ``fcntl`` lock on a file (no-op where fcntl is missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: int | None = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        self.handle = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            os.close(self.handle)


@dataclass(frozen=True)
class ToolRun:
    """What a tool printed and its exit code."""

    command: list[str]
    returncode: int
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 8) -> str:
        kept = [line for line in self.output.splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


def tool_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a tool runs in: ours, quiet, without colour, never prompting."""
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "PIP_NO_INPUT": "1",
        "PIPENV_VERBOSITY": "-1",
        "PIPENV_NOSPIN": "1",
        "PIPENV_YES": "1",
        "UV_NO_PROGRESS": "1",
        "UV_PYTHON_DOWNLOADS": "never",
    }
    env.pop("VIRTUAL_ENV", None)
    env.update(extra or {})
    return env


def run_tool(
    command: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = RUN_TIMEOUT,
    progress: object = None,
) -> ToolRun:
    """Run ``command`` in ``cwd`` with a total deadline; output is stdout and stderr merged.

    ``progress`` (a callable taking a line) gets each line as it arrives.
    """
    import selectors
    import time

    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env if env is not None else tool_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
    except OSError as error:
        return ToolRun(command, 127, f"{command[0]}: {error.strerror}")
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        if not selector.select(min(remaining, 1.0)):
            if process.poll() is not None:
                break
            continue
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if callable(progress) and line.strip():
            progress(line.rstrip())
    selector.close()
    if timed_out:
        import signal

        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    try:
        returncode = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        returncode = process.wait()
    process.stdout.close()
    return ToolRun(command, returncode, "".join(lines), timed_out)
