"""Which import names a distribution provides, read from its own wheel's file list.

``import linebot`` is line-bot-sdk, ``import psycopg2`` is psycopg2 *or* psycopg2-binary, and
``import opencc`` may be OpenCC or opencc-python-reimplemented: only the distribution's files
say. A wheel is a zip whose central directory (at its end) lists every file, so the names are
read with two small HTTP range requests (the tail, then the directory if it is longer), the way
pip's lazy wheels read metadata; servers without range support send the whole file. Wheel files
never change, so the answer is cached on disk for good.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements.index import DistFile, PackageIndex, ProjectFiles

if TYPE_CHECKING:
    import requests

    from homedeploy import netio

CACHE_SECTION = "wheel-names"
TIMEOUT = (5.0, 20.0)
MAX_WHOLE = 30_000_000
"""Bytes a server without range support may send us before we give up on that wheel."""
_TAIL = 65536


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file that fetches the byte ranges read."""

    def __init__(self, session: object, url: str, size: int, tail: bytes) -> None:
        self.session = session
        self.url = url
        self.size = size
        self.position = 0
        self.chunks: dict[int, bytes] = {size - len(tail): tail}

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        for start, chunk in self.chunks.items():
            if start <= self.position and end <= start + len(chunk):
                data = chunk[self.position - start : end - start]
                self.position = end
                return data
        response = self.session.get(  # type: ignore[attr-defined]
            self.url,
            headers={"Range": f"bytes={self.position}-{end - 1}"},
            timeout=TIMEOUT,
        )
        fetched: bytes = response.content[: end - self.position]
        self.chunks[self.position] = fetched
        self.position += len(fetched)
        return fetched

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _names_from_zip(archive: zipfile.ZipFile) -> list[str]:
    """Top-level import names: first path parts that are packages or modules, not metadata."""
    names: set[str] = set()
    top_level: list[str] = []
    for info in archive.infolist():
        first, _, rest = info.filename.partition("/")
        if first.endswith(".dist-info"):
            if rest == "top_level.txt":
                top_level = archive.read(info).decode("utf-8", "replace").split()
            continue
        if first.endswith(".data"):
            parts = rest.split("/")
            if len(parts) >= 3 and parts[0] in ("purelib", "platlib"):
                first, rest = parts[1], "/".join(parts[2:])
            else:
                continue
        if rest:
            if first.isidentifier():
                names.add(first)
        elif first.endswith(".py") or ".cpython-" in first or first.endswith((".so", ".pyd")):
            stem = first.split(".")[0]
            if stem.isidentifier():
                names.add(stem)
    return sorted(names | {name for name in top_level if name.isidentifier()})


def capped_get(
    session: object,
    url: str,
    deadline: netio.Deadline,
    *,
    ok: tuple[int, ...] = (200,),
    limit: int = MAX_WHOLE,
    headers: dict[str, str] | None = None,
) -> requests.Response | None:
    """One GET of a wheel or metadata file inside ``deadline``, its body read as it arrives: None
    when the status is not one of ``ok`` or the body would pass ``limit`` bytes (by its
    Content-Length, or as it arrives). The response returned has its body read and is closed.

    Shared by the file-list, metadata and startup-import reads, which all fetch index files that
    a hostile or broken server could drip or inflate."""
    from homedeploy import netio

    response = session.get(  # type: ignore[attr-defined]
        url, headers=headers, timeout=deadline.timeout(*TIMEOUT), stream=True
    )
    try:
        length = int(response.headers.get("Content-Length") or 0)
        if response.status_code not in ok or length > limit:
            return None
        netio.read_body(response, deadline, limit=limit)
        return response  # type: ignore[no-any-return]
    except (netio.BodyTooLarge, ValueError):
        return None
    finally:
        response.close()


def _remote_names(session: object, url: str) -> list[str] | None:
    """The names from the wheel's central directory, every request of it within the index's
    total deadline (a server dripping bytes never trips a per-read time-out) and every body
    read as it arrives up to :data:`MAX_WHOLE`."""
    from homedeploy import netio, settings

    deadline = netio.Deadline(settings.index_deadline(), f"GET {url}")
    try:
        with deadline:
            response = capped_get(
                session, url, deadline, ok=(200, 206), headers={"Range": f"bytes=-{_TAIL}"}
            )
            if response is None:
                return None
            body = response.content
            if response.status_code == 206:
                total = int(response.headers.get("Content-Range", "/0").rsplit("/", 1)[-1] or 0)
                if not total:
                    return None
                with zipfile.ZipFile(_RangeFile(session, url, total, body)) as archive:
                    return _names_from_zip(archive)
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                return _names_from_zip(archive)
    except download_errors():
        return None


def download_errors() -> tuple[type[Exception], ...]:
    """What reading a wheel from an index can raise that means "no answer": the network,
    the deadline, the size cap or a body that is not a zip (requests is imported here, not at
    start-up)."""
    import requests

    from homedeploy import netio

    return (
        requests.RequestException,
        netio.DeadlineExceeded,
        netio.BodyTooLarge,
        zipfile.BadZipFile,
        ValueError,
        OSError,
    )


def _local_names(url: str) -> list[str] | None:
    path = Path(unquote(urlsplit(url).path))
    try:
        with zipfile.ZipFile(path) as archive:
            return _names_from_zip(archive)
    except (OSError, zipfile.BadZipFile):
        return None


def _pick_wheel(project: ProjectFiles, version: str | None) -> DistFile | None:
    versions = [version] if version else list(reversed(project.versions()))[:3]
    for candidate in versions:
        wheels = [f for f in project.files_for(candidate) if f.is_wheel and not f.yanked]
        if wheels:
            return sorted(wheels, key=lambda f: ("none-any" not in f.filename, f.filename))[0]
    return None


def import_names(
    project: ProjectFiles,
    version: str | None,
    page_url: str,
    session: object,
    *,
    offline: bool = False,
) -> list[str] | None:
    """The import names ``project`` (at ``version``, else its newest wheel) provides; None when
    no wheel could be read (then callers fall back to the name table)."""
    from urllib.parse import urljoin

    wheel = _pick_wheel(project, version)
    if wheel is None:
        return None
    url = urljoin(page_url, wheel.url)
    key = url.split("#", 1)[0]
    entry = disk_cache.read_entry(CACHE_SECTION, key)
    if entry is not None:
        return list(entry["names"])
    if offline:
        return None
    names = _local_names(key) if key.startswith("file:") else _remote_names(session, key)
    if names is not None:
        disk_cache.write_entry(CACHE_SECTION, key, {"names": names})
    return names


def provided_import_names(
    index: PackageIndex, name: str, version: str | None = None
) -> list[str] | None:
    """The import names distribution ``name`` provides, read from its wheel on ``index``."""
    project = index.project(name)
    return import_names(
        project, version, index.page_url(project), index.session(), offline=index.offline
    )
