"""A release's own core metadata (Requires-Dist, Requires-Python), read without downloading it.

pip's resolution report gives the Requires-Dist of what it installed, but check-reqs also has
to ask about releases pip did not pick: a pin left out of the resolution, the candidate
releases of a Flask extension when Flask crosses a major version, or why pip refuses a pin
at all (celery 4.4.1 declares ``pytz (>dev)``, which pip >= 24.1 rejects as invalid metadata).
The index serves a wheel's METADATA file beside it (PEP 658/714: the wheel's URL plus
``.metadata``); when it does not, the METADATA member is read from the wheel itself with HTTP
range requests (:mod:`homedeploy.requirements.provides`). Wheels never change, so answers are
cached on disk for good. Parsing is packaging's (``packaging.metadata``, ``Requirement``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from homedeploy.requirements import cache as disk_cache
from homedeploy.requirements.index import DistFile, PackageIndex, ProjectFiles

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from homedeploy.requirements.platform import TargetPlatform

CACHE_SECTION = "dist-metadata"
TIMEOUT = (5.0, 20.0)
MAX_METADATA = 4_000_000
"""The largest METADATA file read (real ones are a few kB; long READMEs make some 100 kB)."""
PEP658 = "pep658"
WHEEL = "wheel"


@dataclass(frozen=True)
class DistMetadata:
    """The parts of one release's core metadata check-reqs uses."""

    name: str
    version: str
    requires_dist: tuple[str, ...]
    invalid: tuple[str, ...] = ()
    """Requires-Dist entries packaging cannot parse; pip (>= 24.1) refuses such a release."""
    requires_python: str | None = None
    source: str = PEP658

    def requirements(
        self, target: TargetPlatform, extras: tuple[str, ...] = ()
    ) -> list[Requirement]:
        """The valid Requires-Dist entries whose marker holds on ``target`` (with ``extras``)."""
        from packaging.requirements import InvalidRequirement, Requirement

        environment = target.marker_environment()
        found = []
        for text in self.requires_dist:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in ("", *extras)
            ):
                continue
            found.append(requirement)
        return found


def parse(text: str, name: str, version: str, source: str) -> DistMetadata:
    """Core metadata from a METADATA file's text (packaging's lenient email parser)."""
    from packaging.metadata import parse_email
    from packaging.requirements import InvalidRequirement, Requirement

    raw, _unparsed = parse_email(text)
    requires = tuple(raw.get("requires_dist") or ())
    invalid = []
    for entry in requires:
        try:
            Requirement(entry)
        except InvalidRequirement:
            invalid.append(entry)
    return DistMetadata(
        str(raw.get("name") or name),
        str(raw.get("version") or version),
        requires,
        tuple(invalid),
        raw.get("requires_python"),
        source,
    )


def _pick_wheel(project: ProjectFiles, version: str) -> DistFile | None:
    wheels = [f for f in project.files_for(version) if f.is_wheel and not f.yanked]
    if not wheels:
        return None
    return sorted(wheels, key=lambda f: ("none-any" not in f.filename, f.filename))[0]


def _metadata_member(archive: zipfile.ZipFile) -> str | None:
    for info in archive.infolist():
        first, _, rest = info.filename.partition("/")
        if first.endswith(".dist-info") and rest == "METADATA":
            return archive.read(info)[:MAX_METADATA].decode("utf-8", "replace")
    return None


def _local_text(url: str) -> tuple[str, str] | None:
    path = Path(unquote(urlsplit(url).path))
    beside = path.with_name(path.name + ".metadata")
    try:
        if beside.is_file():
            return beside.read_text(encoding="utf-8", errors="replace"), PEP658
        with zipfile.ZipFile(path) as archive:
            text = _metadata_member(archive)
        return (text, WHEEL) if text is not None else None
    except (OSError, zipfile.BadZipFile):
        return None


def _remote_text(session: object, url: str) -> tuple[str, str] | None:
    """The PEP 658 file when the index serves one, else METADATA read from the wheel by range.

    The ``.metadata`` URL is asked whether or not the page advertised it: a missing one costs
    one small 404, and the index's cached pages need no new field for it."""
    import requests

    from homedeploy import netio, settings
    from homedeploy.requirements.provides import _TAIL, _RangeFile, capped_get

    deadline = netio.Deadline(settings.index_deadline(), f"GET {url}.metadata")
    try:
        with deadline:
            response = capped_get(session, url + ".metadata", deadline, limit=MAX_METADATA)
            if response is not None:
                return response.content.decode("utf-8", "replace"), PEP658
            response = capped_get(
                session, url, deadline, ok=(200, 206), headers={"Range": f"bytes=-{_TAIL}"}
            )
            if response is None:
                return None
            if response.status_code == 200:  # a server without range support
                with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                    text = _metadata_member(archive)
                return (text, WHEEL) if text is not None else None
            total = int(response.headers.get("Content-Range", "/0").rsplit("/", 1)[-1] or 0)
            if not total:
                return None
            with zipfile.ZipFile(_RangeFile(session, url, total, response.content)) as archive:
                text = _metadata_member(archive)
            return (text, WHEEL) if text is not None else None
    except (
        requests.RequestException,
        netio.DeadlineExceeded,
        zipfile.BadZipFile,
        ValueError,
        OSError,
    ):
        return None


def release_metadata(index: PackageIndex, name: str, version: str) -> DistMetadata | None:
    """The core metadata of ``name`` ``version`` from one of its wheels on ``index``; None when
    the release has no wheel or it could not be read (offline: not in the cache)."""
    project = index.project(name)
    wheel = _pick_wheel(project, version)
    if wheel is None:
        return None
    url = urljoin(index.page_url(project), wheel.url).split("#", 1)[0]
    entry = disk_cache.read_entry(CACHE_SECTION, url)
    if entry is not None:
        return DistMetadata(
            project.name,
            version,
            tuple(entry["requires_dist"]),
            tuple(entry.get("invalid") or ()),
            entry.get("requires_python"),
            str(entry.get("source") or PEP658),
        )
    if index.offline:
        return None
    found = _local_text(url) if url.startswith("file:") else _remote_text(index.session(), url)
    if found is None:
        return None
    metadata = parse(found[0], project.name, version, found[1])
    disk_cache.write_entry(
        CACHE_SECTION,
        url,
        {
            "requires_dist": list(metadata.requires_dist),
            "invalid": list(metadata.invalid),
            "requires_python": metadata.requires_python,
            "source": metadata.source,
        },
    )
    return metadata
