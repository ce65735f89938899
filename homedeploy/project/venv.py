"""Project virtual environments: pick an interpreter, build ``.venv``, install requirements.

Heroku builds with the Python in ``.python-version``; testing locally with the same major avoids
"works on my machine" surprises, so we look for a matching interpreter first (PATH, pyenv, the
usual prefixes) and say plainly when we fall back to another one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import ProjectError


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter and whether it matches the version the project asks for."""

    path: str
    version: str  # X.Y.Z
    requested: str | None
    matches: bool

    @property
    def major(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class VenvResult:
    """What ``create_venv`` built."""

    path: str
    interpreter: Interpreter
    installed_from: str | None
    seconds: float


def venv_bin(venv_dir: Path) -> Path:
    """The folder holding a venv's executables (``bin`` on POSIX, ``Scripts`` on Windows)."""
    return venv_dir / ("Scripts" if os.name == "nt" else "bin")


def venv_python(venv_dir: Path) -> Path:
    return venv_bin(venv_dir) / ("python.exe" if os.name == "nt" else "python")


def project_venv(project_dir: Path) -> Path | None:
    """The project's own ``.venv`` when it holds a working interpreter."""
    candidate = project_dir / ".venv"
    return candidate if venv_python(candidate).exists() else None


def _interpreter_version(path: str) -> str | None:
    try:
        completed = subprocess.run(
            [path, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
            capture_output=True,
            text=True,
            timeout=15,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _candidates(major: str) -> list[str]:
    names = [shutil.which(f"python{major}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv_root.is_dir():
        for version_dir in sorted(pyenv_root.glob(f"{major}.*"), reverse=True):
            names.append(str(version_dir / "bin" / f"python{major}"))
    for prefix in ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"):
        names.append(f"{prefix}/python{major}")
    return [name for name in dict.fromkeys(names) if name and Path(name).exists()]


def find_interpreter(major: str | None) -> Interpreter:
    """An installed interpreter for ``major`` (``"3.12"``), else the one running homedeploy."""
    current = ".".join(map(str, sys.version_info[:3]))
    if major:
        if current.startswith(major + "."):
            return Interpreter(sys.executable, current, major, True)
        for path in _candidates(major):
            version = _interpreter_version(path)
            if version and version.startswith(major + "."):
                return Interpreter(path, version, major, True)
    return Interpreter(sys.executable, current, major, major is None)


def create_venv(
    venv_dir: Path,
    interpreter: Interpreter,
    requirements: Path | None,
    *,
    progress: Callable[[str], None] | None = None,
    pip_args: list[str] | None = None,
    cwd: Path | None = None,
) -> VenvResult:
    """Create ``venv_dir`` with the stdlib venv module of ``interpreter`` and install requirements.

    pip's output is passed line by line to ``progress``; a failure raises ProjectError quoting
    pip's own last lines, since they name the package that failed.
    """
    import time

    started = time.monotonic()
    tell = progress or (lambda _line: None)
    tell(f"creating {venv_dir.name} with Python {interpreter.version}")
    _run([interpreter.path, "-m", "venv", str(venv_dir)], tell, "create the virtual environment")
    if requirements is not None:
        python = str(venv_python(venv_dir))
        command = [python, "-m", "pip", "install", "--disable-pip-version-check", "-r"]
        command += [str(requirements), *(pip_args or [])]
        _run(command, tell, f"install {requirements.name}", cwd=cwd)
    return VenvResult(
        str(venv_dir),
        interpreter,
        str(requirements) if requirements else None,
        round(time.monotonic() - started, 2),
    )


def _run(
    command: list[str], tell: Callable[[str], None], what: str, cwd: Path | None = None
) -> None:
    lines: list[str] = []
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PIP_PROGRESS_BAR": "off"},
            cwd=cwd,  # pip resolves `-e .` and other relative paths from here
        )
    except OSError as error:
        raise ProjectError(f"could not {what}: {error.strerror}") from error
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip()
        if line:
            lines.append(line)
            tell(line)
    if process.wait() != 0:
        tail = "\n".join(lines[-8:])
        raise ProjectError(
            f"could not {what} (exit code {process.returncode}):\n{tail}",
            fix="read pip's message above; `homedeploy check-reqs --write` fixes most "
            "requirements problems.",
        )
