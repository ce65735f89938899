"""Postgres mode: the release loader and the API from a real PostgreSQL on 127.0.0.1.

The server is Debian's (initdb + pg_ctl in a temporary folder, started by the test on a free
port); every test here skips when it is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from example_app_support import EXAMPLE, free_port, postgres_server, serve_example, shared_homedata
from homedata_dashboard import create_app
from homedata_dashboard.api import ENDPOINTS
from homedata_dashboard.db import DatabaseError, database_url, load_dataset_from_db, release

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server(free_port()) as url:
        yield url


def _fresh(url: str, name: str) -> str:
    """A new empty database on the server: tests do not see each other's tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


def _run_release(url: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOMEDATA_DIR", "DATABASE_URL")}
    env["DATABASE_URL"] = url
    if data_dir is not None:
        env["HOMEDATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "homedata_dashboard.release"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name, rows, loaded_at FROM homedata_load").fetchall()
        real = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in (
                "room",
                "room_temp",
                "air_quality",
                "door",
                "door_status",
                "app_user",
                "workout",
                "workout_type",
                "weather",
            )
        }
    return {
        **{f"load:{t}": n for t, n, _ in rows},
        **real,
        "stamps": hash(tuple(sorted((t, str(at)) for t, _, at in rows))),
    }


def test_release_loads_the_sample_then_changes_nothing(pg_url: str) -> None:
    url = _fresh(pg_url, "release_idem")
    first = _run_release(url)
    assert first.returncode == 0, first.stderr
    assert "9 of 9 tables loaded" in first.stdout
    before = _counts(url)
    assert before["room_temp"] == before["load:room_temp"] == 283_115
    second = _run_release(url)
    assert second.returncode == 0, second.stderr
    assert "0 of 9 tables loaded" in second.stdout and second.stdout.count("up to date") == 9
    assert _counts(url) == before  # not one row or load time changed


def test_a_changed_export_reloads_only_its_table(pg_url: str, tmp_path: Path) -> None:
    url = _fresh(pg_url, "release_change")
    assert _run_release(url).returncode == 0
    real = tmp_path / "homedata"
    real.mkdir()
    (real / "door.json").write_text('[{"id":0, "name":"Front"}, {"id":1, "name":"Garage"}]')
    again = _run_release(url, real)
    assert again.returncode == 0, again.stderr
    assert "1 of 9 tables loaded" in again.stdout
    data = load_dataset_from_db(url)
    assert data.door_names == {0: "Front", 1: "Garage"}
    assert {s.table: s.origin for s in data.sources}["door"] == "real"


def test_a_broken_real_export_falls_back_to_the_sample_with_a_note(
    pg_url: str, tmp_path: Path
) -> None:
    url = _fresh(pg_url, "release_broken")
    real = tmp_path / "homedata"
    real.mkdir()
    (real / "air_quality.json").write_text('[{"id": 1, "voc": 3.0}]')
    done = _run_release(url, real)
    assert done.returncode == 0, done.stderr
    assert "showing the sample instead" in done.stdout
    air = next(s for s in load_dataset_from_db(url).sources if s.table == "air_quality")
    assert air.origin == "sample" and "air_quality.json" in air.note


def test_the_api_answers_the_same_from_postgres(pg_url: str) -> None:
    url = _fresh(pg_url, "api_same")
    assert _run_release(url).returncode == 0
    files = create_app(data_dir=None)
    os.environ["DATABASE_URL"] = url.replace("postgresql://", "postgres://", 1)  # Heroku's form
    try:
        db = create_app(data_dir=None)
    finally:
        del os.environ["DATABASE_URL"]
    assert db.extensions["homedata_mode"] == "postgres"
    urls = [e.path for e in ENDPOINTS] + [
        "/api/series?measure=humidity&start=2018-03-01&end=2018-03-04",
        "/api/workouts?user=2",
        "/api/cleaning?low=30&high=100",
    ]
    a, b = files.test_client(), db.test_client()
    for path in urls:
        left, right = a.get(path), b.get(path)
        assert left.status_code == right.status_code == 200, path
        assert json.loads(left.data) == json.loads(right.data), path
    page_a, page_b = a.get("/").data, b.get("/").data
    assert page_b.count(b"data-sample-for") == page_a.count(b"data-sample-for") == 11


def test_real_exports_through_postgres(pg_url: str) -> None:
    real = shared_homedata()
    url = _fresh(pg_url, "real_exports")
    done = _run_release(url, real)
    assert done.returncode == 0, done.stderr
    data = load_dataset_from_db(url)
    origins = {s.table: s.origin for s in data.sources}
    assert origins.pop("room_temp") == "sample" and set(origins.values()) == {"real"}
    assert len(data.air.time) == 38144 and len(data.workouts.start) == 20934
    assert data.room_names[0] == "Upstairs Bedroom (sample)"


def test_gunicorn_serves_from_postgres(pg_url: str, port: int) -> None:
    url = _fresh(pg_url, "gunicorn_pg")
    assert _run_release(url).returncode == 0
    import urllib.request

    with serve_example(port, workers=2, env={"DATABASE_URL": url}, extra=("--preload",)):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sources", timeout=10) as r:
            sources = json.loads(r.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert json.loads(r.read())["mode"] == "postgres"
    assert sources["sample"] is True and len(sources["tables"]) == 9


def test_an_empty_database_stops_the_boot_with_what_to_run(pg_url: str) -> None:
    url = _fresh(pg_url, "empty_db")
    with pytest.raises(DatabaseError, match=r"homedata_dashboard\.release"):
        load_dataset_from_db(url)


def test_release_without_a_database_or_with_a_bad_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HOMEDATA_DIR", "DATABASE_URL")}
    quiet = subprocess.run(
        [sys.executable, "-m", "homedata_dashboard.release"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert quiet.returncode == 0 and "DATABASE_URL is not set" in quiet.stdout
    env["DATABASE_URL"] = f"postgres://nobody@127.0.0.1:{free_port()}/x"
    refused = subprocess.run(
        [sys.executable, "-m", "homedata_dashboard.release"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "cannot connect to DATABASE_URL" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_postgres_scheme_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h:5432/d")
    assert database_url() == "postgresql://u:p@h:5432/d"
    monkeypatch.setenv("DATABASE_URL", "")
    assert database_url() is None


def test_release_streams_a_json_file_with_braces_in_strings(pg_url: str, tmp_path: Path) -> None:
    url = _fresh(pg_url, "braces")
    real = tmp_path / "homedata"
    real.mkdir()
    (real / "room.json").write_text(
        '[{"id":0, "name":"Den },{ odd", "location":"x"},\n {"id":1, "name":"Hall", "location":""}]'
    )
    results = release(url, real)
    assert {r.table: (r.origin, r.rows) for r in results}["room"] == ("real", 2)
    import psycopg

    with psycopg.connect(url) as conn:
        names = dict(conn.execute("SELECT id, name FROM room").fetchall())
    assert names == {0: "Den },{ odd", 1: "Hall"}
    # ...and the sample's readings keep the sample's own room names.
    assert load_dataset_from_db(url).room_names[0] == "Upstairs Bedroom (sample)"
