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
from pathlib import Path
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


def _module_level(tree: ast.Module, watched: tuple[str, ...]) -> list[int]:
    """Lines of module-level imports of ``watched`` modules, outside an ImportError guard."""
    found: list[int] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                if any(alias.name.split(".")[0] in watched for alias in node.names):
                    found.append(node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and (node.module or "").split(".")[0] in watched:
                    found.append(node.lineno)
            elif isinstance(node, ast.Try):
                handlers = [h.type for h in node.handlers if h.type is not None]
                if not _guarded(handlers) and all(h.type is not None for h in node.handlers):
                    visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)

    visit(tree.body)
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
    guard (relative imports resolved against ``package``)."""
    found: list[tuple[int, str]] = []
    base = package.split(".")

    def absolute(node: ast.ImportFrom) -> str:
        if node.level == 0:
            return node.module or ""
        # ``from .x`` in a module of package p.q names p.q.x (in p/q/__init__.py as well).
        parts = base[: len(base) - (node.level - 1)] if node.level > 1 else base
        return ".".join([*parts, *([node.module] if node.module else [])])

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                # ``from six import moves`` reads an attribute, not the import system: only
                # the module a ``from`` names is imported.
                found.append((node.lineno, absolute(node)))
            elif isinstance(node, ast.Try):
                handlers = [h.type for h in node.handlers if h.type is not None]
                if not _guarded(handlers) and all(h.type is not None for h in node.handlers):
                    visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)

    visit(tree.body)
    return found


def _open(index: PackageIndex, url: str) -> zipfile.ZipFile | None:
    import requests

    from homedeploy import netio, settings
    from homedeploy.requirements.provides import capped_get

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
    except (
        requests.RequestException,
        netio.DeadlineExceeded,
        netio.BodyTooLarge,
        zipfile.BadZipFile,
        ValueError,
        OSError,
    ):
        return None


def startup_imports(
    index: PackageIndex, name: str, version: str, watched: tuple[str, ...] = WATCHED
) -> list[tuple[str, int]] | None:
    """``(file, line)`` of each module-level import of a ``watched`` module in ``name``
    ``version``'s wheel; None when it has no wheel or it could not be read."""
    project = index.project(name)
    wheel = _pick_wheel(project, version)
    if wheel is None:
        return None
    url = urljoin(index.page_url(project), wheel.url).split("#", 1)[0]
    key = f"{url} {','.join(watched)}"
    entry = disk_cache.read_entry(CACHE_SECTION, key)
    if entry is None:
        if index.offline:
            return None
        archive = _open(index, url)
        if archive is None:
            return None
        with archive:
            hits = _scan(archive, watched)
        entry = {"hits": hits}
        disk_cache.write_entry(CACHE_SECTION, key, entry)
    return [(str(file), int(line)) for file, line in entry["hits"]]


def vendored_six_break(
    index: PackageIndex, name: str, version: str
) -> tuple[str, str, str, int] | None:
    """``(six version, six module, file, line)`` when ``name`` ``version``'s wheel ships a six
    older than 1.16 and imports its ``moves`` at module level, which fails on Python 3.12+;
    None when it does not, or it has no wheel or the wheel could not be read."""
    project = index.project(name)
    wheel = _pick_wheel(project, version)
    if wheel is None:
        return None
    url = urljoin(index.page_url(project), wheel.url).split("#", 1)[0]
    entry = disk_cache.read_entry(SIX_CACHE_SECTION, url)
    if entry is None:
        if index.offline:
            return None
        archive = _open(index, url)
        if archive is None:
            return None
        with archive:
            copies = {module: v for module, v in _vendored_six(archive).items() if _old(v)}
            hits = _six_moves_imports(archive, sorted(copies)) if copies else []
        entry = {"copies": copies, "hits": hits}
        disk_cache.write_entry(SIX_CACHE_SECTION, url, entry)
    if not entry["hits"]:
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
