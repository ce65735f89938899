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


def interpreter_version(path: str) -> str | None:
    """``X.Y.Z`` of the Python at ``path``, or None when it does not run (15 s at most)."""
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
            version = interpreter_version(path)
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


def stream_output(
    command: list[str],
    on_line: Callable[[str], None],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    keep: Callable[[str], bool] = bool,
) -> tuple[int, list[str]]:
    """Run ``command`` (pip, usually) with its output merged, each kept line to ``on_line``.

    Returns the exit code and the kept lines (callers show the last ones on a failure). Raises
    :class:`OSError` when the command cannot start. Used by ``init --venv``, ``serve``'s venv
    sync and the rehearsal's build, so pip's output is read and shown the same way everywhere.
    """
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PIP_PROGRESS_BAR": "off", **(env or {})},
        cwd=cwd,  # pip resolves `-e .` and other relative paths from here
    )
    lines: list[str] = []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.rstrip()
        if keep(line):
            lines.append(line)
            on_line(line)
    return process.wait(), lines


def _run(
    command: list[str], tell: Callable[[str], None], what: str, cwd: Path | None = None
) -> None:
    try:
        code, lines = stream_output(command, tell, cwd=cwd)
    except OSError as error:
        raise ProjectError(f"could not {what}: {error.strerror}") from error
    if code != 0:
        tail = "\n".join(lines[-8:])
        raise ProjectError(
            f"could not {what} (exit code {code}):\n{tail}",
            fix="read pip's message above; `homedeploy check-reqs --write` fixes most "
            "requirements problems.",
        )


@dataclass(frozen=True)
class VenvSync:
    """What :func:`ensure_project_venv` did: ``created``, ``synced``, or ``fresh`` (nothing)."""

    action: str
    path: str
    requirements: str
    python: str
    seconds: float
    unsatisfied: tuple[str, ...] = ()
    interpreter_matches: bool = True


def _site_packages(venv_dir: Path) -> list[Path]:
    return sorted(venv_dir.glob("lib/python*/site-packages")) + sorted(
        venv_dir.glob("Lib/site-packages")
    )


def unsatisfied_requirements(venv_dir: Path, requirements: Path) -> list[str]:
    """The lines of ``requirements`` that the venv's installed distributions do not satisfy.

    Read from the venv's own distribution metadata (``importlib.metadata`` on its
    site-packages, no subprocess). Lines this cannot judge (URLs, paths, ``-e``, ``-r``
    includes, options) are left out: a heuristic, so only what is certainly missing or at the
    wrong version counts. Markers are evaluated for the venv's Python version.
    """
    from importlib.metadata import distributions

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    installed: dict[str, str] = {}
    for dist in distributions(path=[str(p) for p in _site_packages(venv_dir)]):
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            installed[canonicalize_name(name)] = dist.version
    python = None
    config = venv_dir / "pyvenv.cfg"
    if config.is_file():
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                python = ".".join(value.strip().split(".")[:2])
    missing: list[str] = []
    try:
        text = requirements.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.url:
            continue
        env = {"python_version": python} if python else None
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        version = installed.get(canonicalize_name(requirement.name))
        if version is None or (
            requirement.specifier and not requirement.specifier.contains(version, prereleases=True)
        ):
            missing.append(line)
    return missing


def ensure_project_venv(
    project_dir: Path,
    python_major: str | None,
    *,
    progress: Callable[[str], None] | None = None,
) -> VenvSync | None:
    """Like ``uv run``: make ``.venv`` match ``requirements.txt`` before the app runs.

    Without ``.venv``, it is created with an interpreter for ``python_major`` (or this one,
    said so) and the requirements are installed; a ``.venv`` whose installed packages no longer
    satisfy the requirements is synced with ``pip install -r``. None when the project has no
    requirements.txt (nothing to build from). The new ``.venv`` holds a ``.gitignore`` of
    ``*``, so it is never committed by accident.
    """
    import time

    requirements = project_dir / "requirements.txt"
    if not requirements.is_file():
        return None
    venv_dir = project_dir / ".venv"
    started = time.monotonic()
    if project_venv(project_dir) is None:
        if venv_dir.exists() and any(venv_dir.iterdir()):
            raise ProjectError(
                ".venv exists but holds no working Python",
                path=venv_dir,
                fix="remove it (rm -r .venv) and run again: homedeploy rebuilds it.",
            )
        interpreter = find_interpreter(python_major)
        create_venv(venv_dir, interpreter, requirements, progress=progress, cwd=project_dir)
        (venv_dir / ".gitignore").write_text("# created by homedeploy\n*\n", encoding="utf-8")
        return VenvSync(
            "created",
            str(venv_dir),
            requirements.name,
            interpreter.version,
            round(time.monotonic() - started, 1),
            interpreter_matches=interpreter.matches,
        )
    python = interpreter_version(str(venv_python(venv_dir))) or "?"
    missing = unsatisfied_requirements(venv_dir, requirements)
    if not missing:
        return VenvSync("fresh", str(venv_dir), requirements.name, python, 0.0)
    tell = progress or (lambda _line: None)
    tell(f"syncing .venv with {requirements.name} ({len(missing)} not satisfied)")
    command = [str(venv_python(venv_dir)), "-m", "pip", "install", "--disable-pip-version-check"]
    _run([*command, "-r", str(requirements)], tell, f"install {requirements.name}", project_dir)
    return VenvSync(
        "synced",
        str(venv_dir),
        requirements.name,
        python,
        round(time.monotonic() - started, 1),
        tuple(missing),
    )
