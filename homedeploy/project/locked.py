"""The locked set of a uv, Poetry or Pipenv project: what the buildpack's install will put on
the dyno, as (name, version, markers, hashes) records.

Only what the buildpack installs is kept: ``uv sync --no-default-groups`` installs the project's
dependencies without dev groups, ``poetry sync --only main`` the ``main`` group, ``pipenv install
--deploy`` the ``default`` section. Each record turns into a
:class:`homedeploy.requirements.file.RequirementLine` pointing at its line in the lock file, so
the requirements engine judges a locked pin exactly as it judges a requirements line (wheel for
the target, needs, severity) and reports it at ``uv.lock:42``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homedeploy.fileio import read_bytes
from homedeploy.project.pyproject import read_toml

if TYPE_CHECKING:
    from homedeploy.requirements.file import RequirementLine, RequirementsFile

REGISTRY = "registry"
VCS = "vcs"
URL_SOURCE = "url"
PATH_SOURCE = "path"
ROOT = "root"


@dataclass(frozen=True)
class LockedPackage:
    """One package the lock installs on Heroku."""

    name: str
    version: str | None
    markers: str | None
    hashes: tuple[str, ...]
    source: str  # registry, vcs, url, path (root: the project itself)
    url: str | None
    path: Path  # the lock file
    line: int | None
    editable: bool = False

    def requirement_text(self) -> str:
        """The requirements.txt line pip would install this record from."""
        if self.source == VCS and self.url:
            text = f"{self.name} @ {self.url}"
        elif self.source in (URL_SOURCE, PATH_SOURCE) and self.url:
            text = f"-e {self.url}" if self.editable else f"{self.name} @ {self.url}"
        elif self.version:
            text = f"{self.name}=={self.version}"
        else:
            text = self.name
        if self.markers and not text.startswith("-e "):
            text += f" ; {self.markers}"
        return text

    def as_requirement_line(self) -> RequirementLine:
        """The record as a requirements line (kind, name, pin, markers, hashes, file:line)."""
        from homedeploy.requirements.file import (
            EDITABLE,
            LOCAL_PATH,
            REQUIREMENT,
            URL,
            RequirementLine,
        )

        if self.source == REGISTRY:
            kind, url, specifier = REQUIREMENT, None, f"=={self.version}" if self.version else ""
        elif self.source == PATH_SOURCE:
            kind, url, specifier = (EDITABLE if self.editable else LOCAL_PATH), self.url, ""
        else:
            kind, url, specifier = URL, self.url, ""
        return RequirementLine(
            path=self.path,
            line=self.line or 0,
            text=self.requirement_text(),
            kind=kind,
            name=self.name,
            specifier=specifier,
            markers=self.markers,
            hashes=self.hashes,
            url=url,
        )


@dataclass
class LockedSet:
    """The records of one lock file, with what could not be read."""

    tool: str
    path: Path
    packages: list[LockedPackage] = field(default_factory=list)
    error: str | None = None
    requires_python: str | None = None  # the lock's own (uv.lock, poetry.lock metadata)

    def as_requirements(self) -> RequirementsFile:
        """The locked set as a parsed requirements file (what check-reqs judges)."""
        from homedeploy.requirements.file import RequirementsFile

        lines = [p.as_requirement_line() for p in self.packages if p.source != ROOT]
        return RequirementsFile(self.path, "utf-8", lines, [self.path])


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _package_lines(text: str) -> dict[tuple[str, str | None], int]:
    """Line numbers of each ``[[package]]`` entry (by name and version) in a TOML lock."""
    found: dict[tuple[str, str | None], int] = {}
    lines = text.splitlines()
    current: int | None = None
    name: str | None = None
    for number, line in enumerate(lines, start=1):
        if line.strip() == "[[package]]":
            current, name = number, None
            continue
        if current is None:
            continue
        match = re.match(r'^name\s*=\s*"([^"]+)"', line)
        if match and name is None:
            name = _canonical(match.group(1))
            found.setdefault((name, None), number)
            continue
        match = re.match(r'^version\s*=\s*"([^"]+)"', line)
        if match and name is not None:
            found.setdefault((name, match.group(1)), found[(name, None)])
            current = None
    return found


def _or_markers(markers: list[str | None]) -> str | None:
    """An edge without a marker makes the package unconditional; else the OR of the markers."""
    if not markers or any(m is None for m in markers):
        return None
    unique = list(dict.fromkeys(m for m in markers if m))
    if len(unique) == 1:
        return unique[0]
    return " or ".join(f"({m})" for m in unique)


def _uv_hashes(package: dict[str, Any]) -> tuple[str, ...]:
    hashes = []
    for wheel in package.get("wheels", []) or []:
        if isinstance(wheel, dict) and wheel.get("hash"):
            hashes.append(str(wheel["hash"]))
    sdist = package.get("sdist")
    if isinstance(sdist, dict) and sdist.get("hash"):
        hashes.append(str(sdist["hash"]))
    return tuple(hashes)


def _uv_source(source: dict[str, Any], root: Path) -> tuple[str, str | None, bool]:
    if "registry" in source:
        return REGISTRY, None, False
    if "git" in source:
        return VCS, f"git+{source['git']}", False
    if "url" in source:
        return URL_SOURCE, str(source["url"]), False
    for key in ("editable", "directory", "path", "virtual"):
        if key in source:
            return PATH_SOURCE, str(source[key]), key == "editable"
    return REGISTRY, None, False


def read_uv_lock(root: Path) -> LockedSet:
    """uv.lock: the packages reachable from the project without dev groups, with the markers
    on the edges that reach them (evaluated later for Heroku's platform)."""
    path = root / "uv.lock"
    locked = LockedSet("uv", path)
    data, error = read_toml(path)
    if error:
        locked.error = f"uv.lock is not valid TOML: {error}"
        return locked
    if isinstance(data.get("requires-python"), str):
        locked.requires_python = data["requires-python"]
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = _package_lines(text)
    packages = [p for p in data.get("package", []) or [] if isinstance(p, dict) and "name" in p]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for package in packages:
        by_name.setdefault(_canonical(str(package["name"])), []).append(package)
    roots = [
        p
        for p in packages
        if isinstance(p.get("source"), dict)
        and ({"editable", "virtual"} & set(p["source"]))
        and p["source"].get("editable", p["source"].get("virtual")) == "."
    ]
    incoming: dict[str, list[str | None]] = {}
    seen: set[tuple[str, str]] = set()
    queue: list[tuple[str, tuple[str, ...]]] = [(_canonical(str(p["name"])), ()) for p in roots]
    for p in roots:
        incoming[_canonical(str(p["name"]))] = [None]
    while queue:
        name, extras = queue.pop()
        for package in by_name.get(name, []):
            edges = list(package.get("dependencies", []) or [])
            optional = package.get("optional-dependencies", {}) or {}
            for extra in extras:
                edges += list(optional.get(extra, []) or [])
            for edge in edges:
                if not isinstance(edge, dict) or "name" not in edge:
                    continue
                child = _canonical(str(edge["name"]))
                marker = edge.get("marker")
                incoming.setdefault(child, []).append(str(marker) if marker else None)
                child_extras = tuple(str(e) for e in edge.get("extra", []) or [])
                key = (child, ",".join(child_extras))
                if key not in seen:
                    seen.add(key)
                    queue.append((child, child_extras))
    for package in packages:
        name = _canonical(str(package["name"]))
        if name not in incoming:
            continue  # only a dev group (or nothing) reaches it
        version = str(package["version"]) if "version" in package else None
        source, url, editable = _uv_source(package.get("source") or {}, root)
        is_root = package in roots
        locked.packages.append(
            LockedPackage(
                str(package["name"]),
                version,
                None if is_root else _or_markers(incoming[name]),
                _uv_hashes(package),
                ROOT if is_root else source,
                url,
                path,
                lines.get((name, version), lines.get((name, None))),
                editable,
            )
        )
    return locked


def _poetry_markers(package: dict[str, Any]) -> str | None:
    markers = package.get("markers")
    if isinstance(markers, str):
        return markers or None
    if isinstance(markers, dict):  # lock 2.1: per group
        value = markers.get("main")
        return str(value) if value else None
    return None


def read_poetry_lock(root: Path) -> LockedSet:
    """poetry.lock: the ``main`` group (what ``poetry sync --only main`` installs)."""
    path = root / "poetry.lock"
    locked = LockedSet("poetry", path)
    data, error = read_toml(path)
    if error:
        locked.error = f"poetry.lock is not valid TOML: {error}"
        return locked
    metadata = data.get("metadata", {}) if isinstance(data.get("metadata"), dict) else {}
    if isinstance(metadata.get("python-versions"), str):
        locked.requires_python = metadata["python-versions"]
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = _package_lines(text)
    for package in data.get("package", []) or []:
        if not isinstance(package, dict) or "name" not in package:
            continue
        groups = package.get("groups")
        if isinstance(groups, list) and "main" not in groups:
            continue  # dev-only; lock 1.x has no groups and "category" instead
        if package.get("category") == "dev":
            continue
        if package.get("optional") is True:
            continue  # an extra the project does not install by default
        name = _canonical(str(package["name"]))
        version = str(package.get("version")) if package.get("version") else None
        raw_source = package.get("source")
        source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
        kind, url, editable = REGISTRY, None, False
        source_type = str(source.get("type", "")) if source else ""
        if source_type == "git":
            reference = source.get("resolved_reference") or source.get("reference")
            url = f"git+{source.get('url')}" + (f"@{reference}" if reference else "")
            kind = VCS
        elif source_type == "url":
            kind, url = URL_SOURCE, str(source.get("url"))
        elif source_type in ("directory", "file"):
            kind, url = PATH_SOURCE, str(source.get("url"))
            editable = bool(package.get("develop"))
        hashes = tuple(
            str(item["hash"])
            for item in package.get("files", []) or []
            if isinstance(item, dict) and item.get("hash")
        )
        locked.packages.append(
            LockedPackage(
                str(package["name"]),
                version,
                _poetry_markers(package),
                hashes,
                kind,
                url,
                path,
                lines.get((name, version), lines.get((name, None))),
                editable,
            )
        )
    return locked


def _json_lines(text: str, section: str) -> dict[str, int]:
    """Line numbers of the entries of one Pipfile.lock section (``"name": {``)."""
    found: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if re.match(rf'^"{section}"\s*:\s*\{{', stripped):
            inside = True
            continue
        if not inside:
            continue
        if re.match(r'^"(default|develop|_meta)"\s*:', stripped):
            break
        match = re.match(r'^"([^"]+)"\s*:\s*\{', line.strip())
        if match and len(line) - len(line.lstrip()) == 8:
            found.setdefault(_canonical(match.group(1)), number)
    return found


def read_pipfile_lock(root: Path) -> LockedSet:
    """Pipfile.lock's ``default`` section (what ``pipenv install --deploy`` installs)."""
    path = root / "Pipfile.lock"
    locked = LockedSet("pipenv", path)
    try:
        text = read_bytes(path).decode("utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        locked.error = f"Pipfile.lock is not valid JSON ({error})"
        return locked
    default = data.get("default", {}) if isinstance(data, dict) else {}
    if not isinstance(default, dict):
        locked.error = "Pipfile.lock has no 'default' section"
        return locked
    lines = _json_lines(text, "default")
    for name, entry in default.items():
        if not isinstance(entry, dict):
            continue
        version = str(entry.get("version", "")).lstrip("=") or None
        kind, url, editable = REGISTRY, None, bool(entry.get("editable"))
        if entry.get("git"):
            ref = entry.get("ref")
            kind, url = VCS, f"git+{entry['git']}" + (f"@{ref}" if ref else "")
        elif entry.get("file"):
            kind, url = URL_SOURCE, str(entry["file"])
        elif entry.get("path"):
            kind, url = PATH_SOURCE, str(entry["path"])
        markers = entry.get("markers")
        locked.packages.append(
            LockedPackage(
                str(name),
                version,
                str(markers) if markers else None,
                tuple(str(h) for h in entry.get("hashes", []) or []),
                kind,
                url,
                path,
                lines.get(_canonical(str(name))),
                editable,
            )
        )
    return locked


def read_locked(root: Path, tool: str) -> LockedSet | None:
    """The locked set of ``tool``'s lock file in ``root`` (None for pip, or no lock file)."""
    readers = {"uv": read_uv_lock, "poetry": read_poetry_lock, "pipenv": read_pipfile_lock}
    reader = readers.get(tool)
    lock = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}.get(tool)
    if reader is None or lock is None or not (root / lock).is_file():
        return None
    return reader(root)
