"""Which distributions a Heroku build installs, from whichever file the buildpack uses.

Boot checks need to know whether gunicorn and Flask will exist on the dyno: a Procfile running
gunicorn with no gunicorn installed ends in ``bash: gunicorn: command not found`` and H10. The
answer comes from requirements.txt (and its ``-r`` includes, plus the project itself for ``-e .``),
Pipfile.lock's ``default`` section, or the packages in poetry.lock / uv.lock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from homedeploy.fileio import read_bytes

if TYPE_CHECKING:
    from homedeploy.requirements.file import RequirementsFile

_LOCK_NAME_RE = re.compile(r'^name\s*=\s*"([^"]+)"', re.MULTILINE)


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _pyproject_dependencies(path: Path) -> set[str]:
    """``[project] dependencies`` of a local project installed with ``-e .`` or ``.``."""
    from packaging.requirements import InvalidRequirement, Requirement

    from homedeploy.errors import HomedeployError
    from homedeploy.settings import load_toml

    try:
        data = load_toml(path)
    except HomedeployError:
        return set()
    project = data.get("project")
    specs = project.get("dependencies") if isinstance(project, dict) else None
    names = set()
    for spec in specs if isinstance(specs, list) else []:
        try:
            names.add(_canonical(Requirement(str(spec)).name))
        except InvalidRequirement:
            continue
    return names


def declared_distributions(
    root: Path, tool: str | None, requirements: RequirementsFile | None
) -> set[str] | None:
    """Canonical names the build installs; None when no single package manager is in use.

    ``tool`` is the package manager the buildpack picks (``pip``, ``pipenv``, ``poetry``,
    ``uv``), ``requirements`` the parsed requirements.txt when it is pip.
    """
    if tool == "pip":
        if requirements is None:
            return None
        from homedeploy.requirements.file import EDITABLE, INVALID, LOCAL_PATH

        names: set[str] = set()
        for line in requirements.lines:
            if line.constraint or line.kind == INVALID:
                continue
            if line.name:
                names.add(_canonical(line.name))
            if (
                line.kind in (LOCAL_PATH, EDITABLE)
                and line.url
                and not line.url.startswith("file:")
            ):
                pyproject = line.path.parent / line.url / "pyproject.toml"
                if pyproject.is_file():
                    names |= _pyproject_dependencies(pyproject)
        return names
    if tool == "pipenv":
        try:
            data = json.loads(read_bytes(root / "Pipfile.lock").decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        default = data.get("default", {}) if isinstance(data, dict) else {}
        return {_canonical(name) for name in default} if isinstance(default, dict) else None
    if tool in ("poetry", "uv"):
        lock = "poetry.lock" if tool == "poetry" else "uv.lock"
        try:
            text = (root / lock).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return {_canonical(name) for name in _LOCK_NAME_RE.findall(text)}
    return None


def installed_closure(venv: Path, declared: set[str]) -> tuple[set[str], set[str]] | None:
    """What ``declared`` installs, read from the venv the developer runs the app in: the
    canonical names of the declared distributions and everything their ``Requires-Dist``
    pulls in (transitively), and the import names those distributions provide (their
    ``top_level.txt`` or RECORD). None when the venv has no site-packages to read.

    This is the offline stand-in for check-reqs' resolution: Flask under Flask-WTF, alembic
    under Flask-Migrate are installed by the build even though the file does not name them.
    """
    from importlib.metadata import Distribution, distributions

    from packaging.requirements import InvalidRequirement, Requirement

    site = sorted(venv.glob("lib/python3*/site-packages"))
    if not site:
        return None
    found: dict[str, Distribution] = {}
    for dist in distributions(path=[str(path) for path in site]):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_canonical(name), dist)
    closure: set[str] = set()
    queue = [name for name in declared if name in found]
    while queue:
        name = queue.pop()
        if name in closure:
            continue
        closure.add(name)
        for text in found[name].requires or []:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and "extra" in str(requirement.marker):
                continue
            child = _canonical(requirement.name)
            if child in found and child not in closure:
                queue.append(child)
    imports: set[str] = set()
    for name in closure:
        dist = found[name]
        top_level = dist.read_text("top_level.txt")
        if top_level:
            imports.update(line.strip() for line in top_level.splitlines() if line.strip())
            continue
        for item in dist.files or []:
            first = item.parts[0] if item.parts else ""
            if first.endswith((".dist-info", ".data")) or first == "..":
                continue
            imports.add(first[:-3] if first.endswith(".py") else first)
    return closure | (declared - set(found)), imports
