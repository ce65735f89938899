"""Whether a release's own code imports a module at import time that nothing installs.

Old gunicorn releases (19.x) run ``import pkg_resources`` at module level; pkg_resources comes
with setuptools, which their Requires-Dist does not name and which Heroku's buildpack installs
only for Python 3.10-3.12 (``lib/pip.sh``), so on 3.13+ the dyno fails to boot with ``No module
named 'pkg_resources'``. The answer is read from the release's real code: its wheel, in
one download (it is small; only what a Procfile process runs is read), each module parsed with
:mod:`ast` for import statements at module level (not inside a function, nor a ``try`` that
catches ImportError). Wheels never change, so answers are cached on disk for good.

The same releases also bring their own copy of six (``gunicorn/six.py``, six 1.8.0) and import
``gunicorn.six.moves...`` at module level. six's ``moves`` are served by an import hook that,
before six 1.16.0, only had ``find_module``, which Python 3.12 stopped calling: there the
import ends with ``No module named 'gunicorn.six.moves'`` (:func:`vendored_six_break`).
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements.index import PackageIndex
from homedeploy.requirements.metadata import _pick_wheel

CACHE_SECTION = "wheel-startup-imports"
SIX_CACHE_SECTION = "wheel-vendored-six"
SIX_FIXED = (1, 16)
"""The six release whose import hook has ``find_spec`` (what Python 3.12+ needs)."""
SIX_BROKEN_FROM = (3, 12)
"""The first Python that no longer calls an import hook's ``find_module``."""
_SIX_VERSION_RE = re.compile(r"^__version__\s*=\s*[\"']([0-9][0-9.]*)[\"']", re.MULTILINE)
MAX_MODULE = 2_000_000
WATCHED = ("pkg_resources",)
"""Modules a release may import that only an undeclared distribution provides."""


def _guarded(handler_types: list[ast.expr]) -> bool:
    names = {n.id for t in handler_types for n in ast.walk(t) if isinstance(n, ast.Name)}
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _module_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements a module runs when it is imported: at module level, in either
    branch of an ``if``, and in a ``try`` unless an ImportError handler guards it."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.Try):
            handlers = [h.type for h in node.handlers if h.type is not None]
            if not _guarded(handlers) and all(h.type is not None for h in node.handlers):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
            yield from _module_level_imports(node.finalbody)
        elif isinstance(node, ast.If):
            yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)


def _module_level(tree: ast.Module, watched: tuple[str, ...]) -> list[int]:
    """Lines of module-level imports of ``watched`` modules, outside an ImportError guard."""
    found: list[int] = []
    for node in _module_level_imports(tree.body):
        if isinstance(node, ast.Import):
            if any(alias.name.split(".")[0] in watched for alias in node.names):
                found.append(node.lineno)
        elif node.level == 0 and (node.module or "").split(".")[0] in watched:
            found.append(node.lineno)
    return found


def _scan(archive: zipfile.ZipFile, watched: tuple[str, ...]) -> list[list[object]]:
    hits: list[list[object]] = []
    for info in archive.infolist():
        name = info.filename
        first = name.split("/", 1)[0]
        if not name.endswith(".py") or first.endswith((".dist-info", ".data")):
            continue
        if "/tests/" in f"/{name}" or info.file_size > MAX_MODULE:
            continue
        try:
            tree = ast.parse(archive.read(info), filename=name)
        except (SyntaxError, ValueError):
            continue
        hits.extend([name, line] for line in _module_level(tree, watched))
    return hits


def _vendored_six(archive: zipfile.ZipFile) -> dict[str, str]:
    """Dotted module path -> version of each copy of six shipped inside a package (a module
    named ``six.py`` below a top-level package, with a ``__version__``)."""
    found: dict[str, str] = {}
    for info in archive.infolist():
        name = info.filename
        if not name.endswith("/six.py") or name.split("/", 1)[0].endswith((".dist-info", ".data")):
            continue
        if info.file_size > MAX_MODULE:
            continue
        match = _SIX_VERSION_RE.search(archive.read(info).decode("utf-8", "replace"))
        if match:
            found[name[: -len(".py")].replace("/", ".")] = match.group(1)
    return found


def _old(version: str) -> bool:
    parts = tuple(int(part) for part in version.split(".") if part.isdigit())
    return parts < SIX_FIXED


def _six_moves_imports(archive: zipfile.ZipFile, six_modules: list[str]) -> list[list[object]]:
    """``[file, line, six module]`` of module-level imports of ``<six module>.moves...``."""
    hits: list[list[object]] = []
    for info in archive.infolist():
        name = info.filename
        if not name.endswith(".py") or name.split("/", 1)[0].endswith((".dist-info", ".data")):
            continue
        if "/tests/" in f"/{name}" or info.file_size > MAX_MODULE or name.endswith("/six.py"):
            continue
        package = name[: -len(".py")].replace("/", ".").rsplit(".", 1)[0]
        try:
            tree = ast.parse(archive.read(info), filename=name)
        except (SyntaxError, ValueError):
            continue
        for line, module in _module_level_modules(tree, package):
            for six in six_modules:
                if module == f"{six}.moves" or module.startswith(f"{six}.moves."):
                    hits.append([name, line, six])
    return hits


def _module_level_modules(tree: ast.Module, package: str) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every module-level import outside an ImportError
    guard (relative imports resolved against ``package``). ``from six import moves`` reads an
    attribute, not the import system: only the module a ``from`` names counts."""
    base = package.split(".")
    found: list[tuple[int, str]] = []
    for node in _module_level_imports(tree.body):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif node.level == 0:
            found.append((node.lineno, node.module or ""))
        else:
            # ``from .x`` in a module of package p.q names p.q.x (in p/q/__init__.py too).
            parts = base[: len(base) - (node.level - 1)]
            found.append((node.lineno, ".".join([*parts, *([node.module] if node.module else [])])))
    return found


def _open(index: PackageIndex, url: str) -> zipfile.ZipFile | None:
    from homedeploy import netio, settings
    from homedeploy.requirements.provides import capped_get, download_errors

    if url.startswith("file:"):
        try:
            return zipfile.ZipFile(Path(unquote(urlsplit(url).path)))
        except (OSError, zipfile.BadZipFile):
            return None
    # The whole wheel in one request: scanning every module by range requests would cost one
    # round trip per module. Only the distributions a Procfile process runs are read.
    # Within the index's total deadline: a server dripping the wheel byte by byte never trips
    # the per-read time-out.
    deadline = netio.Deadline(settings.index_deadline(), f"GET {url}")
    try:
        with deadline:
            response = capped_get(index.session(), url, deadline)
        return zipfile.ZipFile(io.BytesIO(response.content)) if response is not None else None
    except download_errors():
        return None


def _wheel_answer(
    index: PackageIndex,
    name: str,
    version: str,
    section: str,
    suffix: str,
    read: Callable[[zipfile.ZipFile], dict[str, Any]],
) -> dict[str, Any] | None:
    """``read``'s answer about ``name`` ``version``'s wheel, from the cache (wheels never
    change) or from the wheel itself; None when it has no wheel or it could not be read."""
    project = index.project(name)
    wheel = _pick_wheel(project, version)
    if wheel is None:
        return None
    url = urljoin(index.page_url(project), wheel.url).split("#", 1)[0]
    key = f"{url} {suffix}" if suffix else url
    entry = disk_cache.read_entry(section, key)
    if entry is None:
        if index.offline:
            return None
        archive = _open(index, url)
        if archive is None:
            return None
        with archive:
            entry = read(archive)
        disk_cache.write_entry(section, key, entry)
    return entry


def startup_imports(
    index: PackageIndex, name: str, version: str, watched: tuple[str, ...] = WATCHED
) -> list[tuple[str, int]] | None:
    """``(file, line)`` of each module-level import of a ``watched`` module in ``name``
    ``version``'s wheel; None when it has no wheel or it could not be read."""
    entry = _wheel_answer(
        index,
        name,
        version,
        CACHE_SECTION,
        ",".join(watched),
        lambda archive: {"hits": _scan(archive, watched)},
    )
    if entry is None:
        return None
    return [(str(file), int(line)) for file, line in entry["hits"]]


def _six_answer(archive: zipfile.ZipFile) -> dict[str, Any]:
    copies = {module: v for module, v in _vendored_six(archive).items() if _old(v)}
    return {"copies": copies, "hits": _six_moves_imports(archive, sorted(copies)) if copies else []}


def vendored_six_break(
    index: PackageIndex, name: str, version: str
) -> tuple[str, str, str, int] | None:
    """``(six version, six module, file, line)`` when ``name`` ``version``'s wheel ships a six
    older than 1.16 and imports its ``moves`` at module level, which fails on Python 3.12+;
    None when it does not, or it has no wheel or the wheel could not be read."""
    entry = _wheel_answer(index, name, version, SIX_CACHE_SECTION, "", _six_answer)
    if entry is None or not entry["hits"]:
        return None
    file, line, six = entry["hits"][0]
    return str(entry["copies"][six]), str(six), str(file), int(line)


def newest_providing(index: PackageIndex, name: str, module: str) -> str | None:
    """The newest final release of ``name`` whose wheel ships ``module`` (setuptools stopped
    shipping pkg_resources), by bisection over its releases: a module is shipped up to some
    release and not after it."""
    from packaging.version import Version

    from homedeploy.requirements.provides import provided_import_names

    releases = [v for v in index.project(name).versions() if not Version(v).is_prerelease]

    def ships(version: str) -> bool | None:
        names = provided_import_names(index, name, version)
        return None if names is None else module in names

    if not releases:
        return None
    if ships(releases[-1]):
        return releases[-1]
    low, high = 0, len(releases) - 1  # releases[high] does not ship it
    found = None
    while low < high:
        middle = (low + high) // 2
        answer = ships(releases[middle])
        if answer:
            found = releases[middle]
            low = middle + 1
        else:
            high = middle
    return found
