"""The rehearsal's build: Heroku's exact Python, and a venv installed by one shared pip.

Heroku builds with the patch release the buildpack resolves ``.python-version`` to (3.14 ->
3.14.7). The rehearsal looks for that interpreter where developers install Pythons (PATH, pyenv,
uv-managed), asks ``uv python install`` for it when uv is there (it downloads, so it may fail
offline), and otherwise takes the nearest installed minor and says loudly that the rehearsal is
approximate. check-reqs pins requirements.txt for Heroku's Python; when the rehearsal runs another
minor and those pins do not install on it, the build is resolved again for this interpreter from
the same top-level requirements (requirements.in, or requirements.txt without its pins), so a pin
that is right for Heroku never fails the rehearsal by itself, and the report says so.

Speed: ``python -m venv`` with ensurepip spends seconds installing pip into every venv before any
package is installed. The venv is made ``--without-pip`` and installed into by the pip that runs
homedeploy, through pip's own ``--python`` option: still pip, same resolver and same wheels cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from homedeploy.errors import HomedeployError
from homedeploy.fileio import read_bytes
from homedeploy.project.python_version import LATEST_PATCH, RequestedPython
from homedeploy.project.venv import (
    Interpreter,
    find_interpreter,
    interpreter_version,
    stream_output,
)

UV_INSTALL_TIMEOUT = 180.0


class BuildFailed(HomedeployError):
    """pip could not install the requirements (its last lines are in the message)."""


@dataclass(frozen=True)
class PythonChoice:
    """The interpreter the rehearsal builds with, and how it relates to Heroku's."""

    interpreter: Interpreter
    heroku_version: str  # X.Y.Z the buildpack would install
    exact: bool  # the same X.Y.Z
    source: str  # where it was found: "PATH", "pyenv", "uv-managed", "uv python install", ...
    note: str = ""

    @property
    def same_minor(self) -> bool:
        return self.interpreter.major == ".".join(self.heroku_version.split(".")[:2])


@dataclass
class BuildOutcome:
    installed_from: str
    notes: list[str] = field(default_factory=list)


def uv_binary() -> str | None:
    """uv on PATH, or the one installed as a Python package beside homedeploy."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else None


def _exact_candidates(version: str) -> list[tuple[str, str]]:
    """(path, source) of interpreters that may be exactly ``version`` (X.Y.Z)."""
    major = ".".join(version.split(".")[:2])
    found: list[tuple[str, str]] = [(sys.executable, "homedeploy's own interpreter")]
    on_path = shutil.which(f"python{major}")
    if on_path and "/shims/" not in on_path:  # pyenv's shims: its versions folder is read below
        found.append((on_path, "PATH"))
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions" / version
    found.append((str(pyenv / "bin" / f"python{major}"), "pyenv"))
    uv_root = Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local" / "share" / "uv" / "python")
    )
    if uv_root.is_dir():
        for folder in sorted(uv_root.glob(f"cpython-{version}-*")):
            found.append((str(folder / "bin" / f"python{major}"), "uv-managed"))
    for prefix in ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin"):
        found.append((f"{prefix}/python{major}", prefix))
    return [(path, source) for path, source in found if Path(path).exists()]


def _find_exact(version: str) -> tuple[Interpreter, str] | None:
    major = ".".join(version.split(".")[:2])
    for path, source in _exact_candidates(version):
        if interpreter_version(path) == version:
            return Interpreter(path, version, major, True), source
    return None


def _uv_install(version: str) -> tuple[Interpreter | None, str]:
    """``uv python install VERSION``; (interpreter, "") or (None, why it could not)."""
    uv = uv_binary()
    if uv is None:
        return None, "uv is not installed"
    try:
        done = subprocess.run(
            [uv, "python", "install", version],
            capture_output=True,
            text=True,
            timeout=UV_INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            # No retries: where nothing can be downloaded (offline, a closed network) uv's
            # default retries cost ~5 s per rehearsal before saying so.
            env={**os.environ, "UV_HTTP_RETRIES": "0"},
        )
    except subprocess.TimeoutExpired:
        return None, f"`uv python install {version}` ran over {UV_INSTALL_TIMEOUT:g} s"
    except OSError as error:
        return None, f"uv could not run: {error.strerror}"
    if done.returncode != 0:
        last = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = last[-1].removeprefix("Caused by:").removeprefix("cause:").strip() if last else "?"
        return None, f"`uv python install {version}` failed: {reason}"
    found = subprocess.run(
        [uv, "python", "find", version], capture_output=True, text=True, timeout=30
    )
    path = found.stdout.strip()
    if found.returncode == 0 and path and interpreter_version(path) == version:
        return Interpreter(path, version, ".".join(version.split(".")[:2]), True), ""
    return None, f"uv installed {version} but `uv python find` did not return it"


def _nearest(major: str) -> Interpreter:
    """The installed interpreter closest to ``major``: the same minor first, then the nearest
    minor (the older on a tie), homedeploy's own as the last resort."""
    wanted = int(major.split(".")[1])
    same = find_interpreter(major)
    if same.matches:
        return same
    minors = sorted(
        {int(m.split(".")[1]) for m in LATEST_PATCH} | {wanted - 1, wanted - 2, wanted + 1}
    )
    found: list[Interpreter] = []
    for minor in minors:
        candidate = find_interpreter(f"3.{minor}")
        if candidate.matches:
            found.append(candidate)
    if not found:
        return find_interpreter(None)
    return min(found, key=lambda i: (abs(int(i.major.split(".")[1]) - wanted), i.major))


def heroku_python(requested: RequestedPython, *, try_uv: bool = True) -> PythonChoice:
    """The interpreter for the rehearsal (see the module doc)."""
    version = requested.full or LATEST_PATCH.get(requested.major, requested.major + ".0")
    exact = _find_exact(version)
    if exact is not None:
        return PythonChoice(exact[0], version, True, exact[1])
    why = "uv is not installed"
    if try_uv:
        installed, why = _uv_install(version)
        if installed is not None:
            return PythonChoice(installed, version, True, "uv python install")
    nearest = _nearest(requested.major)
    if nearest.major == requested.major:
        note = (
            f"APPROXIMATE (patch): Heroku will build with Python {version}; this rehearsal used "
            f"{nearest.version}, the same minor ({version} is not installed here; {why}). For "
            f"an exact one: `uv python install {version}` or `pyenv install {version}`."
        )
        return PythonChoice(nearest, version, False, "nearest installed (same minor)", note)
    note = (
        f"APPROXIMATE: Heroku will build with Python {version}, which is not installed here "
        f"(looked in PATH, pyenv and uv-managed Pythons; {why}); this rehearsal used Python "
        f"{nearest.version}. For an exact one: `uv python install {version}` or `pyenv install "
        f"{version}`."
    )
    return PythonChoice(nearest, version, False, "nearest installed", note)


def _top_level_requirements(app_dir: Path, destination: Path) -> tuple[Path, str] | None:
    """The same top-level requirements without pins: requirements.in, else requirements.txt with
    each ``==`` pin removed (extras, markers, URLs and options kept). None when nothing to relax."""
    from packaging.requirements import InvalidRequirement, Requirement

    source_in = app_dir / "requirements.in"
    if source_in.is_file():
        return source_in, "requirements.in"
    source = app_dir / "requirements.txt"
    try:
        lines = read_bytes(source).decode("utf-8-sig", errors="replace").splitlines()
    except OSError:
        return None
    relaxed, changed = [], False
    for line in lines:
        text = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not text or text.startswith(("#", "-")):
            relaxed.append(text)
            continue
        text = text.split(" --hash", 1)[0].rstrip(" \\")
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            relaxed.append(text)
            continue
        if requirement.url or not requirement.specifier:
            relaxed.append(text)
            continue
        changed = True
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        relaxed.append(f"{requirement.name}{extras}{marker}")
    if not changed:
        return None
    destination.write_text("\n".join(relaxed) + "\n", encoding="utf-8")
    return destination, "requirements.txt without its pins"


def make_bare_venv(venv_dir: Path, interpreter: Interpreter) -> None:
    """``python -m venv --without-pip``: the interpreter's own venv module, no ensurepip."""
    try:
        done = subprocess.run(
            [interpreter.path, "-m", "venv", "--without-pip", str(venv_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildFailed(f"could not create the virtual environment: {error}") from None
    if done.returncode != 0:
        raise BuildFailed(
            f"could not create the virtual environment: {done.stderr.strip()[-400:]}",
            fix=f"check that {interpreter.path} has its venv module (Debian: python3-venv).",
        )


def pip_install(
    venv_dir: Path,
    requirements: Path,
    *,
    cwd: Path,
    progress: Callable[[str], None],
) -> None:
    """Install ``requirements`` into ``venv_dir`` with homedeploy's pip (``pip --python``)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(venv_dir / "bin" / "python"),
        "install",
        "--disable-pip-version-check",
        "--no-input",
        # Bytecode is written by the first import instead (halves pip's time; the verdict is
        # the same: pip's compile step never fails an install).
        "--no-compile",
        "-r",
        str(requirements),
    ]
    try:
        code, lines = stream_output(
            command,
            progress,
            cwd=cwd,
            env={"PIP_NO_INPUT": "1"},
            keep=lambda line: bool(line) and not line.startswith("WARNING: Location "),
        )
    except OSError as error:
        raise BuildFailed(f"could not run pip: {error.strerror}") from error
    if code != 0:
        tail = "\n".join(lines[-8:])
        raise BuildFailed(
            f"could not install {requirements.name} (pip exit code {code}):\n{tail}",
            fix="read pip's message above; `homedeploy check-reqs --write` fixes most "
            "requirements problems.",
        )


def build_rehearsal_venv(
    app_dir: Path,
    venv_dir: Path,
    choice: PythonChoice,
    *,
    progress: Callable[[str], None],
    tell: Callable[[str], None],
) -> BuildOutcome:
    """A bare venv of ``choice``'s interpreter, then requirements.txt by one shared pip."""
    make_bare_venv(venv_dir, choice.interpreter)
    requirements = app_dir / "requirements.txt"
    try:
        pip_install(venv_dir, requirements, cwd=app_dir, progress=progress)
        return BuildOutcome("requirements.txt")
    except BuildFailed as error:
        if choice.same_minor:
            raise
        relaxed = _top_level_requirements(app_dir, venv_dir.parent / "requirements-toplevel.txt")
        if relaxed is None:
            raise
        path, label = relaxed
        tell(
            f"requirements.txt does not install on Python {choice.interpreter.version} "
            f"(pinned for Heroku's {choice.heroku_version}); resolving {label} for it instead"
        )
        shutil.rmtree(venv_dir, ignore_errors=True)
        make_bare_venv(venv_dir, choice.interpreter)
        pip_install(venv_dir, path, cwd=app_dir, progress=progress)
        first = error.message.splitlines()[-1] if error.message else ""
        return BuildOutcome(
            label,
            [
                f"APPROXIMATE BUILD: requirements.txt's pins are for Heroku's Python "
                f"{choice.heroku_version} and did not install on {choice.interpreter.version} "
                f"({first}); the rehearsal installed {label} resolved for "
                f"{choice.interpreter.version}. On Heroku, requirements.txt is what installs."
            ],
        )
