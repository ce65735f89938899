"""requirements/metadata.py: a release's Requires-Dist from the index's PEP 658/714 file, else
from the wheel's METADATA by range request; invalid entries named; cached for good."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_index import FakeFile, LocalIndex

from homedeploy.requirements.index import IndexSources, PackageIndex
from homedeploy.requirements.metadata import PEP658, WHEEL, release_metadata
from homedeploy.requirements.platform import TargetPlatform

PROJECTS = {
    "served": [FakeFile("served-1.0-py3-none-any.whl", ["kombuish<4.7,>=4.6.8", "pytz (>dev)"])],
    "inwheel": [
        FakeFile(
            "inwheel-2.0-py3-none-any.whl",
            ['redisish>=3; extra == "redis"', "stayput"],
            metadata_file=False,
        )
    ],
    "sdistonly": [FakeFile("sdistonly-1.0.tar.gz")],
}


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    monkeypatch.setenv("HOMEDEPLOY_CACHE_DIR", str(tmp_path / "cache"))
    with LocalIndex(PROJECTS, mode="html") as index:
        yield index


def test_pep658_file_is_read_instead_of_the_wheel(served: LocalIndex) -> None:
    index = PackageIndex(IndexSources((served.url,)))
    found = release_metadata(index, "served", "1.0")
    assert found is not None and found.source == PEP658
    assert found.requires_dist == ("kombuish<4.7,>=4.6.8", "pytz (>dev)")
    assert found.invalid == ("pytz (>dev)",)  # pip >= 24.1 refuses this release
    assert "/files/served-1.0-py3-none-any.whl.metadata" in served.requests
    assert "/files/served-1.0-py3-none-any.whl" not in served.requests
    target = TargetPlatform("3.14")
    assert [str(r) for r in found.requirements(target)] == ["kombuish<4.7,>=4.6.8"]


def test_wheel_metadata_by_range_when_the_index_serves_no_file(served: LocalIndex) -> None:
    index = PackageIndex(IndexSources((served.url,)))
    found = release_metadata(index, "inwheel", "2.0")
    assert found is not None and found.source == WHEEL and not found.invalid
    target = TargetPlatform("3.14")
    assert [r.name for r in found.requirements(target)] == ["stayput"]
    assert [r.name for r in found.requirements(target, ("redis",))] == ["redisish", "stayput"]
    assert release_metadata(index, "sdistonly", "1.0") is None  # no wheel: nothing to read


def test_cached_for_good_and_offline(served: LocalIndex) -> None:
    index = PackageIndex(IndexSources((served.url,)))
    assert release_metadata(index, "served", "1.0") is not None
    asked = len(served.requests)
    offline = PackageIndex(IndexSources((served.url,)))
    offline._memo["served"] = index.project("served")  # the page itself is the index's cache
    offline.offline = True
    again = release_metadata(offline, "served", "1.0")
    assert again is not None and again.invalid == ("pytz (>dev)",)
    assert len(served.requests) == asked
