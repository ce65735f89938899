"""Wheel and metadata downloads are bounded: a total deadline (a server dripping a wheel
cannot hold check-reqs) and a size cap read as the body arrives (a huge answer is cut off,
not read into memory whole); a JSON page's field of the wrong type reads as absent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_index import FakeFile, LocalIndex

from homedeploy.requirements.index import IndexSources, PackageIndex
from homedeploy.requirements.metadata import MAX_METADATA, WHEEL, release_metadata
from homedeploy.requirements.provides import provided_import_names
from homedeploy.requirements.startup_imports import startup_imports

OLD = "oldserver-19.9.0-py2.py3-none-any.whl"
PROJECTS = {
    "oldserver": [FakeFile(OLD, code="import pkg_resources\n")],
    "bigmeta": [FakeFile("bigmeta-1.0-py3-none-any.whl", ["stayput"])],
}


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    with LocalIndex(PROJECTS) as index:
        yield index


def test_startup_imports_read_within_the_index_deadline(
    served: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = PackageIndex(IndexSources((served.url,)))
    index.project("oldserver")  # the page itself arrives at once
    monkeypatch.setenv("HOMEDEPLOY_INDEX_DEADLINE", "1")
    served.drip[OLD] = 0.05  # ~30 s for the whole wheel, each byte well within a read time-out
    started = time.monotonic()
    assert startup_imports(index, "oldserver", "19.9.0") is None  # unknown, not a hang
    assert time.monotonic() - started < 5
    served.drip.clear()
    monkeypatch.delenv("HOMEDEPLOY_INDEX_DEADLINE")
    assert startup_imports(index, "oldserver", "19.9.0") == [("oldserver/__init__.py", 2)]


def test_an_oversized_metadata_file_is_cut_off_while_it_arrives(served: LocalIndex) -> None:
    wheel = "bigmeta-1.0-py3-none-any.whl"
    served.metadata[wheel] = b"Metadata-Version: 2.1\n" + b"x" * (64 * 1024 * 1024)
    index = PackageIndex(IndexSources((served.url,)))
    found = release_metadata(index, "bigmeta", "1.0")
    assert found is not None and found.source == WHEEL  # read from the wheel instead
    assert [r for r in found.requires_dist] == ["stayput"]
    assert served.sent[wheel + ".metadata"] < MAX_METADATA + 16 * 1024 * 1024


def test_import_names_read_within_the_index_deadline(
    served: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = PackageIndex(IndexSources((served.url,)))
    index.project("oldserver")
    monkeypatch.setenv("HOMEDEPLOY_INDEX_DEADLINE", "1")
    served.drip[OLD] = 0.05  # the range requests drip too
    started = time.monotonic()
    assert provided_import_names(index, "oldserver", "19.9.0") is None  # unknown, not a hang
    assert time.monotonic() - started < 5
    served.drip.clear()
    monkeypatch.delenv("HOMEDEPLOY_INDEX_DEADLINE")
    assert provided_import_names(index, "oldserver", "19.9.0") == ["oldserver"]


def test_a_non_string_requires_python_on_a_json_page_is_ignored() -> None:
    from homedeploy.requirements.index import _files_from_json
    from homedeploy.requirements.platform import TargetPlatform

    page = '{"files": [{"filename": "a-1.0-py3-none-any.whl", "url": "u", "requires-python": 5}]}'
    (found,) = _files_from_json(page, "a")
    assert found.requires_python is None
    assert TargetPlatform("3.14").python_fits(found.requires_python)  # no TypeError traceback
