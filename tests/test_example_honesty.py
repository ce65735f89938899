"""The dashboard is honest about sample data, names workouts properly and keeps room colours.

Sample readings never appear under the real house's room names, every chart drawn from a sample
table says so in its own title, a room has one colour in every response, and only exercise
counts as active minutes (a car ride does not).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
from example_app_support import shared_homedata
from homedata_dashboard import create_app
from homedata_dashboard.analysis.workouts import is_exercise, label, normalise_type, type_name
from homedata_dashboard.loading import SAMPLE_DIR, load_dataset
from homedata_dashboard.store import CHART_TABLES

REAL_TABLE = {0: "IN_VEHICLE", 1: "BIKING", 3: "STILL", 4: "UNKOWN", 7: "WALKING", 32: "GOLF"}


def test_workout_types_are_named_from_the_table_then_google_fit() -> None:
    assert type_name(7, REAL_TABLE) == "WALKING"
    assert type_name(40, REAL_TABLE) == "KAYAKING"  # absent from the real table
    assert type_name(87, REAL_TABLE) == "TENNIS"
    assert type_name(999, REAL_TABLE) == "type 999"
    assert label("IN_VEHICLE") == "in vehicle" and label("Yoga class") == "Yoga class"
    assert normalise_type("in-vehicle") == normalise_type("In vehicle") == "IN_VEHICLE"


def test_only_exercise_counts_as_active() -> None:
    for type_id in (0, 3, 4, -2):  # vehicle, still, the misspelt UNKOWN, the daily total
        assert not is_exercise(type_id, REAL_TABLE), type_id
    for type_id in (1, 7, 32, 40, 87):
        assert is_exercise(type_id, REAL_TABLE), type_id
    assert not is_exercise(72, {})  # sleeping, named by Google Fit's list
    assert not is_exercise(5, {5: "Tilting"})


def _workouts_folder(tmp_path: Path) -> Path:
    """A real-looking export: a day with a walk, a car ride, sitting still and a kayak trip."""
    folder = tmp_path / "homedata"
    folder.mkdir()
    rows = [  # id, duration ms, steps, workout_type_id, start
        (1, 0, 9000, -2, "2017-09-01 00:01:00"),
        (2, 30 * 60_000, 3000, 7, "2017-09-01 08:00:00"),
        (3, 50 * 60_000, 0, 0, "2017-09-01 09:00:00"),
        (4, 120 * 60_000, 0, 3, "2017-09-01 11:00:00"),
        (5, 45 * 60_000, 0, 40, "2017-09-01 15:00:00"),
    ]
    records = [
        {
            "id": float(i),
            "duration": duration,
            "start": 0.0,
            "stepCount": steps,
            "workout_type_id": type_id,
            "start_datetime": when,
            "user_id": 1,
        }
        for i, duration, steps, type_id, when in rows
    ]
    (folder / "workout.json").write_text(json.dumps(records))
    (folder / "workout_type.json").write_text(
        json.dumps([{"id": k, "type": v} for k, v in REAL_TABLE.items()])
    )
    return folder


def test_workouts_api_leaves_vehicle_and_still_out_of_active_minutes(tmp_path: Path) -> None:
    app = create_app(data_dir=_workouts_folder(tmp_path))
    with app.test_client() as c:
        data = json.loads(c.get("/api/workouts?user=1").data)
        everything = json.loads(c.get("/api/workouts?user=1&exclude=none").data)
    active = {t["type"]: t["total_minutes"] for t in data["types"]}
    assert active == {"KAYAKING": 45.0, "WALKING": 30.0}
    assert all(t["exercise"] for t in data["types"])
    left_out = {t["label"]: t["total_minutes"] for t in data["not_counted"]}
    assert left_out == {"still": 120.0, "in vehicle": 50.0}
    assert sorted(data["excluded"]) == [0, 3]
    assert data["steps"] == [9000]  # the daily total, not the activity rows
    assert not any(t["type"].startswith("type ") for t in data["types"] + data["not_counted"])
    kinds = {t["type"] for t in everything["types"]}
    assert kinds == {"KAYAKING", "WALKING", "STILL", "IN_VEHICLE"}
    assert everything["not_counted"] == []


def test_real_workouts_have_names_and_no_vehicle_minutes() -> None:
    real = shared_homedata()
    app = create_app(data_dir=real)
    with app.test_client() as c:
        for user in (1, 2):
            data = json.loads(c.get(f"/api/workouts?user={user}").data)
            names = [t["type"] for t in data["types"]]
            assert "IN_VEHICLE" not in names and "STILL" not in names, names
            assert not any(n.startswith("type ") for n in names), names
            assert all(t["exercise"] for t in data["types"])


def test_sample_readings_never_carry_the_real_room_names(tmp_path: Path) -> None:
    real = tmp_path / "homedata"
    real.mkdir()
    (real / "room.json").write_text(
        '[{"id":0, "name":"Bedroom", "location":"Second Floor"},'
        ' {"id":1, "name":"Office", "location":"First Floor"}]'
    )
    data = load_dataset(real)
    assert data.room_names[0] == "Upstairs Bedroom (sample)"
    assert "Bedroom" not in {v for v in data.room_names.values()}
    app = create_app(data_dir=real)
    with app.test_client() as c:
        series = json.loads(c.get("/api/series").data)
        outdoor = json.loads(c.get("/api/indoor-outdoor").data)
        page = c.get("/").data.decode()
    assert all(s["room"].endswith("(sample)") for s in series["series"])
    assert outdoor["room"].endswith("(sample)")
    assert ">Bedroom<" not in page and ">Office<" not in page


def test_real_house_with_sample_temperatures() -> None:
    real = shared_homedata()
    app = create_app(data_dir=real)
    with app.test_client() as c:
        page = c.get("/").data.decode()
        series = json.loads(c.get("/api/series").data)
    real_names = {"Bedroom", "Office", "Attic", "Workshop"}
    assert not {s["room"] for s in series["series"]} & real_names
    badges = dict(re.findall(r'data-sample-for="([\w-]+)"[^>]*>Sample data: ([^<]+)<', page))
    # Only the room_temp charts are sample here; indoor-vs-outdoor mixes it with real weather.
    expected = {c for c, tables in CHART_TABLES.items() if "room_temp" in tables}
    assert set(badges) == expected
    assert badges["outdoor"] == "room_temp"


def test_every_chart_says_sample_when_everything_is_sample() -> None:
    with create_app(data_dir=None).test_client() as c:
        page = c.get("/").data.decode()
    assert set(re.findall(r'data-sample-for="([\w-]+)"', page)) == set(CHART_TABLES)


def test_no_sample_badge_with_a_full_real_set(tmp_path: Path) -> None:
    real = tmp_path / "homedata"
    shutil.copytree(SAMPLE_DIR, real)
    with create_app(data_dir=real).test_client() as c:
        assert "data-sample-for" not in c.get("/").data.decode()


def test_one_colour_per_room_in_every_response() -> None:
    with create_app(data_dir=None).test_client() as c:
        seen: dict[str, set[str]] = {}
        urls = [
            "/api/rooms",
            "/api/series",
            "/api/series?measure=humidity",
            "/api/sensor-health",
            "/api/cleaning?measure=humidity",
            *(f"/api/daily?room={r}" for r in (0, 1, 3, 6)),
            *(f"/api/indoor-outdoor?room={r}" for r in (0, 1, 3, 6)),
        ]
        for url in urls:
            data = json.loads(c.get(url).data)
            items = data.get("rooms") or data.get("series") or [data]
            for item in items:
                name = item.get("name") or item["room"]
                seen.setdefault(name, set()).add(item["color"])
    assert len(seen) == 4
    assert all(len(colours) == 1 for colours in seen.values()), seen
    assert len({next(iter(v)) for v in seen.values()}) == 4  # and no two rooms share one


def test_sample_weather_and_rooms_tables_flag_the_outdoor_chart() -> None:
    data = load_dataset(None)
    assert np.isin(["room_temp", "weather"], data.sample_tables()).all()
