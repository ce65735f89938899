"""``homedeploy check-reqs [PATH]``: a verdict for every requirement or locked package, and files
that install.

PATH is a project folder or one of its files (a requirements file, ``pyproject.toml``,
``uv.lock``, ``poetry.lock``, ``Pipfile``, ``Pipfile.lock``). The engine
(:mod:`homedeploy.requirements.check`) judges requirement lines; a uv, Poetry or Pipenv project's
locked set is handed to it as such lines, each pointing at its place in the lock. ``--write``
updates the files of the manager the project already uses, with that manager's own tool; ``--to
requirements`` converts to pip on request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from homedeploy.errors import UsageError
from homedeploy.requirements.check import check_requirements
from homedeploy.requirements.report import ERROR, REPIN, CheckReport, WrittenFile

LOCKED_BUT_UNINSTALLABLE = frozenset({"no-wheel", "version-not-on-index", "requires-python"})
"""Causes that matter for a locked package even when the app does not import it: the lock
installs it all the same, so uv/Poetry/Pipenv would build it from source (or fail) on Heroku."""

LOCK_NAMES = {
    "uv.lock": "uv",
    "poetry.lock": "poetry",
    "Pipfile.lock": "pipenv",
    "Pipfile": "pipenv",
}


@dataclass(frozen=True)
class CheckInput:
    """What to judge: ``tool`` is pip for a requirements file, else the lock's manager;
    ``pyproject`` for a pyproject.toml with no lock (its dependencies are judged)."""

    tool: str
    app_dir: Path
    file: Path


def _pick(path: Path | None, requirements: Path | None, app: Path | None) -> CheckInput:
    from homedeploy.project.package_manager import project_manager

    if requirements is not None:  # --requirements FILE: always a pip file
        return CheckInput("pip", app or requirements.parent, requirements)
    target = path if path is not None else (app or Path("."))
    if not target.exists():
        raise UsageError(
            f"no requirements file or project folder at {target}",
            path=target,
            fix="pass the project folder, or a requirements / lock file in it.",
        )
    if target.is_file():
        folder = app or target.parent
        name = target.name
        if name in LOCK_NAMES:
            return CheckInput(LOCK_NAMES[name], folder, target)
        if name == "pyproject.toml":
            declared = project_manager(folder).tool
            if declared in ("uv", "poetry") and (folder / f"{declared}.lock").is_file():
                return CheckInput(str(declared), folder, folder / f"{declared}.lock")
            return CheckInput("pyproject", folder, target)
        return CheckInput("pip", folder, target)
    folder = target
    used = project_manager(folder)
    if used.conflicts:
        from homedeploy.project.package_manager import SEVERAL_FOUND

        raise UsageError(
            f"{folder} has several package-manager files ({', '.join(used.conflicts)}); the "
            f"buildpack stops there ({SEVERAL_FOUND})",
            path=folder,
            fix="pass the one to check (e.g. `check-reqs uv.lock`), and delete the others.",
        )
    if used.tool == "pip" or (folder / "requirements.txt").is_file():
        return CheckInput("pip", folder, folder / "requirements.txt")
    if used.tool is not None:
        from homedeploy.project.package_manager import LOCK_FILE

        lock = folder / LOCK_FILE[used.tool]
        if lock.is_file():
            return CheckInput(used.tool, folder, lock)
        if used.tool == "pipenv":
            raise UsageError(
                f"{folder} has a Pipfile but no Pipfile.lock (Error: No 'Pipfile.lock' found!)",
                path=folder / "Pipfile",
                fix="run `pipenv lock`, then check again.",
            )
    if (folder / "pyproject.toml").is_file():
        return CheckInput("pyproject", folder, folder / "pyproject.toml")
    return CheckInput("pip", folder, folder / "requirements.txt")


def run_check_reqs(
    path: Path | None = None,
    *,
    requirements: Path | None = None,
    app: Path | None = None,
    python: str | None = None,
    write: bool = False,
    offline: bool = False,
    to: str | None = None,
) -> CheckReport:
    """Judge the project or file at ``path`` for Heroku; optionally write or convert."""
    chosen = _pick(path, requirements, app)
    if chosen.tool == "pip":
        if to is not None:
            raise UsageError(
                "--to requirements converts a uv, Poetry or Pipenv project; this one already "
                "uses requirements.txt",
                fix="use --write to rewrite requirements.txt.",
            )
        return check_requirements(
            chosen.file, chosen.app_dir, python=python, write=write, offline=offline
        )
    if chosen.tool == "pyproject":
        return _check_pyproject(chosen, python=python, write=write, offline=offline, to=to)
    return _check_locked(chosen, python=python, write=write, offline=offline, to=to)


def _check_locked(
    chosen: CheckInput, *, python: str | None, write: bool, offline: bool, to: str | None
) -> CheckReport:
    from homedeploy.project.lock_write import convert_to_requirements, relock
    from homedeploy.project.locked import read_locked

    locked = read_locked(chosen.app_dir, chosen.tool)
    if locked is None or locked.error:
        raise UsageError(
            (locked.error if locked else None) or f"no lock file in {chosen.app_dir}",
            path=chosen.file,
            fix="regenerate the lock with the tool (`uv lock`, `poetry lock`, `pipenv lock`).",
        )
    report = check_requirements(
        locked.path,
        chosen.app_dir,
        python=python,
        write=False,
        offline=offline,
        parsed=locked.as_requirements(),
    )
    report.manager = chosen.tool
    if to == "requirements":
        replacements = {
            _key(v.name): v.replacement
            for v in report.lines
            if v.verdict == REPIN and v.name and v.replacement
        }
        for item in convert_to_requirements(chosen.app_dir, locked, replacements):
            report.written.append(WrittenFile(item.path, item.backup, item.how))
        report.wrote = True
    elif write:
        upgrade = sorted(
            {
                v.name
                for v in report.lines
                if v.name
                and v.line is not None  # a locked package (not a need the lock lacks)
                and (v.verdict in (REPIN, ERROR) or v.cause in LOCKED_BUT_UNINSTALLABLE)
            }
        )
        for item in relock(
            chosen.app_dir,
            chosen.tool,  # type: ignore[arg-type]
            major=report.python,
            upgrade=upgrade,
        ):
            report.written.append(WrittenFile(item.path, item.backup, item.how))
        report.wrote = True
        if report.blocked:  # the lock was still refreshed; say what it cannot fix
            report.notes.append(report.blocked)
            report.blocked = None
    return report


def _check_pyproject(
    chosen: CheckInput, *, python: str | None, write: bool, offline: bool, to: str | None
) -> CheckReport:
    """A pyproject.toml without a lock: its dependencies are judged like requirement lines."""
    from homedeploy.project.pyproject import dependency_lines

    parsed = dependency_lines(chosen.file)
    if write and to is None:
        raise UsageError(
            "pyproject.toml has no lock file, and the buildpack needs one (or a "
            "requirements.txt); --write has no lock to update",
            path=chosen.file,
            fix="run `uv lock` (or `poetry lock`) and commit the lock, or pass --to requirements "
            "to write a requirements.txt.",
        )
    report = check_requirements(
        chosen.file,
        chosen.app_dir,
        python=python,
        write=to == "requirements",
        offline=offline,
        parsed=parsed,
    )
    report.manager = "pyproject"
    return report


def _key(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))
