"""Is the lock file in step with its manifest? Asked of the real tool, at the buildpack's version.

The buildpack installs with ``uv sync --locked``, ``poetry sync`` and ``pipenv install --deploy``,
which abort when the lock no longer matches pyproject.toml / Pipfile. The same tools answer here:
``uv lock --check``, ``poetry check --lock``, and Pipenv's own ``Project.calculate_pipfile_hash()``
against the lock's ``_meta.hash`` (what ``--deploy`` compares). Only when a tool cannot run (not
installed and offline, or uv finds no interpreter for ``requires-python`` on this machine) does a
comparison of the lock's recorded inputs with the manifest stand in, and the result says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from homedeploy.project.package_manager import TOOL_VERSIONS, Manager

LockState = Literal["fresh", "stale", "unknown"]
FRESH: LockState = "fresh"
STALE: LockState = "stale"
UNKNOWN: LockState = "unknown"

UV_STALE = "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided."
POETRY_STALE = (
    "pyproject.toml changed significantly since poetry.lock was last generated. "
    "Run `poetry lock` to fix the lock file."
)


@dataclass(frozen=True)
class LockStatus:
    """The verdict on one lock file and how it was reached (``how`` names the tool run)."""

    state: LockState
    tool: Manager
    how: str
    message: str = ""
    output: str = ""


def _interpreter_for(requires: str | None, preferred: str | None) -> str | None:
    """An installed interpreter that satisfies ``requires`` (the preferred major first)."""
    from homedeploy.project.python_version import LATEST_PATCH
    from homedeploy.project.venv import find_interpreter

    majors = ([preferred] if preferred else []) + [m for m in LATEST_PATCH if m != preferred]
    for major in majors:
        interpreter = find_interpreter(major)
        if not interpreter.matches:
            continue
        if requires:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                if not SpecifierSet(requires).contains(interpreter.version, prereleases=True):
                    continue
            except InvalidSpecifier:
                pass
        return interpreter.path
    return None


def _normalized(requirements: list[Any]) -> set[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    found = set()
    for item in requirements:
        text = item if isinstance(item, str) else None
        if isinstance(item, dict) and "name" in item:  # uv.lock's requires-dist tables
            text = str(item["name"])
            if item.get("extras"):
                text += "[" + ",".join(sorted(str(e) for e in item["extras"])) + "]"
            if item.get("specifier"):
                text += str(item["specifier"])
            if item.get("marker"):
                text += f"; {item['marker']}"
        if text is None:
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            found.add(text)
            continue
        from packaging.utils import canonicalize_name

        spec = ",".join(sorted(str(s) for s in requirement.specifier))
        extras = ",".join(sorted(requirement.extras))
        url = requirement.url or ""
        marker = str(requirement.marker) if requirement.marker else ""
        found.add(f"{canonicalize_name(requirement.name)}[{extras}]{spec}@{url};{marker}")
    return found


def compare_uv_lock(root: Path) -> LockStatus:
    """Without uv: the lock's recorded ``requires-dist`` and ``requires-python`` against
    pyproject.toml (a stand-in for ``uv lock --check``; sources and indexes are not compared)."""
    from homedeploy.project.pyproject import read_pyproject, read_toml

    how = "compared uv.lock's recorded inputs with pyproject.toml (uv could not run here)"
    pyproject = read_pyproject(root / "pyproject.toml")
    lock, error = read_toml(root / "uv.lock")
    project = pyproject.get("project") if isinstance(pyproject.get("project"), dict) else None
    if error or project is None:
        return LockStatus(UNKNOWN, "uv", how, "uv.lock or pyproject.toml could not be read")
    name = str(project.get("name", ""))
    from packaging.utils import canonicalize_name

    root_package = next(
        (
            p
            for p in lock.get("package", []) or []
            if isinstance(p, dict)
            and canonicalize_name(str(p.get("name", ""))) == canonicalize_name(name)
        ),
        None,
    )
    if root_package is None:
        return LockStatus(STALE, "uv", how, f"uv.lock has no entry for the project {name!r}")
    if (project.get("requires-python") or None) != (lock.get("requires-python") or None):
        return LockStatus(
            STALE,
            "uv",
            how,
            f"requires-python is {project.get('requires-python')!r} in pyproject.toml but "
            f"{lock.get('requires-python')!r} in uv.lock",
        )
    metadata = root_package.get("metadata", {}) or {}
    recorded = _normalized(list(metadata.get("requires-dist", []) or []))
    recorded_plain = {item for item in recorded if "extra ==" not in item}
    declared_plain = _normalized(list(project.get("dependencies", []) or []))
    if declared_plain != recorded_plain:
        added = sorted(declared_plain - recorded_plain)
        removed = sorted(recorded_plain - declared_plain)
        detail = []
        if added:
            detail.append("not in the lock: " + ", ".join(a.split("[")[0] for a in added))
        if removed:
            detail.append("only in the lock: " + ", ".join(r.split("[")[0] for r in removed))
        return LockStatus(STALE, "uv", how, "; ".join(detail))
    groups = pyproject.get("dependency-groups", {}) or {}
    recorded_groups = metadata.get("requires-dev", {}) or {}
    for group, items in groups.items():
        plain = [item for item in items or [] if isinstance(item, str)]
        if _normalized(plain) != _normalized(list(recorded_groups.get(group, []) or [])):
            return LockStatus(
                STALE, "uv", how, f"the dependency group {group!r} differs from the lock"
            )
    return LockStatus(FRESH, "uv", how)


def check_uv(root: Path, major: str | None, offline: bool) -> LockStatus:
    from homedeploy.project.pyproject import requires_python
    from homedeploy.project.tools import ToolUnavailable, ensure_tool, run_tool, tool_environment

    version = TOOL_VERSIONS["uv"]
    try:
        uv = ensure_tool("uv", offline=offline)
    except ToolUnavailable:
        return compare_uv_lock(root)
    requires = requires_python(root, "uv")
    interpreter = _interpreter_for(requires.specifier if requires else None, major)
    if interpreter is None:
        return compare_uv_lock(root)
    command = [str(uv.executable), "lock", "--check", "--python", interpreter]
    if offline:
        command.append("--offline")
    env = tool_environment({"UV_NO_MANAGED_PYTHON": "1", "UV_PYTHON_DOWNLOADS": "never"})
    run = run_tool(command, root, env=env, timeout=120)
    how = f"uv {version} lock --check"
    if run.ok:
        return LockStatus(FRESH, "uv", how, output=run.output)
    if "needs to be updated" in run.output:
        return LockStatus(STALE, "uv", how, UV_STALE, run.output)
    fallback = compare_uv_lock(root)
    return LockStatus(
        fallback.state,
        "uv",
        fallback.how,
        fallback.message or f"uv lock --check could not decide: {run.tail(3)}",
        run.output,
    )


def check_poetry(root: Path, offline: bool) -> LockStatus:
    from homedeploy.project.tools import ToolUnavailable, ensure_tool, run_tool, tool_environment

    version = TOOL_VERSIONS["poetry"]
    try:
        poetry = ensure_tool("poetry", offline=offline)
    except ToolUnavailable as error:
        return LockStatus(UNKNOWN, "poetry", "not checked", error.message)
    env = tool_environment({"POETRY_VIRTUALENVS_CREATE": "false"})
    command = [str(poetry.executable), "check", "--lock", "--no-interaction", "--no-ansi"]
    run = run_tool(command, root, env=env, timeout=120)
    how = f"poetry {version} check --lock"
    if run.ok:
        return LockStatus(FRESH, "poetry", how, output=run.output)
    if "changed significantly" in run.output or "poetry lock" in run.output:
        return LockStatus(STALE, "poetry", how, POETRY_STALE, run.output)
    return LockStatus(UNKNOWN, "poetry", how, run.tail(4), run.output)


_PIPENV_HASHES = (
    "import json, sys\n"
    "from pipenv.project import Project\n"
    "project = Project(chdir=False)\n"
    "print(json.dumps([project.get_lockfile_hash(), project.calculate_pipfile_hash()]))\n"
)


def check_pipenv(root: Path, offline: bool) -> LockStatus:
    from homedeploy.project.tools import ToolUnavailable, ensure_tool, run_tool, tool_environment

    version = TOOL_VERSIONS["pipenv"]
    try:
        pipenv = ensure_tool("pipenv", offline=offline)
    except ToolUnavailable as error:
        return LockStatus(UNKNOWN, "pipenv", "not checked", error.message)
    env = tool_environment({"PIPENV_PIPFILE": str(root / "Pipfile")})
    run = run_tool([str(pipenv.python), "-c", _PIPENV_HASHES], root, env=env, timeout=120)
    how = f"Pipenv {version}'s Pipfile hash against Pipfile.lock's _meta.hash"
    if not run.ok:
        return LockStatus(UNKNOWN, "pipenv", how, run.tail(3), run.output)
    try:
        locked, expected = json.loads(run.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return LockStatus(UNKNOWN, "pipenv", how, run.tail(3), run.output)
    if locked == expected:
        return LockStatus(FRESH, "pipenv", how)
    short_locked = str(locked)[-6:] if locked else "none"
    return LockStatus(
        STALE,
        "pipenv",
        how,
        f"Your Pipfile.lock ({short_locked}) is out of date. Expected: ({str(expected)[-6:]}).",
    )


def check_lock(root: Path, tool: Manager, *, major: str | None, offline: bool) -> LockStatus:
    """The freshness of ``tool``'s lock file in ``root``, by ``tool`` itself where possible."""
    if tool == "uv":
        return check_uv(root, major, offline)
    if tool == "poetry":
        return check_poetry(root, offline)
    if tool == "pipenv":
        return check_pipenv(root, offline)
    return LockStatus(FRESH, tool, "requirements.txt has no lock to check")
