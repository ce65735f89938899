"""Updating a uv, Poetry or Pipenv project's own files with its own tool, and converting on request.

``check-reqs --write`` on a locked project re-locks it with the buildpack's tool at its pinned
version (``uv lock``, ``poetry lock``, ``pipenv lock``), asking it to move the pins check-reqs
found uninstallable on Heroku (``--upgrade-package`` / ``poetry update --lock``), for an installed
interpreter of the target Python where there is one. It never writes a second manager's file:
that would make the buildpack stop with "Multiple Python package manager files were found".
``--to requirements`` is the explicit conversion: requirements.txt from the locked set, and the
other manager's files renamed to ``.bak`` so the buildpack sees exactly one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import CheckFailed
from homedeploy.project.locked import ROOT, LockedSet
from homedeploy.project.package_manager import DISPLAY, LOCK_FILE, TOOL_VERSIONS, Manager


@dataclass(frozen=True)
class LockWrite:
    """A file the tool (or the conversion) wrote, its backup, and how it was made."""

    path: str
    backup: str | None
    how: str


def _interpreter(major: str) -> str | None:
    from homedeploy.project.venv import find_interpreter

    interpreter = find_interpreter(major)
    return interpreter.path if interpreter.matches else None


def relock(
    root: Path, tool: Manager, *, major: str, upgrade: list[str], timeout: float = 600
) -> list[LockWrite]:
    """Re-lock ``root`` with ``tool`` (moving the ``upgrade`` packages); the old lock is backed
    up first. Raises :class:`CheckFailed` with the tool's own message when it fails."""
    from homedeploy.fileio import make_backup
    from homedeploy.project.tools import ensure_tool, run_tool, tool_environment

    installed = ensure_tool(tool)
    lock = root / LOCK_FILE[tool]
    interpreter = _interpreter(major)
    with tempfile.TemporaryDirectory(prefix="homedeploy-lock-") as scratch:
        env = tool_environment(
            {
                "POETRY_VIRTUALENVS_CREATE": "false",
                "WORKON_HOME": scratch,  # pipenv lock's throw-away venv, never in the project
                "PIPENV_VENV_IN_PROJECT": "0",
                "UV_NO_MANAGED_PYTHON": "1",
            }
        )
        if tool == "uv":
            command = [str(installed.executable), "lock"]
            if interpreter:
                command += ["--python", interpreter]
            for name in upgrade:
                command += ["--upgrade-package", name]
        elif tool == "poetry":
            command = [str(installed.executable)]
            command += ["update", "--lock", *upgrade] if upgrade else ["lock"]
            command += ["--no-interaction", "--no-ansi"]
        else:
            command = [str(installed.executable), "lock"]
            if interpreter:
                command += ["--python", interpreter]
        backup = make_backup(lock) if lock.is_file() else None
        run = run_tool(command, root, env=env, timeout=timeout)
    if not run.ok:
        if backup is not None:
            backup.unlink(missing_ok=True)  # the tool wrote nothing: no backup to keep
        raise CheckFailed(
            f"`{' '.join([tool, *command[1:]])}` failed:\n{run.tail(10)}",
            path=root / LOCK_FILE[tool],
            fix="read the tool's message; fix pyproject.toml / Pipfile and run check-reqs again.",
        )
    shown = " ".join([tool, *command[1:]]).replace(interpreter or "\0", f"python{major}")
    how = f"{shown} ({DISPLAY[tool]} {TOOL_VERSIONS[tool]})"
    return [LockWrite(str(lock), str(backup) if backup else None, how)]


def requirements_from_locked(locked: LockedSet, replacements: dict[str, str]) -> str:
    """requirements.txt text for the locked set, with check-reqs' repins applied."""
    from packaging.utils import canonicalize_name

    lines = [
        f"# Converted from {locked.path.name} by homedeploy check-reqs --to requirements.",
        f"# It replaces {locked.path.name} for Heroku's pip build (the old files end in .bak).",
    ]
    for package in locked.packages:
        if package.source == ROOT:
            if package.url and package.editable:
                lines.append("-e .")
            continue
        key = str(canonicalize_name(package.name))
        text = replacements.get(key) or package.requirement_text()
        if package.markers and key in replacements:
            text += f" ; {package.markers}"
        lines.append(text)
    return "\n".join(lines) + "\n"


def convert_to_requirements(
    root: Path, locked: LockedSet, replacements: dict[str, str]
) -> list[LockWrite]:
    """Write requirements.txt from the lock, then rename every other manager's file to .bak."""
    from homedeploy.fileio import backup_path, write_new_file

    written: list[LockWrite] = []
    target = root / "requirements.txt"
    backup = write_new_file(target, requirements_from_locked(locked, replacements), force=True)
    written.append(
        LockWrite(str(target), str(backup) if backup else None, f"from {locked.path.name}")
    )
    for name in ("uv.lock", "poetry.lock", "Pipfile.lock", "Pipfile"):
        path = root / name
        if path.is_file():
            renamed = backup_path(path)
            os.replace(path, renamed)
            written.append(
                LockWrite(str(renamed), None, f"{name} renamed: the buildpack needs one manager")
            )
    return written
