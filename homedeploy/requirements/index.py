"""What the package indexes pip is configured with hold for a project: its files and versions.

check-reqs has to know, for a couple of hundred names at once, whether each project exists,
which versions it has and which files (wheels for which platforms, sdists) each version ships.
That is the "simple" repository API (PEP 503 HTML, PEP 691 JSON), asked concurrently, through the
same indexes and find-links pip would use (pip's own configuration and ``PIP_*`` variables, plus
options in the requirements file). Answers are cached on disk with their HTTP caching headers, so
a second run costs milliseconds and ``offline`` runs work from the cache alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from homedeploy.errors import NetworkError
from homedeploy.requirements import cache as disk_cache

if TYPE_CHECKING:
    import requests
    from packaging.version import Version

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
DEFAULT_TTL = 600.0
"""Seconds an index page stays fresh when the server sends no Cache-Control (the default
index itself announces ``max-age=600``)."""
NOT_FOUND_TTL = 86400.0
"""Seconds a "not on the index" answer is trusted (such names seldom appear overnight)."""
RELEASES_TTL = 86400.0
"""Seconds a cached page may answer questions about existing releases (see ``stale_ok``)."""
TIMEOUT = (5.0, 20.0)
MAX_PAGE_BYTES = 64 * 1024 * 1024
"""The biggest project page read (the largest real ones are a few MB)."""
WORKERS = 4
"""Threads fetching pages at once. Reading a page is many small TLS reads, each of which
must win the GIL back from a thread parsing another page: past a few threads they mostly wait
for it (measured: 234 pages took longer with 8 or 16 threads than with 4)."""
CACHE_SECTION = "index-pages"
FILE_CACHE_SECTION = "file-index-pages"
_MAX_AGE_RE = re.compile(r"max-age=(\d+)")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


@dataclass(frozen=True)
class IndexSources:
    """Where pip looks for packages: index URLs (first one primary) and find-links locations."""

    index_urls: tuple[str, ...]
    find_links: tuple[str, ...] = ()
    cert: str | None = None

    def describe(self) -> str:
        return ", ".join(redact(url) for url in (*self.index_urls, *self.find_links))


class DistFile(NamedTuple):
    """One downloadable file of a project: a wheel or an sdist of ``version``.

    A named tuple rather than a dataclass: a freeze's projects list tens of thousands of
    files, and a tuple is a third of the memory and quick to build (and to cache as a row)."""

    filename: str
    url: str
    version: str
    is_wheel: bool
    requires_python: str | None = None
    yanked: bool = False
    uploaded: str | None = None  # ISO 8601 upload time (PEP 700), when the index says


@dataclass
class ProjectFiles:
    """Everything the configured indexes list for one (canonical) project name."""

    name: str
    found: bool
    files: list[DistFile] = field(default_factory=list)

    def _grouped(self) -> dict[str, list[DistFile]]:
        """Files by normalised version string, oldest first (computed once; projects have
        thousands)."""
        cached: dict[str, list[DistFile]] | None = self.__dict__.get("_by_version")
        if cached is not None:
            return cached
        raw: dict[str, list[DistFile]] = {}
        for item in self.files:
            raw.setdefault(item.version, []).append(item)
        grouped: dict[str, list[DistFile]] = {}
        for version, items in raw.items():
            key = _normal_version(version)
            if key is not None:
                grouped.setdefault(key, []).extend(items)
        result = {key: grouped[key] for key in sorted(grouped, key=_version_order)}
        self.__dict__["_by_version"] = result
        return result

    def versions(self) -> list[str]:
        """Distinct versions, oldest first (by PEP 440 ordering; unparsable ones dropped)."""
        return list(self._grouped())

    def files_for(self, version: str) -> list[DistFile]:
        key = _normal_version(version)
        if key is None:
            return [item for item in self.files if item.version == version]
        grouped = self._grouped()
        if key not in grouped:
            # PEP 440: ``==1.17`` is ``1.17.0``; pip installs it, so the index has it.
            key = self._equivalent().get(_release_key(key), key)
        return list(grouped.get(key, []))

    def _equivalent(self) -> dict[str, str]:
        """Versions by their spelling without trailing ``.0`` release segments."""
        cached: dict[str, str] | None = self.__dict__.get("_equivalent_keys")
        if cached is None:
            cached = {}
            for key in self._grouped():
                cached.setdefault(_release_key(key), key)
            self.__dict__["_equivalent_keys"] = cached
        return cached


_CANONICAL_RE = re.compile(
    r"(?P<release>(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_n>0|[1-9][0-9]*))?"
    r"(?:\.post(?P<post>0|[1-9][0-9]*))?(?:\.dev(?P<dev>0|[1-9][0-9]*))?"
)
"""A version already in PEP 440's normal form (``str(Version(v)) == v``) with no epoch or
local part: 99% of a freeze's."""
_PARSED: dict[str, tuple[Version, str] | None] = {}
"""Versions parsed so far: projects share most version strings (15,000 per-project versions
in the seed freeze are 5,000 distinct strings)."""
_NORMAL: dict[str, str | None] = {}
_ORDER: dict[str, tuple[Any, ...]] = {}
_BELOW, _VALUE, _ABOVE = (0,), 1, (2,)  # PEP 440's -infinity, a value, +infinity


def _normal_version(version: str) -> str | None:
    """``version`` in PEP 440's normal form (packaging's ``str(Version(version))``), None
    when it is not a PEP 440 version; without building a Version when it already is."""
    try:
        return _NORMAL[version]
    except KeyError:
        pass
    if _CANONICAL_RE.fullmatch(version):
        normal: str | None = version
    else:
        parsed = _parsed_version(version)
        normal = parsed[1] if parsed is not None else None
    _NORMAL[version] = normal
    return normal


def _version_order(normal: str) -> tuple[Any, ...]:
    """A sort key for a normal-form version that orders as packaging's Version does.

    Why not ``Version`` itself: a freeze's projects list ~24,000 distinct versions, and
    building a Version is ~9 us each (a fifth of a warm check-reqs); the key is read off the
    normal form by one regular expression, following PEP 440's ordering as packaging encodes
    it (release without trailing zeros; a dev-only release before pre-releases, pre-releases
    before the release, post-releases after it, dev before the release it develops; local
    parts last, strings before numbers). Forms the pattern does not cover (epochs, local
    versions) are read from packaging's Version.
    """
    key = _ORDER.get(normal)
    if key is not None:
        return key
    match = _CANONICAL_RE.fullmatch(normal)
    if match is not None:
        release = tuple(int(part) for part in match["release"].split("."))
        pre = (match["pre"], int(match["pre_n"])) if match["pre"] else None
        post = int(match["post"]) if match["post"] is not None else None
        dev = int(match["dev"]) if match["dev"] is not None else None
        key = _order_key(0, release, pre, post, dev, None)
    else:
        from packaging.version import Version

        parsed = Version(normal)
        local = parsed.local
        parts = (
            tuple(
                (1, int(part), "") if part.isdigit() else (0, 0, part.lower())
                for part in re.split(r"[._-]", local)
            )
            if local
            else None
        )
        key = _order_key(parsed.epoch, parsed.release, parsed.pre, parsed.post, parsed.dev, parts)
    _ORDER[normal] = key
    return key


def _order_key(
    epoch: int,
    release: tuple[int, ...],
    pre: tuple[str, int] | None,
    post: int | None,
    dev: int | None,
    local: tuple[Any, ...] | None,
) -> tuple[Any, ...]:
    trimmed = list(release)
    while trimmed and trimmed[-1] == 0:
        trimmed.pop()
    if pre is None and post is None and dev is not None:
        pre_key: tuple[Any, ...] = _BELOW
    elif pre is None:
        pre_key = _ABOVE
    else:
        pre_key = (_VALUE, pre[0], pre[1])
    return (
        epoch,
        tuple(trimmed),
        pre_key,
        _BELOW if post is None else (_VALUE, post),
        _ABOVE if dev is None else (_VALUE, dev),
        _BELOW if local is None else (_VALUE, local),
    )


def _parsed_version(version: str) -> tuple[Version, str] | None:
    """``version`` parsed and in normal form; None when it is not a PEP 440 version."""
    try:
        return _PARSED[version]
    except KeyError:
        pass
    from packaging.version import InvalidVersion, Version

    try:
        parsed = Version(version)
    except InvalidVersion:
        result = None
    else:
        result = (parsed, version if _CANONICAL_RE.fullmatch(version) else str(parsed))
    _PARSED[version] = result
    return result


def known_version(version: str) -> Version:
    """``Version(version)``, parsed once per process (a version listed by an index: projects
    list thousands, and the same strings recur across projects and questions)."""
    parsed = _parsed_version(version)
    if parsed is None:
        from packaging.version import Version

        return Version(version)  # raises InvalidVersion, as Version does
    return parsed[0]


def _release_key(version: str) -> str:
    from packaging.utils import canonicalize_version

    return canonicalize_version(version, strip_trailing_zero=True)


def redact(url: str) -> str:
    """``url`` without user name or password, for messages and reports."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def _pip_settings() -> dict[str, str]:
    """pip's merged configuration as ``{option: value}``: env vars over install over global."""
    ranked: dict[str, tuple[int, str]] = {}
    rank = {"global": 0, "install": 1, ":env:": 2}

    def take(key: str, value: Any) -> None:
        section, _, option = key.partition(".")
        if section in rank and isinstance(value, str):
            previous = ranked.get(option)
            if previous is None or rank[section] >= previous[0]:
                ranked[option] = (rank[section], value)

    try:
        from pip._internal.configuration import Configuration

        configuration = Configuration(isolated=False)
        configuration.load()
        for first, second in configuration.items():
            if isinstance(second, dict):
                for key, value in second.items():
                    take(key, value)
            else:
                take(first, second)
    except Exception:
        # pip's internals moved or a config file is broken: fall back to the environment only.
        for variable, value in os.environ.items():
            if variable.startswith("PIP_"):
                take(":env:." + variable[4:].lower().replace("_", "-"), value)
    return {option: value for option, (_, value) in ranked.items()}


def default_index_url() -> str:
    """pip's built-in index, asked from pip itself (never written down here)."""
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def pip_index_sources(file_options: list[tuple[str, str | None]] | None = None) -> IndexSources:
    """Index URLs and find-links exactly as pip would use them here.

    ``file_options`` are ``(flag, value)`` pairs from the requirements file itself
    (``--index-url``, ``--extra-index-url``, ``--find-links``, ``--no-index``), which pip also
    honours and which win over the configuration for ``--index-url``.
    """
    settings = _pip_settings()
    index_url = settings.get("index-url") or default_index_url()
    extra = settings.get("extra-index-url", "").split()
    find_links = settings.get("find-links", "").split()
    no_index = settings.get("no-index", "").lower() in ("1", "true", "yes", "on")
    for flag, value in file_options or []:
        if flag == "--index-url" and value:
            index_url = value
        elif flag == "--extra-index-url" and value:
            extra.append(value)
        elif flag == "--find-links" and value:
            find_links.append(value)
        elif flag == "--no-index":
            no_index = True
    indexes = [] if no_index else [index_url, *extra]
    unique_indexes = tuple(dict.fromkeys(url.rstrip("/") for url in indexes if url))
    return IndexSources(
        unique_indexes, tuple(dict.fromkeys(find_links)), settings.get("cert") or None
    )


class _LinkParser(HTMLParser):
    """Collects ``<a href>`` links with PEP 503 ``data-requires-python`` / ``data-yanked``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str | None, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = dict(attrs)
        href = values.get("href")
        if href:
            self.links.append((href, values.get("data-requires-python"), "data-yanked" in values))


_NAME_SEPARATORS_RE = re.compile(r"[-_.]+")
_OS_PLATFORM_RE = re.compile(r"^(win|macosx|ios|android)")


@lru_cache(maxsize=8192)
def _canonical_raw(name: str) -> str:
    return _NAME_SEPARATORS_RE.sub("-", name).lower()


def _split_filename(filename: str) -> tuple[str, str, bool] | None:
    """``(canonical name, version, is_wheel)`` for a wheel or sdist file name, else None.

    String splitting rather than :mod:`packaging`'s full tag parsing: indexes list thousands of
    files per project, and only the name and version are needed here.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6) or not parts[0] or not parts[1]:
            return None
        return _canonical_raw(parts[0]), parts[1], True
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            raw_name, _, raw_version = stem.rpartition("-")
            if raw_name and raw_version and raw_version[0].isdigit():
                return _canonical_raw(raw_name), raw_version, False
            return None
    return None


_PLATFORM_CLASSES: dict[str, str] = {}
"""Platform tag sets seen so far and their class (a few dozen distinct ones across projects)."""


def _wheel_platform_class(filename: str) -> str:
    """``fit`` for wheels that may install on Linux x86_64 (any Python), ``os`` for Windows or
    macOS ones, ``other`` for the rest (ARM, musl, ...)."""
    tag = filename[:-4].rsplit("-", 1)[-1]
    kind = _PLATFORM_CLASSES.get(tag)
    if kind is None:
        kind = _PLATFORM_CLASSES[tag] = _platform_class(tag)
    return kind


def _platform_class(tag: str) -> str:
    platforms = tag.split(".")
    for platform in platforms:
        if platform == "any" or platform == "linux_x86_64":
            return "fit"
        if platform.startswith("manylinux") and platform.endswith("x86_64"):
            return "fit"
    if all(_OS_PLATFORM_RE.match(platform) for platform in platforms):
        return "os"
    return "other"


class _WheelFilter:
    """Keeps every wheel that could install on Heroku, and one sample of the others.

    Big projects list thousands of wheels for Windows, macOS, ARM and musl; keeping one of each
    kind is enough to tell "only for Windows or macOS" apart, and keeps look-ups and the cache
    small.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def keep(self, filename: str, is_wheel: bool) -> bool:
        if not is_wheel:
            return True
        kind = _wheel_platform_class(filename)
        if kind == "fit":
            return True
        if kind in self.seen:
            return False
        self.seen.add(kind)
        return True


def _files_from_links(
    page_url: str, links: list[tuple[str, str | None, bool]], name: str | None
) -> list[DistFile]:
    files = []
    wheels = _WheelFilter()
    for href, requires_python, yanked in links:
        path = urlsplit(href).path
        filename = unquote(path.rsplit("/", 1)[-1])
        split = _split_filename(filename)
        if split is None or (name is not None and split[0] != name):
            continue
        if not wheels.keep(filename, split[2]):
            continue
        url = urljoin(page_url, href)
        files.append(DistFile(filename, url, split[1], split[2], requires_python, yanked))
    return files


# The standard decoder's C scanner: one JSON value from a position (set on each decoder).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACE = re.compile(r"[ \t\n\r]*")


_SPACES = " \t\n\r"


def _skip_space(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _scan_json_files(text: str, take: Callable[[Any], None]) -> bool:
    """Hand each item of a PEP 691 page's top-level ``files`` array to ``take``, in order;
    False when the page is not valid JSON of that shape.

    The page is scanned one value at a time with the standard decoder's own scanner, so one
    file entry at a time exists as Python objects: a 3 MB page decoded whole is ~11 MB of dicts
    and strings, of which a few hundred KB are kept (see :func:`_files_from_json`).
    """
    scan = _SCAN
    try:
        at = _skip_space(text, 0)
        if text[at] != "{":
            return False
        at = _skip_space(text, at + 1)
        while text[at] != "}":
            key, at = scan(text, at)
            at = _skip_space(text, at)
            if text[at] != ":":
                return False
            at = _skip_space(text, at + 1)
            if key == "files" and text[at] == "[":
                at = _skip_space(text, at + 1)
                if text[at] != "]":
                    while True:
                        entry, at = scan(text, at)
                        take(entry)
                        if text[at] in _SPACES:
                            at = _skip_space(text, at)
                        if text[at] == "]":
                            break
                        if text[at] != ",":
                            return False
                        at += 1
                        if text[at] == " " and text[at + 1] not in _SPACES:
                            at += 1  # the usual ", " between entries
                        elif text[at] in _SPACES:
                            at = _skip_space(text, at)
                at += 1
            else:
                _, at = scan(text, at)
            at = _skip_space(text, at)
            if text[at] == ",":
                at = _skip_space(text, at + 1)
            elif text[at] != "}":
                return False
        return not text[at + 1 :].strip()
    except (StopIteration, IndexError, ValueError):
        return False


class _FileChoice:
    """Which entries of one project page become :class:`DistFile` rows.

    The same choice as :func:`_split_filename` and :class:`_WheelFilter` make, written out
    for wheels (most entries of a big page), which are split once; decided from the file name
    alone.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: set[str] = set()
        self.names: dict[str, str] = {}
        self.shared: dict[str, str] = {}  # one string per distinct version and Requires-Python
        self.files: list[DistFile] = []

    def decide(self, filename: str) -> tuple[str, bool] | None:
        """``(version, is_wheel)`` when the file is kept, else None (in page order: the first
        wheel of each unfit kind is kept as a sample)."""
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) not in (5, 6) or not parts[0] or not parts[1]:
                return None
            raw = parts[0]
            canonical = self.names.get(raw)
            if canonical is None:
                canonical = self.names[raw] = _canonical_raw(raw)
            if canonical != self.name:
                return None
            tag = parts[-1]
            kind = _PLATFORM_CLASSES.get(tag)
            if kind is None:
                kind = _PLATFORM_CLASSES[tag] = _platform_class(tag)
            if kind != "fit":
                if kind in self.seen:
                    return None
                self.seen.add(kind)
            return parts[1], True
        split = _split_filename(filename)
        if split is None or split[0] != self.name:
            return None
        return split[1], False

    def add(self, entry: dict[str, Any], filename: str, version: str, is_wheel: bool) -> None:
        uploaded = entry.get("upload-time")
        requires_python = entry.get("requires-python") or None
        if isinstance(requires_python, str):
            requires_python = self.shared.setdefault(requires_python, requires_python)
        else:
            requires_python = None  # PEP 691 makes it a string; anything else says nothing
        self.files.append(
            DistFile(
                filename,
                str(entry.get("url", filename)),  # as listed; joined only when downloaded
                self.shared.setdefault(version, version),
                is_wheel,
                requires_python,
                bool(entry.get("yanked")),
                str(uploaded) if uploaded else None,
            )
        )

    def take(self, entry: Any) -> None:
        if not isinstance(entry, dict) or "filename" not in entry:
            return
        filename = str(entry["filename"])
        kept = self.decide(filename)
        if kept is not None:
            self.add(entry, filename, *kept)


def _files_from_json(text: str, name: str) -> list[DistFile]:
    """The files of a PEP 691 JSON project page (none when the page is not valid JSON).

    Each entry is decoded by the standard decoder's scanner and chosen by :class:`_FileChoice`.
    (Finding file names with a pattern first and decoding only the kept entries was tried:
    it measured no faster, as the per-entry Python work is the cost either way.)
    """
    choice = _FileChoice(name)
    if not _scan_json_files(text, choice.take):
        return []  # what json.loads would say: no page at all
    return choice.files


def _max_age(headers: dict[str, str]) -> float | None:
    control = headers.get("cache-control", "").lower()
    if "no-store" in control or "no-cache" in control:
        return 0.0
    match = _MAX_AGE_RE.search(control)
    return float(match.group(1)) if match else None


def _from_json(rows: list[list[Any]]) -> list[DistFile] | None:
    """Files from their cached rows (a :class:`DistFile` is stored as the JSON array of its
    fields); None for rows of another shape, which are then fetched again."""
    try:
        return [DistFile(*row) for row in rows]
    except TypeError:
        return None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default starting value
_malloc_tuned = False


def _return_big_buffers_to_the_system() -> None:
    """Keep glibc from reusing freed page buffers in place of returning them.

    Why: glibc raises its mmap threshold to the size of each large block freed (up to 32 MB),
    so after the first 2 MB index page is freed every later one comes from the heap, which
    only grows: ~20 MB of a freeze's pages stayed resident for the rest of the run. Fixing the
    threshold at glibc's own starting value turns that adjustment off (mallopt(3)); nothing
    happens where the C library is not glibc. Called when the first page is fetched: a run
    answered from the cache has no big buffers, and mapping each large block costs it
    ~0.05 s of system time.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError, ValueError):
        return  # no confstr name, no glibc


class _CachedPages:
    """A batch's cache entries, read a chunk of names at a time as its look-ups reach them.

    One query per chunk and section rather than per page (a batch is a few hundred, and a
    ``file://`` index adds a page of its own for each name), and rather than one for the whole
    batch: a freeze's cached pages decoded at once are ~20 MB of rows held until the last of
    them is turned into files. Each entry is handed out once and then freed.
    """

    CHUNK = 32

    def __init__(
        self, keys_by_name: dict[str, list[str]], file_keys: Callable[[str], list[str]]
    ) -> None:
        self._keys = keys_by_name
        self._file_keys = file_keys
        self._names = list(keys_by_name)
        self._chunk_of = {name: at // self.CHUNK for at, name in enumerate(self._names)}
        self._read: set[int] = set()
        self._entries: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def pop(self, name: str, key: str, section: str = CACHE_SECTION) -> dict[str, Any] | None:
        """The cache entry ``key`` of ``section`` for one of ``name``'s pages (None: not
        cached)."""
        with self._lock:
            chunk = self._chunk_of.get(name)
            if chunk is not None and chunk not in self._read:
                self._read.add(chunk)
                names = self._names[chunk * self.CHUNK : (chunk + 1) * self.CHUNK]
                pages = [key for each in names for key in self._keys[each]]
                files = [key for each in names for key in self._file_keys(each)]
                for where, keys in ((CACHE_SECTION, pages), (FILE_CACHE_SECTION, files)):
                    if keys:
                        found = disk_cache.read_many(where, keys)
                        self._entries.update(((where, k), v) for k, v in found.items())
            return self._entries.pop((section, key), None)


class OfflineMiss(Exception):
    """An offline look-up found nothing in the cache."""


class PackageIndex:
    """Concurrent, cached look-ups of projects on the configured indexes and find-links.

    ``offline`` answers from the disk cache only (whatever its age) and raises
    :class:`NetworkError` for names it has never seen.

    A batch of look-ups (:meth:`projects`) reads the cache a chunk of names per query
    (:class:`_CachedPages`), fetches what is not fresh with a few threads (one HTTP session
    each, so connections are reused), each page within its own total deadline, and writes
    every new answer in one transaction at the end.
    """

    def __init__(
        self,
        sources: IndexSources,
        *,
        offline: bool = False,
        timeout: tuple[float, float] = TIMEOUT,
        workers: int = WORKERS,
    ) -> None:
        self.sources = sources
        self.offline = offline
        self.timeout = timeout
        self.workers = workers
        self._local = threading.local()
        self._memo: dict[str, ProjectFiles] = {}
        self._link_pages: dict[str, list[tuple[str, list[tuple[str, str | None, bool]]]]] = {}
        self._folders: dict[str, frozenset[str] | None] = {}
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, dict[str, Any]]] = {}
        self._basis: dict[str, float] = {}
        self._inflight: dict[str, Future[ProjectFiles]] = {}
        self._prefetching: threading.Thread | None = None
        self._closed = False
        self.requests_made = 0

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            from homedeploy.netio import RetrySettings, guarded_session

            session = guarded_session(RetrySettings(attempts=2, backoff=0.5, max_sleep=2.0))
            session.headers["User-Agent"] = "homedeploy check-reqs"
            if self.sources.cert:
                session.verify = self.sources.cert
            self._local.session = session
        return session

    def projects(self, names: list[str], *, stale_ok: float = 0.0) -> dict[str, ProjectFiles]:
        """Look up many projects at once (threads), keyed by canonical name.

        ``stale_ok`` (seconds) lets a cached page older than its max-age answer without asking
        the index: for lines whose only question is "does this release exist, with a wheel for
        the target?", whose answer a day-old page gives as well (releases do not change; the
        index sends max-age=600 for the newest-version question). A project a looser call
        answered from such a page is looked up again for a stricter one. Names a
        :meth:`prefetch` is fetching are waited for, not fetched twice."""
        wanted = _canonical_names(names)
        while True:
            waits: list[Future[ProjectFiles]] = []
            missing: list[str] = []
            with self._lock:
                for name in wanted:
                    if name in self._memo and self._basis.get(name, 0.0) <= stale_ok:
                        continue
                    future = self._inflight.get(name)
                    if future is not None and not future.done() and not future.cancel():
                        waits.append(future)  # being fetched: wait for it
                        continue
                    self._inflight.pop(name, None)  # settled, or queued and taken over here
                    missing.append(name)
                claimed = {name: Future[ProjectFiles]() for name in missing}
                self._inflight.update(claimed)
            if not missing and not waits:
                break
            if missing:
                self._batch(claimed, stale_ok, raise_errors=True)
            if waits:
                wait(waits)  # then look again: a failed or looser answer is fetched here
        return {name: self._memo[name] for name in wanted}

    def prefetch(self, names: list[str], *, stale_ok: float = 0.0) -> None:
        """Start looking up ``names`` in the background (one at a time per index: see
        :meth:`projects`, which waits for them); errors are left for the later
        :meth:`projects` call to meet again. Why: a freeze's few hundred pages are most of
        check-reqs' time, and its names are known long before the app's needs are."""
        if self.offline or self._prefetching is not None:
            return
        wanted = _canonical_names(names)
        with self._lock:
            claimed = {
                name: Future[ProjectFiles]()
                for name in wanted
                if name not in self._memo and name not in self._inflight
            }
            self._inflight.update(claimed)
        if not claimed:
            return

        def work() -> None:
            with contextlib.suppress(Exception):
                self._batch(claimed, stale_ok, raise_errors=False)

        self._prefetching = threading.Thread(target=work, name="index-prefetch", daemon=True)
        self._prefetching.start()

    def close(self) -> None:
        """Stop a :meth:`prefetch`: pages not started are not fetched (the few being read
        finish within their deadline), so a command that ends early does not wait for them."""
        self._closed = True

    def _batch(
        self, claimed: dict[str, Future[ProjectFiles]], stale_ok: float, *, raise_errors: bool
    ) -> None:
        """Look up the ``claimed`` names (their futures are settled whatever happens): the
        cache a chunk per query, the rest with a few threads, the new answers in one write."""
        names = list(claimed)
        try:
            self._prefetch_find_links()
            cached = _CachedPages(
                {name: [f"{url}/{name}/" for url in self._http_indexes()] for name in names},
                self._file_page_keys,
            )
            self._lookup_all(claimed, stale_ok, cached, raise_errors)
        finally:
            with self._lock:
                for name, future in claimed.items():
                    if self._inflight.get(name) is future:
                        del self._inflight[name]
                    if not future.done():
                        future.cancel()
                        future.set_running_or_notify_cancel()
            self._flush()

    def _lookup_all(
        self,
        claimed: dict[str, Future[ProjectFiles]],
        stale_ok: float,
        cached: _CachedPages,
        raise_errors: bool,
    ) -> None:
        workers = max(1, min(self.workers, len(claimed)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="index") as pool:
            futures = {
                pool.submit(
                    self._claimed_lookup, name, claim, stale_ok, cached, not raise_errors
                ): name
                for name, claim in claimed.items()
            }
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            failures = [future for future in done if future.exception() is not None]
            if failures and raise_errors:
                error = failures[0].exception()
                offline_misses = [
                    futures[f] for f in failures if isinstance(f.exception(), OfflineMiss)
                ]
                if offline_misses:
                    raise NetworkError(
                        "--offline: the cache holds no index data for "
                        + ", ".join(sorted(offline_misses)),
                        fix="run once without --offline to fill the cache.",
                    )
                assert error is not None
                raise error

    def _claimed_lookup(
        self,
        name: str,
        claim: Future[ProjectFiles],
        stale_ok: float,
        cached: _CachedPages,
        background: bool,
    ) -> None:
        """Look ``name`` up unless another call took it over meanwhile (see :meth:`projects`:
        a name queued here but not started yet is fetched by whoever needs it first), or it
        is a :meth:`prefetch` that :meth:`close` stopped."""
        if background and self._closed:
            claim.cancel()
        if not claim.set_running_or_notify_cancel():
            return
        try:
            result, basis = self._lookup(name, stale_ok, cached)
        except BaseException as error:
            claim.set_exception(error)
            raise
        with self._lock:
            self._memo[result.name] = result
            self._basis[result.name] = basis
        claim.set_result(result)

    def _http_indexes(self) -> list[str]:
        return [url for url in self.sources.index_urls if urlsplit(url).scheme != "file"]

    def _store(self, section: str, key: str, record: dict[str, Any]) -> None:
        """Keep ``record`` for the batch's one write to the cache (see :meth:`_flush`)."""
        with self._lock:
            self._pending.setdefault(section, {})[key] = record

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for section in list(pending):
            disk_cache.write_many(section, pending.pop(section))

    def project(self, name: str) -> ProjectFiles:
        return next(iter(self.projects([name]).values()))

    def page_url(self, project: ProjectFiles) -> str:
        """The primary index's page for ``project`` (where its file links are relative to)."""
        return f"{self.sources.index_urls[0]}/{project.name}/" if self.sources.index_urls else ""

    def session(self) -> requests.Session:
        """This thread's HTTP session for the indexes (their certificate, our User-Agent)."""
        return self._session()

    def _lookup(
        self,
        name: str,
        stale_ok: float = 0.0,
        cached: _CachedPages | None = None,
    ) -> tuple[ProjectFiles, float]:
        """The project's files, and how old (seconds past max-age) a cached page that gave
        them may have been (0.0: every page was fresh)."""
        self._local.stale = False
        files: list[DistFile] = []
        found = False
        for index_url in self.sources.index_urls:
            page = self._index_page(index_url, name, stale_ok, cached)
            if page is not None:
                found = True
                files.extend(page)
        for location, links in self._link_pages.items():
            matched = [
                item
                for page_url, page_links in links
                for item in _files_from_links(page_url, page_links, name)
            ]
            if matched:
                found = True
                files.extend(matched)
            del location
        unique = {item.filename: item for item in files}
        basis = stale_ok if getattr(self._local, "stale", False) else 0.0
        return ProjectFiles(name, found, list(unique.values())), basis

    def _prefetch_find_links(self) -> None:
        """Read every find-links location once (a folder listing, or one HTML page)."""
        for location in self.sources.find_links:
            if location in self._link_pages:
                continue
            self._link_pages[location] = self._read_find_links(location)

    def _read_find_links(
        self, location: str
    ) -> list[tuple[str, list[tuple[str, str | None, bool]]]]:
        parts = urlsplit(location)
        if parts.scheme in ("http", "https"):
            links = self._fetch_html_links(location)
            return [(location, links)]
        folder = Path(unquote(parts.path) if parts.scheme == "file" else location).expanduser()
        if folder.is_dir():
            base = folder.resolve().as_uri() + "/"
            return [(base, [(child.name, None, False) for child in folder.iterdir()])]
        if folder.is_file():
            text = folder.read_text(encoding="utf-8", errors="replace")
            parser = _LinkParser()
            parser.feed(text)
            return [(folder.resolve().as_uri(), parser.links)]
        return []

    def _fetch_html_links(self, url: str) -> list[tuple[str, str | None, bool]]:
        entry = self._cached_fetch(url, None)
        if not isinstance(entry, dict):
            return []
        return [(str(row[0]), row[1], bool(row[2])) for row in entry.get("links", [])]

    def _index_page(
        self,
        index_url: str,
        name: str,
        stale_ok: float = 0.0,
        cached: _CachedPages | None = None,
    ) -> list[DistFile] | None:
        page_url = f"{index_url}/{name}/"
        if urlsplit(page_url).scheme == "file":
            return self._file_index_page(index_url, name, cached)
        # Taken out of the batch: its rows become files once and are then freed.
        entry = (
            cached.pop(name, page_url)
            if cached is not None
            else disk_cache.read_entry(CACHE_SECTION, page_url)
        )
        fetched = self._cached_fetch(page_url, name, stale_ok, entry)
        if fetched is None:
            return None
        if isinstance(fetched, list):
            return fetched
        files = _from_json(fetched.get("files") or [])
        if files is None:  # a row of another shape: ask the index again
            fetched = self._cached_fetch(page_url, name, stale_ok, None)
            return fetched if isinstance(fetched, list) or fetched is None else []
        return files

    def _folder_names(self, index_url: str) -> frozenset[str] | None:
        """The project folders of a ``file://`` index (listed once per run), None when its
        root cannot be listed (then each project's folder is looked at by itself)."""
        if index_url not in self._folders:
            root = Path(unquote(urlsplit(index_url).path))
            try:
                names: frozenset[str] | None = frozenset(os.listdir(root))
            except OSError:
                names = None
            self._folders[index_url] = names
        return self._folders[index_url]

    def _file_page(self, index_url: str, name: str) -> tuple[Path, str] | None:
        """``name``'s ``index.html`` in a ``file://`` index and its cache key (the page is
        parsed once per version of the file: the parse, not the read, costs on a big mirror),
        or None when there is no such page."""
        listed = self._folder_names(index_url)
        if listed is not None and name not in listed:
            return None
        index_html = Path(unquote(urlsplit(f"{index_url}/{name}/").path)) / "index.html"
        try:
            stat = index_html.stat()
        except OSError:
            return None
        if not index_html.is_file():
            return None
        return index_html, f"{index_html}:{stat.st_mtime_ns}:{stat.st_size}"

    def _file_page_keys(self, name: str) -> list[str]:
        indexes = [url for url in self.sources.index_urls if urlsplit(url).scheme == "file"]
        pages = (self._file_page(url, name) for url in indexes)
        return [page[1] for page in pages if page is not None]

    def _file_index_page(
        self, index_url: str, name: str, cached: _CachedPages | None = None
    ) -> list[DistFile] | None:
        listed = self._folder_names(index_url)
        if listed is not None and name not in listed:
            return None
        folder = Path(unquote(urlsplit(f"{index_url}/{name}/").path))
        page = self._file_page(index_url, name)
        if page is not None:
            index_html, key = page
            entry = (
                cached.pop(name, key, FILE_CACHE_SECTION)
                if cached is not None
                else disk_cache.read_entry(FILE_CACHE_SECTION, key)
            )
            files = _from_json(entry.get("files") or []) if entry is not None else None
            if files is not None:
                return files
            parser = _LinkParser()
            parser.feed(index_html.read_text(encoding="utf-8", errors="replace"))
            files = _files_from_links(index_html.as_uri(), parser.links, name)
            self._store(FILE_CACHE_SECTION, key, {"files": files})
            return files
        if folder.is_dir():
            base = folder.as_uri() + "/"
            return _files_from_links(base, [(c.name, None, False) for c in folder.iterdir()], name)
        return None

    def _cached_fetch(
        self,
        url: str,
        name: str | None,
        stale_ok: float = 0.0,
        entry: dict[str, Any] | bool | None = True,
    ) -> dict[str, Any] | list[DistFile] | None:
        """A page from the cache when fresh, else from the network (revalidating).

        ``entry`` is the page's cache entry when the caller read it already (None: not
        cached), ``True`` to read it here. Returns the cache entry (``files`` rows for a
        project page, ``links`` for a find-links page), the parsed files of a project page
        just fetched, or None when the index has no such page (404/410). New answers are
        kept for the batch's one write to the cache.
        """
        if entry is True:
            entry = disk_cache.read_entry(CACHE_SECTION, url)
        assert entry is None or isinstance(entry, dict)
        now = time.time()
        if entry is not None:
            age = now - float(entry.get("fetched", 0))
            kept_for = float(entry.get("max_age", 0))
            fresh = age < max(kept_for, stale_ok)
            if fresh or self.offline:
                if age >= kept_for:
                    self._local.stale = True
                return entry if entry.get("status") == 200 else None
        if self.offline:
            raise OfflineMiss(url)
        headers = {"Accept": ACCEPT if name is not None else "text/html"}
        if entry is not None and entry.get("status") == 200:
            if entry.get("etag"):
                headers["If-None-Match"] = str(entry["etag"])
            if entry.get("last_modified"):
                headers["If-Modified-Since"] = str(entry["last_modified"])
        import requests

        from homedeploy import netio, settings

        _return_big_buffers_to_the_system()  # pages are coming: see there (not for a warm run)
        deadline = netio.Deadline(settings.index_deadline(), f"GET {redact(url)}")
        try:
            with deadline:
                response = self._session().get(
                    url, headers=headers, timeout=deadline.timeout(*self.timeout), stream=True
                )
                try:
                    body = netio.read_body(response, deadline, limit=MAX_PAGE_BYTES)
                finally:
                    response.close()
        except (requests.RequestException, netio.DeadlineExceeded, netio.BodyTooLarge) as error:
            reason = _short(error) if isinstance(error, requests.RequestException) else str(error)
            if deadline.expired:
                reason = f"no complete answer within {deadline.seconds:g} s"
            raise NetworkError(
                f"cannot reach the package index at {redact(url)}: {reason}",
                fix="check the network and pip's index settings (pip config list), "
                f"or use --offline to work from the cache ({settings.INDEX_DEADLINE} sets the "
                "time allowed per page).",
            ) from None
        with self._lock:
            self.requests_made += 1
        lowered = {key.lower(): value for key, value in response.headers.items()}
        max_age = _max_age(lowered)
        ttl = DEFAULT_TTL if max_age is None else max_age
        if response.status_code == 304 and entry is not None:
            entry.update(fetched=now, max_age=ttl)
            self._store(CACHE_SECTION, url, entry)
            return entry
        if response.status_code in (404, 410):
            # "Not on the index" rarely changes; keep the answer a day, not max-age.
            self._store(
                CACHE_SECTION,
                url,
                {"status": 404, "fetched": now, "max_age": max(ttl, NOT_FOUND_TTL)},
            )
            return None
        if response.status_code != 200:
            raise NetworkError(
                f"the package index at {redact(url)} answered HTTP {response.status_code}",
                fix="check pip's index settings (pip config list) and credentials, "
                "or use --offline to work from the cache.",
            )
        record: dict[str, Any] = {
            "status": 200,
            "fetched": now,
            "max_age": ttl,
            "etag": lowered.get("etag"),
            "last_modified": lowered.get("last-modified"),
        }
        content_type = lowered.get("content-type", "")
        response._content = b""  # the body is read below; the response keeps no copy
        if name is None:
            parser = _LinkParser()
            parser.feed(_text(body, response.encoding))
            record["links"] = [list(link) for link in parser.links]
            self._store(CACHE_SECTION, url, record)
            return record
        if content_type.startswith(JSON_TYPE):
            text = body.decode(json.detect_encoding(body), "replace")
            del body
            parsed = _files_from_json(text, name)
        else:
            parser = _LinkParser()
            parser.feed(_text(body, response.encoding))
            parsed = _files_from_links(response.url, parser.links, name)
        record["files"] = parsed  # a DistFile is stored as the JSON array of its fields
        self._store(CACHE_SECTION, url, record)
        return parsed


def _canonical_names(names: list[str]) -> list[str]:
    from packaging.utils import canonicalize_name

    return list(dict.fromkeys(str(canonicalize_name(name)) for name in names))


def _text(body: bytes, encoding: str | None) -> str:
    """An HTML body as text, in the charset the response names (else UTF-8), as requests
    would decode it."""
    try:
        return body.decode(encoding or "utf-8", "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


def _short(error: Exception) -> str:
    """The last, most specific line of a requests error (no nested reprs)."""
    text = str(error)
    match = re.search(r"\] ([^'\"\]]+)['\"]?\)+$", text)
    if match:
        return match.group(1).strip()
    return text.splitlines()[-1][:200] if text else type(error).__name__
