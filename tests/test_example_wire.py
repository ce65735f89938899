"""What the example app sends: compressed, cached by bytes, quantised, revalidated with ETags."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest
from example_app_support import EXAMPLE  # noqa: F401  (puts example_app/ on sys.path)
from flask import Flask
from homedata_dashboard import create_app
from homedata_dashboard.api import Rendered, _Cache, cache_from_env, quantise_series, render
from homedata_dashboard.assets import _prebuilt, build, sources
from homedata_dashboard.config import ConfigError
from homedata_dashboard.params import parse_time

GZ = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(data_dir=None)


def test_the_cache_is_bounded_by_bytes_not_entries() -> None:
    cache = _Cache(100_000)
    for i in range(500):
        cache.put(("k", i), render(bytes(range(256)) * 20 + str(i).encode(), "text/plain", {}))
        assert cache.bytes <= cache.max_bytes
    assert 0 < len(cache.items) < 500
    assert cache.get(("k", 499)) is not None and cache.get(("k", 0)) is None
    huge = Rendered(b"x" * 50_000, False, "text/plain", (), "e")
    cache.put(("huge",), huge)  # more than an eighth of the budget: never kept
    assert cache.get(("huge",)) is None
    assert cache.bytes == sum(v.cost for v in cache.items.values())


def test_cache_budget_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEDATA_CACHE_MB", "2")
    assert cache_from_env().max_bytes == 2 << 20
    for bad in ("lots", "-1", "5000"):
        monkeypatch.setenv("HOMEDATA_CACHE_MB", bad)
        with pytest.raises(ConfigError, match="HOMEDATA_CACHE_MB"):
            cache_from_env()


def test_many_distinct_heavy_queries_stay_within_the_budget(app: Flask) -> None:
    cache: _Cache = app.extensions["homedata_cache"]
    with app.test_client() as c:
        for points in range(100, 10_001, 37):
            assert c.get(f"/api/series?points={points}&cleaned=0", headers=GZ).status_code == 200
            assert cache.bytes <= cache.max_bytes
    # 268 distinct requests, but points is quantised to multiples of 100: at most 100 entries.
    series_keys = [k for k in cache.items if k[0] == "/api/series"]
    assert len(series_keys) <= 100


def test_nearby_parameters_share_one_answer(app: Flask) -> None:
    with app.test_client() as c:
        a = c.get("/api/series?points=1234", headers=GZ)
        b = c.get("/api/series?points=1299", headers=GZ)
        assert a.headers["ETag"] == b.headers["ETag"]
        z1 = c.get("/api/series?start=2018-03-01T10:00:01&end=2018-03-04T09:59:58.5", headers=GZ)
        z2 = c.get("/api/series?start=2018-03-01T10:00:07&end=2018-03-04T09:59:51", headers=GZ)
        assert z1.headers["ETag"] == z2.headers["ETag"]
    start, end = parse_time("2018-03-01T10:00:01"), parse_time("2018-03-04T09:59:58")
    q = quantise_series({"start": start, "end": end, "points": 150})
    assert q["points"] == 200
    assert q["start"] <= start and q["end"] >= end
    assert (q["end"] - q["start"]) - (end - start) <= 0.01 * (end - start)


def test_json_is_gzipped_when_accepted_and_plain_otherwise(app: Flask) -> None:
    with app.test_client() as c:
        plain = c.get("/api/series", headers={"Accept-Encoding": "identity"})
        zipped = c.get("/api/series", headers=GZ)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2.5  # gzip level 1 (api.GZIP_LEVEL): about 1/3
    assert plain.headers["ETag"] != zipped.headers["ETag"]  # one per encoding


def test_a_revisit_gets_304(app: Flask) -> None:
    with app.test_client() as c:
        for url in ("/api/doors", "/", "/api/workouts?format=csv"):
            first = c.get(url, headers=GZ)
            again = c.get(url, headers={**GZ, "If-None-Match": first.headers["ETag"]})
            assert again.status_code == 304, url
            assert again.data == b""


def test_a_big_csv_is_streamed_whole(app: Flask) -> None:
    with app.test_client() as c:
        plain = c.get("/api/series?format=csv&cleaned=0")
        zipped = c.get("/api/series?format=csv&cleaned=0", headers=GZ)
    assert plain.is_streamed or "Content-Length" not in plain.headers
    rows = list(csv.reader(io.StringIO(plain.data.decode())))
    assert rows[0] == ["room_id", "time", "temperature"]
    store = app.extensions["homedata"]
    raw = sum(int((~np.isnan(r.temperature)).sum()) for r in store.data.rooms.values())
    assert len(rows) - 1 == raw
    assert gzip.decompress(zipped.data) == plain.data
    assert ("/api/series", "csv", ("cleaned", False)) not in app.extensions["homedata_cache"].items


def test_the_page_is_gzipped_and_revalidated(app: Flask) -> None:
    with app.test_client() as c:
        page = c.get("/", headers=GZ)
    assert page.headers["Content-Encoding"] == "gzip"
    assert page.headers["Cache-Control"] == "no-cache"
    assert b"homedata dashboard" in gzip.decompress(page.data)


def test_assets_get_hashed_names_and_compressed_copies(tmp_path: Path) -> None:
    files = sources()
    assets = build(tmp_path / "assets", files, brotli=False)
    assert set(assets.names) == {"charts.js", "dashboard.js", "dashboard.css", "favicon.svg"}
    for logical, hashed in assets.names.items():
        assert hashed != logical and (tmp_path / "assets" / hashed).is_file()
    js = tmp_path / "assets" / assets.names["dashboard.js"]
    assert gzip.decompress((js.parent / (js.name + ".gz")).read_bytes()) == js.read_bytes()
    again = _prebuilt(tmp_path / "assets", files)
    assert again is not None and again.names == assets.names
    (tmp_path / "assets" / "manifest.json").write_text(json.dumps({"sources": {}, "names": {}}))
    assert _prebuilt(tmp_path / "assets", files) is None  # stale: rebuilt at boot
