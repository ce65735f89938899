"""Whether a release's own code imports a module at import time that nothing installs.

Old gunicorn releases (19.x) run ``import pkg_resources`` at module level; pkg_resources comes
with setuptools, which their Requires-Dist does not name and which Heroku's buildpack installs
only for Python 3.10-3.12 (``lib/pip.sh``), so on 3.13+ the dyno fails to boot with ``No module
named 'pkg_resources'``. The answer is read from the release's real code: its wheel, in
one download (it is small; only what a Procfile process runs is read), each module parsed with
:mod:`ast` for import statements at module level (not inside a function, nor a ``try`` that
catches ImportError). Wheels never change, so answers are cached on disk for good.
"""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements.index import PackageIndex
from homedeploy.requirements.metadata import _pick_wheel

CACHE_SECTION = "wheel-startup-imports"
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
