"""pyproject.toml and Pipfile as uv, Poetry and Pipenv read them: tomllib, never by hand.

Only what the buildpack's tools act on is read: ``requires-python`` (PEP 621, or Poetry's
``[tool.poetry.dependencies] python``), and Pipfile's ``[requires]``. Poetry's version syntax
(``^3.12``, ``~3.12``) is converted to a PEP 440 specifier by the rules Poetry documents; that is
the one piece written by hand, since poetry-core is not a dependency of homedeploy.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homedeploy.requirements.file import RequirementsFile

from homedeploy.fileio import read_bytes


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    data: dict[str, Any] = tomllib.loads(text)
    return data


def read_toml(path: Path) -> tuple[dict[str, Any], str | None]:
    """``(data, error)``: the parsed file, or {} and tomllib's message (never raises)."""
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        return {}, str(error)
    try:
        return _toml_loads(text), None
    except ValueError as error:
        return {}, str(error)
    except RecursionError:
        return {}, "arrays or tables nested too deeply to be read"


def read_pyproject(path: Path) -> dict[str, Any]:
    """pyproject.toml's tables ({} when absent or invalid)."""
    return read_toml(path)[0]


def line_of(path: Path, pattern: str) -> int | None:
    """The first line (1-based) of ``path`` matching the regex ``pattern``."""
    try:
        lines = read_bytes(path).decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    compiled = re.compile(pattern)
    for number, line in enumerate(lines, start=1):
        if compiled.search(line):
            return number
    return None


@dataclass(frozen=True)
class RequiresPython:
    """The project's Python requirement as a PEP 440 specifier, and where it is written."""

    specifier: str
    written: str  # as in the file (``^3.12`` for Poetry)
    path: str
    line: int | None
    field: str  # "project.requires-python", "tool.poetry.dependencies.python", ...

    def admits(self, version: str) -> bool:
        """Whether ``version`` (``X.Y`` or ``X.Y.Z``) satisfies the requirement."""
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            spec = SpecifierSet(self.specifier)
        except InvalidSpecifier:
            return True
        return spec.contains(version if version.count(".") >= 2 else f"{version}.0", True)

    def admits_major(self, major: str, latest_patch: str | None) -> bool:
        """Whether the patch Heroku resolves ``major`` to satisfies the requirement."""
        return self.admits(latest_patch or f"{major}.0")


_POETRY_PART_RE = re.compile(r"^\s*(\^|~=|~|==|!=|>=|<=|>|<|=)?\s*([0-9][0-9a-zA-Z.*+-]*)\s*$")


def _bump(release: list[int], index: int) -> str:
    parts = release[: index + 1] or [0]
    parts[-1] += 1
    return ".".join(str(p) for p in parts)


def poetry_constraint_to_pep440(constraint: str) -> str | None:
    """Poetry's ``python = "^3.12"`` style into PEP 440 (None when it cannot be read).

    ``^X.Y`` is ``>=X.Y,<X+1`` (``^0.Y`` is ``<0.Y+1``), ``~X.Y`` is ``>=X.Y,<X.Y+1``, a bare
    version is ``==``, ``*`` admits anything; ``,`` or spaces join, ``||`` alternates (only the
    first alternative's lower bound matters for Heroku's single version, so alternatives are
    turned into the widest range that covers them: good enough for a yes/no on one version).
    """
    text = constraint.strip()
    if text in ("*", ""):
        return ""
    alternatives = [part for part in text.split("||") if part.strip()]
    if len(alternatives) > 1:
        return None  # an OR of ranges has no single PEP 440 form; callers treat None as unknown
    pieces = [p for p in re.split(r"[,\s]+(?=[\^~<>=!0-9])", alternatives[0]) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        match = _POETRY_PART_RE.match(piece)
        if match is None:
            return None
        operator, version = match.group(1) or "", match.group(2)
        if "*" in version:
            out.append(f"=={version}")
            continue
        try:
            release = [int(p) for p in version.split(".")]
        except ValueError:
            return None
        if operator == "^":
            first = next((i for i, p in enumerate(release) if p != 0), len(release) - 1)
            out += [f">={version}", f"<{_bump(release, first)}"]
        elif operator == "~":
            index = 1 if len(release) > 1 else 0
            out += [f">={version}", f"<{_bump(release, index)}"]
        elif operator in ("", "="):
            out.append(f"=={version}")
        else:
            out.append(f"{operator}{version}")
    return ",".join(out)


def requires_python(root: Path, tool: str | None) -> RequiresPython | None:
    """What uv, Poetry or Pipenv will hold the chosen Python against (None: no requirement)."""
    if tool in ("uv", "poetry"):
        path = root / "pyproject.toml"
        data = read_pyproject(path)
        project = data.get("project") if isinstance(data.get("project"), dict) else None
        if project and isinstance(project.get("requires-python"), str):
            written = project["requires-python"]
            return RequiresPython(
                written,
                written,
                "pyproject.toml",
                line_of(path, r"^\s*requires-python\s*="),
                "project.requires-python",
            )
        if tool == "poetry":
            tool_table = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
            poetry = tool_table.get("poetry", {}) if isinstance(tool_table, dict) else {}
            deps = poetry.get("dependencies", {}) if isinstance(poetry, dict) else {}
            written = deps.get("python") if isinstance(deps, dict) else None
            if isinstance(written, str):
                converted = poetry_constraint_to_pep440(written)
                if converted is None:
                    return None
                return RequiresPython(
                    converted,
                    written,
                    "pyproject.toml",
                    line_of(path, r"^\s*python\s*="),
                    "tool.poetry.dependencies.python",
                )
        return None
    if tool == "pipenv":
        path = root / "Pipfile"
        data, _error = read_toml(path)
        requires = data.get("requires", {}) if isinstance(data.get("requires"), dict) else {}
        full = requires.get("python_full_version")
        short = requires.get("python_version")
        if isinstance(full, str) and full:
            return RequiresPython(
                f"=={full}", full, "Pipfile", line_of(path, r"^\s*python_full_version"), "requires"
            )
        if isinstance(short, str) and short:
            return RequiresPython(
                f"=={short}.*" if "*" not in short else f"=={short}",
                short,
                "Pipfile",
                line_of(path, r"^\s*python_version"),
                "requires.python_version",
            )
    return None


def dependency_lines(path: Path) -> RequirementsFile:
    """``[project] dependencies`` of pyproject.toml as requirement lines (file:line each), for a
    project that has no lock yet."""
    from homedeploy.requirements.file import RequirementsFile, parse_line

    data = read_pyproject(path)
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    items = project.get("dependencies", []) if isinstance(project, dict) else []
    lines = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, str):
            continue
        number = line_of(path, re.escape(f'"{item}"')) or line_of(path, re.escape(item)) or 0
        lines.append(parse_line(path, number, item))
    return RequirementsFile(path, "utf-8", lines, [path])
