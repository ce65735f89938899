"""The example app over HTTP (Flask's test client): every endpoint, every kind of bad parameter."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from example_app_support import EXAMPLE  # (also puts example_app/ on sys.path)
from flask import Flask
from flask.testing import FlaskClient
from homedata_dashboard import create_app
from homedata_dashboard.api import ENDPOINTS
from homedata_dashboard.loading import SAMPLE_DIR

API_PATHS = sorted(e.path for e in ENDPOINTS)


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(data_dir=None)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def get_json(client: FlaskClient, url: str, status: int = 200) -> dict:  # type: ignore[type-arg]
    response = client.get(url)
    assert response.status_code == status, (url, response.data[:300])
    assert response.mimetype == "application/json"
    return json.loads(response.data)


INDEX_SCHEMA = {
    "type": "object",
    "required": ["endpoints"],
    "properties": {
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["path", "description", "params"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "pattern": "^/api/"},
                    "description": {"type": "string", "minLength": 10},
                    "params": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        }
    },
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        }
    },
}


def test_index_lists_every_endpoint_with_params(client: FlaskClient, app: Flask) -> None:
    body = get_json(client, "/api")
    jsonschema.validate(body, INDEX_SCHEMA)
    listed = {e["path"]: e for e in body["endpoints"]}
    routed = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert set(listed) == routed
    for entry in body["endpoints"]:
        assert entry["description"]
        assert isinstance(entry["params"], dict) and "format" in entry["params"]
        assert all(isinstance(v, str) and v for v in entry["params"].values())


@pytest.mark.parametrize("path", API_PATHS)
def test_every_endpoint_answers_with_defaults(client: FlaskClient, path: str) -> None:
    body = get_json(client, path)
    assert body
    response = client.get(path)
    assert response.headers["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("path", API_PATHS)
def test_every_endpoint_exports_csv(client: FlaskClient, path: str) -> None:
    response = client.get(path + "?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.data.decode())))
    assert len(rows) >= 2 and all(rows[0])


BAD = [
    ("/api/series?start=yesterday", "start"),
    ("/api/series?start=2018-02-30", "start"),
    ("/api/series?end=2018-13-01T10:00", "end"),
    ("/api/series?start=2018-03-05&end=2018-03-01", "end"),
    ("/api/series?start=2018-03-05T10:00:00&end=2018-03-05T10:00:00", "end"),
    ("/api/series?room=9", "room"),
    ("/api/series?room=zero", "room"),
    ("/api/series?room=3&measure=humidity", "room"),
    ("/api/series?measure=pressure", "measure"),
    ("/api/series?points=10", "points"),
    ("/api/series?points=lots", "points"),
    ("/api/series?cleaned=maybe", "cleaned"),
    ("/api/series?format=xml", "format"),
    ("/api/series?rooms=0", "rooms"),
    ("/api/daily?room=0,1", "room"),
    ("/api/daily?room=42", "room"),
    ("/api/indoor-outdoor?room=7", "room"),
    ("/api/indoor-outdoor?start=2018-01-01&end=2017-01-01", "end"),
    ("/api/doors?door=5", "door"),
    ("/api/doors?top=0", "top"),
    ("/api/doors?top=1000", "top"),
    ("/api/air-quality?threshold=-5", "threshold"),
    ("/api/air-quality?threshold=nan", "threshold"),
    ("/api/air-quality?min_days=0", "min_days"),
    ("/api/sensor-health?room=2", "room"),
    ("/api/cleaning?low=90&high=50", "high"),
    ("/api/cleaning?spike=0", "spike"),
    ("/api/workouts?user=99", "user"),
    ("/api/workouts?exclude=walking", "exclude"),
    ("/api/weather?start=2018/01/01", "start"),
    ("/api/sources?verbose=1", "verbose"),
]


@pytest.mark.parametrize(("url", "param"), BAD)
def test_bad_parameters_get_400_with_a_json_error(
    client: FlaskClient, url: str, param: str
) -> None:
    body = get_json(client, url, 400)
    jsonschema.validate(body, ERROR_SCHEMA)
    error = body["error"]
    assert error["status"] == 400
    assert error["param"] == param
    assert error["message"] and error["accepted"]


def test_unknown_paths_are_404_json_under_api_and_html_elsewhere(client: FlaskClient) -> None:
    body = get_json(client, "/api/nothing-here", 404)
    assert body["error"]["status"] == 404 and "GET /api" in body["error"]["message"]
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_only_get(client: FlaskClient) -> None:
    response = client.post("/api/series")
    assert response.status_code == 405
    assert json.loads(response.data)["error"]["status"] == 405


def test_security_headers_everywhere(client: FlaskClient) -> None:
    for url in ("/", "/api", "/api/series", "/api/nope", "/healthz", "/static/dashboard.js"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert (
            "unsafe-eval" not in csp
            and "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        )
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_not_in_debug_mode(app: Flask) -> None:
    assert app.debug is False


def test_no_path_from_a_request_reaches_the_disk(client: FlaskClient) -> None:
    for url in (
        "/static/../wsgi.py",
        "/static/%2e%2e/wsgi.py",
        "/static/charts.js/../../wsgi.py",
        "/static/charts.000000000000.js",
        "/api/series?room=../../etc/passwd",
    ):
        response = client.get(url)
        assert response.status_code in (400, 404), url
        assert b"create_app" not in response.data


# --- content --------------------------------------------------------------------------------


def test_series_overview_is_decimated_and_a_window_is_full_resolution(client: FlaskClient) -> None:
    overview = get_json(client, "/api/series")
    assert {s["room_id"] for s in overview["series"]} == {0, 1, 3, 6}
    for s in overview["series"]:
        assert s["resolution"] == "minmax"
        assert s["points"] <= 1500 and s["raw_points"] > s["points"]
        assert len(s["x"]) == len(s["y"])
    day = get_json(client, "/api/series?room=0&start=2018-03-01&end=2018-03-01")
    (room0,) = day["series"]
    assert room0["resolution"] == "full"
    assert 130 <= room0["points"] <= 144
    assert all(1519862400000 <= x < 1519948800000 for x in room0["x"])


def test_window_bounds_with_fractions_and_without_seconds_are_accepted(client: FlaskClient) -> None:
    body = get_json(
        client, "/api/series?measure=humidity&start=2018-03-01 06:30:00.123&end=2018-03-02 18:00"
    )
    assert {s["room_id"] for s in body["series"]} == {0, 1, 6}  # the attic has no humidity sensor
    assert all(s["resolution"] == "full" for s in body["series"])


def test_cleaning_removes_the_flaws_from_the_series(client: FlaskClient) -> None:
    raw = get_json(client, "/api/series?room=0&cleaned=0&points=10000")
    clean = get_json(client, "/api/series?room=0&points=10000")
    raw_max = max(v for v in raw["series"][0]["y"] if v is not None)
    clean_values = [v for v in clean["series"][0]["y"] if v is not None]
    assert raw_max > 1000
    assert max(clean_values) < 140 and min(clean_values) > 0
    # outages break the line: a null between two points
    assert None in clean["series"][0]["y"]


def test_cleaning_report_and_preview_with_other_rules(client: FlaskClient) -> None:
    body = get_json(client, "/api/cleaning")
    rooms = {r["room_id"]: r for r in body["rooms"]}
    assert rooms[6]["counts"]["oscillation"] > 1000  # the damaged basement sensor
    assert rooms[0]["counts"]["out_of_range"] > 0 and rooms[0]["counts"]["zero_dropout"] > 0
    assert rooms[0]["examples"]["out_of_range"][0]["value"] > 1000
    narrow = get_json(client, "/api/cleaning?room=0&low=60&high=75")
    assert narrow["rules"]["low"] == 60
    assert narrow["rooms"][0]["counts"]["out_of_range"] > rooms[0]["counts"]["out_of_range"]
    removed = client.get("/api/cleaning?room=6&format=csv").data.decode().splitlines()
    assert removed[0] == "room_id,time,temperature,reason"
    assert any(line.endswith(",oscillation") for line in removed)


def test_series_csv_has_every_reading_in_the_window(client: FlaskClient) -> None:
    lines = (
        client.get("/api/series?room=0&start=2018-03-01&end=2018-03-01&format=csv")
        .data.decode()
        .splitlines()
    )
    assert lines[0] == "room_id,time,temperature"
    assert 130 <= len(lines) - 1 <= 144
    assert lines[1].startswith("0,2018-03-01T00:")


def test_daily_outdoor_doors_air_health_workouts_weather(client: FlaskClient) -> None:
    daily = get_json(client, "/api/daily?room=1&measure=humidity")
    assert daily["room_id"] == 1 and len(daily["days"]) == len(daily["mean"]) > 400
    triples = zip(daily["low"], daily["mean"], daily["high"], strict=True)
    assert all(lo <= m <= hi for lo, m, hi in triples)
    outdoor = get_json(client, "/api/indoor-outdoor?room=3")
    assert outdoor["r"] > 0.8  # the attic follows the weather
    assert outdoor["n"] == len(outdoor["days"]) > 200
    doors = get_json(client, "/api/doors")
    assert [d["name"] for d in doors["doors"]] == ["Front Door", "Back Door"]
    assert len(doors["heatmap"]["openings"]) == 7 and len(doors["heatmap"]["openings"][0]) == 24
    assert [x["seconds"] for x in doors["longest"]] == sorted(
        (x["seconds"] for x in doors["longest"]), reverse=True
    )
    back_only = get_json(client, "/api/doors?door=1&top=3")
    assert [d["door_id"] for d in back_only["doors"]] == [1] and len(back_only["longest"]) == 3
    air = get_json(client, "/api/air-quality")
    assert air["warm_up_dropped"] > 0 and len(air["profile"]["median"]) == 24
    assert any(
        e["first_day"].startswith("2018-07") and e["days"] >= 2 for e in air["elevations"]
    )  # painting
    health = get_json(client, "/api/sensor-health?room=6")
    assert health["rooms"][0]["oscillating_days"][0].startswith("2018-08")
    workouts = get_json(client, "/api/workouts?user=2&exclude=none")
    assert workouts["user_id"] == 2 and any(t["type"] == "STILL" for t in workouts["types"])
    default = get_json(client, "/api/workouts")
    assert all(t["type_id"] != 3 for t in default["types"])
    weather = get_json(client, "/api/weather?start=2018-01-01&end=2018-01-31")
    assert len(weather["days"]) == 31 and weather["days"][0] == "2018-01-01"


def test_dashboard_page_shows_the_sample_banner(client: FlaskClient) -> None:
    page = client.get("/").data.decode()
    assert 'id="sample-banner"' in page and "HOMEDATA_DIR" in page
    assert "room_temp.json.gz" in page  # says that gzip'd exports work too
    assert "cdn" not in page.lower() and "http://" not in page.replace("http://www.w3.org", "")
    assert re.search(r'src="/static/charts\.[0-9a-f]{12}\.js"', page)
    assert "plotly" not in page.lower()
    for chart in ("chart-temperature", "chart-humidity", "chart-workouts"):
        assert f'id="{chart}"' in page


def test_every_chart_has_a_text_fallback_for_a_browser_without_javascript(
    client: FlaskClient,
) -> None:
    page = client.get("/").data.decode()
    charts = re.findall(
        r'<div class="chart" id="(chart-[\w-]+)"[^>]*>\s*<p class="fallback">', page
    )
    assert len(charts) == page.count('<div class="chart" ') == 10, charts


def test_the_chart_script_is_ours_served_compressed_and_cached_for_a_year(
    client: FlaskClient,
) -> None:
    page = client.get("/").data.decode()
    match = re.search(r'src="(/static/charts\.[0-9a-f]{12}\.js)"', page)
    assert match, "the page names charts.js by a content-hashed URL"
    source = (EXAMPLE / "homedata_dashboard" / "static" / "charts.js").read_bytes()
    plain = client.get(match.group(1), headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.mimetype == "text/javascript"
    assert "immutable" in plain.headers["Cache-Control"]
    assert "max-age=315360000" in plain.headers["Cache-Control"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.data == source
    plain.close()
    zipped = client.get(match.group(1), headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == source
    assert len(zipped.data) < 20_000
    zipped.close()


def test_healthz(client: FlaskClient) -> None:
    assert get_json(client, "/healthz") == {"ok": True, "sample": True, "mode": "files"}


def test_no_sample_banner_when_every_table_is_real(tmp_path: Path) -> None:
    real = tmp_path / "homedata"
    shutil.copytree(SAMPLE_DIR, real)  # the sample, posing as a full set of exports
    app = create_app(data_dir=real)
    with app.test_client() as c:
        assert 'id="sample-banner"' not in c.get("/").data.decode()
        assert json.loads(c.get("/api/sources").data)["sample"] is False


def test_real_data_mode_with_shared_homedata(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shared_dir / "homedata"
    if not real.is_dir():
        pytest.skip("../shared/homedata is absent")
    monkeypatch.setenv("HOMEDATA_DIR", str(real))
    app = create_app()
    with app.test_client() as c:
        sources = json.loads(c.get("/api/sources").data)
        assert sources["sample_tables"] == ["room_temp"]
        page = c.get("/").data.decode()
        assert 'id="sample-banner"' in page and "<code>room_temp</code>" in page
        assert str(real) not in json.dumps(sources)  # file names only, never server paths
        air = json.loads(c.get("/api/air-quality").data)
        assert air["readings"] == 38144 - 85
        assert any(e["first_day"] == "2018-07-29" for e in air["elevations"]), air["elevations"]
        doors = json.loads(c.get("/api/doors").data)
        assert sum(d["openings"] for d in doors["doors"]) == 618 + 1355
        workouts = json.loads(c.get("/api/workouts?user=1").data)
        assert workouts["steps"][0] == 8097  # 2017-09-01's Google Fit daily total
        outdoor = json.loads(c.get("/api/indoor-outdoor").data)
        assert outdoor["n"] > 300


def test_no_data_at_all_still_serves_every_endpoint(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    app = create_app(data_dir=None, sample_dir=empty)
    with app.test_client() as c:
        page = c.get("/")
        assert page.status_code == 200 and b"No data" in page.data
        for path in API_PATHS:
            response = c.get(path)
            assert response.status_code == 200, (path, response.data[:200])
        assert json.loads(c.get("/api/daily").data)["days"] == []
        assert json.loads(c.get("/api/series").data)["series"] == []
