"""Which package manager Heroku's Python buildpack will build a project with, read as v351 reads it.

The buildpack (``lib/package_manager.sh``) picks exactly one of ``Pipfile.lock`` (Pipenv),
``requirements.txt`` (pip), ``poetry.lock`` (Poetry) and ``uv.lock`` (uv) by file presence, and
stops with its own error when there are several, none, a ``Pipfile`` without its lock, or only a
``setup.py``. This module answers that question once for doctor, check-reqs, init and the
rehearsal, with the tool versions and install commands the buildpack pins (``requirements/*.txt``,
``lib/{pip,uv,poetry,pipenv}.sh``), so a local build runs what Heroku runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Manager = Literal["pip", "uv", "poetry", "pipenv"]
ManagerCode = Literal[
    "pipfile-without-lock", "multiple-package-managers", "setup-py-only", "no-package-manager"
]
MANAGERS: tuple[Manager, ...] = ("pip", "uv", "poetry", "pipenv")

MANAGER_FILES: tuple[tuple[str, Manager], ...] = (
    ("Pipfile.lock", "pipenv"),
    ("requirements.txt", "pip"),
    ("poetry.lock", "poetry"),
    ("uv.lock", "uv"),
)
"""The package-manager files, in the order the buildpack lists them."""

LOCK_FILE: dict[Manager, str] = {
    "pip": "requirements.txt",
    "pipenv": "Pipfile.lock",
    "poetry": "poetry.lock",
    "uv": "uv.lock",
}
MANIFEST: dict[Manager, str] = {
    "pip": "requirements.txt",
    "pipenv": "Pipfile",
    "poetry": "pyproject.toml",
    "uv": "pyproject.toml",
}
DISPLAY: dict[Manager, str] = {"pip": "pip", "uv": "uv", "poetry": "Poetry", "pipenv": "Pipenv"}

TOOL_VERSIONS: dict[Manager, str] = {
    "pip": "26.2.1",
    "pipenv": "2026.7.1",
    "poetry": "2.4.1",
    "uv": "0.12.5",
}
"""The versions buildpack v351 installs (its ``requirements/<tool>.txt``)."""

SETUPTOOLS_VERSION = "70.3.0"
"""Installed beside pip on Python 3.10-3.12 (``lib/pip.sh``)."""

SHOWN_COMMAND: dict[Manager, str] = {
    "pip": "pip install -r requirements.txt",
    "uv": "uv sync --locked --no-default-groups",
    "poetry": "poetry sync --only main",
    "pipenv": "pipenv install --deploy",
}
"""The command the build log shows (``Installing dependencies using '...'``)."""

BUILD_ARGS: dict[Manager, tuple[str, ...]] = {
    "pip": (
        "install",
        "-r",
        "requirements.txt",
        "--exists-action=w",
        "--no-cache-dir",
        "--no-input",
        "--progress-bar",
        "off",
    ),
    "uv": (
        "sync",
        "--locked",
        "--no-default-groups",
        "--compile-bytecode",
        "--no-progress",
    ),
    "poetry": ("sync", "--only", "main", "--compile", "--no-ansi", "--no-interaction"),
    "pipenv": ("install", "--deploy"),
}
"""The full arguments each ``lib/<tool>.sh`` passes (``--src`` aside: Heroku's path only)."""

INSTALL_FAILED: dict[Manager, str] = {
    tool: f"Error: Unable to install dependencies using {DISPLAY[tool]}." for tool in MANAGERS
}

NONE_FOUND = "Error: Couldn't find any supported Python package manager files."
SEVERAL_FOUND = "Error: Multiple Python package manager files were found."
PIPFILE_WITHOUT_LOCK = "Error: No 'Pipfile.lock' found!"
SETUP_PY_ONLY = "Error: Implicit setup.py file support has been sunset."


@dataclass(frozen=True)
class ManagerProblem:
    """Why the buildpack stops before installing anything (its headline, verbatim)."""

    code: ManagerCode
    message: str
    headline: str
    path: str | None
    fix: str


@dataclass(frozen=True)
class ManagerChoice:
    """The package manager the buildpack will use (``tool``), or the error it stops with."""

    tool: Manager | None
    found: tuple[tuple[str, Manager], ...] = ()
    problem: ManagerProblem | None = None

    @property
    def lock_file(self) -> str | None:
        return LOCK_FILE[self.tool] if self.tool else None

    @property
    def version(self) -> str | None:
        return TOOL_VERSIONS[self.tool] if self.tool else None

    @property
    def command(self) -> str | None:
        return SHOWN_COMMAND[self.tool] if self.tool else None


def _is_file(root: Path, name: str, names: frozenset[str]) -> bool:
    """``[[ -f ]]`` with exact case (a symlink to a file counts)."""
    return name in names and (root / name).is_file()


def found_managers(root: Path, names: frozenset[str] | None = None) -> list[tuple[str, Manager]]:
    """Every package-manager file at the root, in the buildpack's order."""
    entries = names if names is not None else _names(root)
    return [(name, tool) for name, tool in MANAGER_FILES if _is_file(root, name, entries)]


def _names(root: Path) -> frozenset[str]:
    try:
        return frozenset(os.listdir(root))
    except OSError:
        return frozenset()


def choose_manager(root: Path, names: frozenset[str] | None = None) -> ManagerChoice:
    """``package_manager::determine_package_manager``: the tool, or the error it stops with."""
    entries = names if names is not None else _names(root)
    if _is_file(root, "Pipfile", entries) and not _is_file(root, "Pipfile.lock", entries):
        return ManagerChoice(
            None,
            (),
            ManagerProblem(
                "pipfile-without-lock",
                "Pipfile has no Pipfile.lock; the buildpack installs only from the lock file.",
                PIPFILE_WITHOUT_LOCK,
                "Pipfile",
                "run `pipenv lock` and commit Pipfile.lock (or delete Pipfile and use "
                "requirements.txt).",
            ),
        )
    found = tuple(found_managers(root, entries))
    if len(found) == 1:
        return ManagerChoice(found[0][1], found)
    if len(found) > 1:
        listed = ", ".join(f"{name} ({DISPLAY[tool]})" for name, tool in found)
        generated = [name for name, tool in found if tool == "pip"]
        fix = "keep the one you use and delete the others"
        if generated and len(found) == 2:
            other = next(name for name, tool in found if tool != "pip")
            fix = (
                f"keep {other} and delete requirements.txt (a requirements.txt generated from a "
                f"lock file must not be committed beside it), or keep requirements.txt and "
                f"delete {other}" + (" and Pipfile" if other == "Pipfile.lock" else "")
            )
        return ManagerChoice(
            None,
            found,
            ManagerProblem(
                "multiple-package-managers",
                f"Several package-manager files: {listed}; the buildpack needs exactly one.",
                SEVERAL_FOUND,
                found[1][0],
                fix + ".",
            ),
        )
    if _is_file(root, "setup.py", entries):
        return ManagerChoice(
            None,
            (),
            ManagerProblem(
                "setup-py-only",
                "Only setup.py: the buildpack no longer installs a project from setup.py alone.",
                SETUP_PY_ONLY,
                "setup.py",
                "add a requirements.txt containing the line `--editable .`.",
            ),
        )
    return ManagerChoice(
        None,
        (),
        ManagerProblem(
            "no-package-manager",
            "No requirements.txt, Pipfile.lock, poetry.lock or uv.lock at the root.",
            NONE_FOUND,
            None,
            "write a requirements.txt listing what the app imports (`homedeploy check-reqs` "
            "turns a pip freeze into one), or commit your uv.lock / poetry.lock / Pipfile.lock.",
        ),
    )


def manager_files_present(root: Path) -> set[str]:
    """Names of every file that belongs to some package manager (manifests and locks)."""
    names = _names(root)
    candidates = {"requirements.txt", "Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock"}
    return {name for name in candidates if _is_file(root, name, names)}


@dataclass(frozen=True)
class ProjectManager:
    """The manager a project uses for homedeploy's purposes: the buildpack's choice, else what
    its manifests say (a ``pyproject.toml`` with ``[tool.poetry]``, ``[tool.uv]``...)."""

    tool: Manager | None
    decided_by: str  # the file that decides it, or "" when nothing does
    conflicts: list[str] = field(default_factory=list)


def project_manager(root: Path) -> ProjectManager:
    """The manager the project uses, for commands that must not add a second one (init,
    check-reqs --write): the buildpack's choice when there is one, else the manifests."""
    choice = choose_manager(root)
    if choice.tool is not None:
        return ProjectManager(choice.tool, LOCK_FILE[choice.tool])
    if choice.found:
        return ProjectManager(None, "", [name for name, _tool in choice.found])
    if (root / "Pipfile").is_file():
        return ProjectManager("pipenv", "Pipfile")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        from homedeploy.project.pyproject import read_pyproject

        data = read_pyproject(pyproject)
        tool_table = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
        if "poetry" in tool_table:
            return ProjectManager("poetry", "pyproject.toml")
        if "uv" in tool_table or "dependency-groups" in data:
            return ProjectManager("uv", "pyproject.toml")
    return ProjectManager(None, "")
