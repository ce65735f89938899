"""Everything doctor's rules read about a project, gathered once and shared.

Each rule is a small function of a :class:`ProjectSnapshot`; the expensive readings (parsing the
Procfile and requirements, scanning the source for the Flask app, asking git) are cached properties,
so a reading costs its price once however many rules use it, and not at all when no rule needs it.
That is what keeps a full ``doctor --offline`` run well under a second.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homedeploy.project.discovery import Discovery
    from homedeploy.project.lock_check import LockStatus
    from homedeploy.project.locked import LockedSet
    from homedeploy.project.package_manager import ManagerChoice
    from homedeploy.project.procfile import Procfile
    from homedeploy.project.pyproject import RequiresPython
    from homedeploy.project.python_version import RequestedPython
    from homedeploy.project.worktree import Worktree
    from homedeploy.requirements.file import RequirementsFile

from homedeploy.project.package_manager import MANAGER_FILES as PACKAGE_MANAGER_FILES

DETECT_NAMES = frozenset(
    {
        ".python-version",
        "__init__.py",
        "app.py",
        "main.py",
        "manage.py",
        "pdm.lock",
        "Pipfile",
        "Pipfile.lock",
        "poetry.lock",
        "pyproject.toml",
        "requirements.txt",
        "runtime.txt",
        "server.py",
        "setup.cfg",
        "setup.py",
        "uv.lock",
        "requeriments.txt",
        "requirement.txt",
        "requirements",
        "requirements.text",
        "Requirements.txt",
        "requirements.txt.txt",
        "requirments.txt",
        "__pycache__",
        ".venv",
        "venv",
    }
)
"""Any of these at the root makes the buildpack's ``bin/detect`` accept the app."""

MISSPELT_REQUIREMENTS = (
    "requeriments.txt",
    "requirement.txt",
    "requirements",
    "requirements.text",
    "Requirements.txt",
    "requirements.txt.txt",
    "requirments.txt",
)


class ProjectSnapshot:
    """A project folder as the rules see it; readings are computed on first use."""

    def __init__(self, root: Path, *, offline: bool = True) -> None:
        self.root = root.resolve()
        self.offline = offline
        self.config_dir = self.root
        """Where the uncommitted ``.env`` is read from (the working tree for a commit's export)."""

    @cached_property
    def names(self) -> frozenset[str]:
        """Entries at the root (files and folders), exact case."""
        try:
            return frozenset(os.listdir(self.root))
        except OSError:
            return frozenset()

    def is_file(self, name: str) -> bool:
        return name in self.names and (self.root / name).is_file()

    @cached_property
    def manager_choice(self) -> ManagerChoice:
        """The buildpack's package-manager decision (``lib/package_manager.sh``)."""
        from homedeploy.project.package_manager import choose_manager

        return choose_manager(self.root, self.names)

    @cached_property
    def package_managers(self) -> list[tuple[str, str]]:
        """(file, tool) for every package-manager file present, buildpack order."""
        return [(name, tool) for name, tool in PACKAGE_MANAGER_FILES if self.is_file(name)]

    @property
    def package_manager(self) -> str | None:
        """The tool the buildpack would use, when exactly one file names it."""
        found = self.package_managers
        return found[0][1] if len(found) == 1 else None

    @cached_property
    def locked(self) -> LockedSet | None:
        """The lock's records for uv, Poetry or Pipenv (None for pip or no single manager)."""
        tool = self.package_manager
        if tool in (None, "pip"):
            return None
        from homedeploy.project.locked import read_locked

        return read_locked(self.root, tool)

    @cached_property
    def requires_python(self) -> RequiresPython | None:
        """The manifest's Python requirement (requires-python, Poetry's python, Pipfile)."""
        from homedeploy.project.pyproject import requires_python

        return requires_python(self.root, self.package_manager)

    @cached_property
    def lock_status(self) -> LockStatus | None:
        """The lock's freshness, by the buildpack's tool at its pinned version (installed on
        demand unless offline; a cached tool is used offline too)."""
        tool = self.package_manager
        if tool not in ("uv", "poetry", "pipenv"):
            return None
        from homedeploy.project.lock_check import check_lock

        return check_lock(
            self.root,
            tool,  # type: ignore[arg-type]
            major=self.requested_python.major,
            offline=self.offline,
        )

    @cached_property
    def requested_python(self) -> RequestedPython:
        from homedeploy.project.python_version import requested_python

        return requested_python(self.root)

    @cached_property
    def requirements(self) -> RequirementsFile | None:
        """requirements.txt (and its includes) parsed as pip reads it; None when absent."""
        if not self.is_file("requirements.txt"):
            return None
        from homedeploy.errors import HomedeployError
        from homedeploy.requirements.file import read_requirements

        try:
            return read_requirements(self.root / "requirements.txt")
        except HomedeployError:
            return None

    def relative(self, path: Path) -> str:
        """``path`` relative to the project when inside it, else as given."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def local_reference_problem(self, location: str) -> str | None:
        """Why a path/``file:`` requirement cannot be installed on Heroku, or None if it can."""
        from urllib.parse import unquote, urlsplit

        if location.startswith("file:"):
            location = unquote(urlsplit(location).path)
        if location.startswith("~") or (len(location) > 1 and location[1] == ":"):
            return "it points at a path on this machine only"
        path = Path(location)
        if path.is_absolute():
            try:
                path.resolve().relative_to(self.root)
            except ValueError:
                return "it points at a path on this machine only"
            return None
        if not (self.root / path).exists():
            return f"{location} does not exist in the project"
        return None

    @cached_property
    def declared_names(self) -> set[str] | None:
        """Canonical names of the distributions the build installs; None when unknown."""
        from homedeploy.requirements.declared import declared_distributions

        return declared_distributions(self.root, self.package_manager, self.requirements)

    @cached_property
    def procfile(self) -> Procfile | None:
        if not self.is_file("Procfile"):
            return None
        from homedeploy.project.procfile import read_procfile

        return read_procfile(self.root / "Procfile")

    @cached_property
    def discovery(self) -> Discovery:
        from homedeploy.project.discovery import find_flask_apps

        return find_flask_apps(self.root)

    @cached_property
    def virtualenvs(self) -> list[str]:
        """Folders (relative, at most two levels down) that hold a virtual environment."""
        from homedeploy.project.discovery import is_virtualenv

        found: list[str] = []
        for name in sorted(self.names):
            folder = self.root / name
            if name in (".git", "node_modules") or not folder.is_dir():
                continue
            if is_virtualenv(folder):
                found.append(name)
                continue
            try:
                children = sorted(os.listdir(folder))
            except OSError:
                continue
            for child in children:
                if (folder / child).is_dir() and is_virtualenv(folder / child):
                    found.append(f"{name}/{child}")
        return found

    @cached_property
    def local_venv(self) -> Path | None:
        """The virtual environment the developer runs the app in, if there is one with Python."""
        preferred = [name for name in (".venv", "venv") if name in self.virtualenvs]
        for name in [*preferred, *self.virtualenvs]:
            if (self.root / name / "bin" / "python").exists():
                return self.root / name
        return None

    @cached_property
    def repo_root(self) -> Path | None:
        from homedeploy.project.worktree import find_repository

        return find_repository(self.root)

    @cached_property
    def worktree(self) -> Worktree | None:
        """Git's view of the project; None outside a repository."""
        if self.repo_root is None:
            return None
        from homedeploy.project.worktree import read_worktree

        return read_worktree(self.root, self.repo_root)

    def read_text(self, rel: str) -> str | None:
        """A project file's text (UTF-8, errors replaced), or None when unreadable."""
        from homedeploy.errors import ProjectError
        from homedeploy.fileio import read_bytes

        try:
            return read_bytes(self.root / rel).decode("utf-8", errors="replace")
        except (OSError, ProjectError):
            return None
