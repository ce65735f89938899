"""Loading the homedata exports: formats, .json.gz, precedence table by table, real data, sample."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from example_app_support import EXAMPLE
from homedata_dashboard.config import ConfigError, gap_seconds_from_env, rules_from_env
from homedata_dashboard.loading import (
    SAMPLE_DIR,
    DataFormatError,
    find_weather,
    iter_record_slices,
    load_dataset,
    load_rooms,
    load_weather,
    read_columns,
    read_text_records,
)
from hypothesis import given, settings
from hypothesis import strategies as st

ROWS = [
    {
        "id": 1,
        "humidity": 35.5,
        "temperature": 68.4,
        "room_id": 0,
        "date_time": "2018-01-01 20:00:03",
    },
    {
        "id": 2,
        "humidity": None,
        "temperature": 12.0,
        "room_id": 3,
        "date_time": "2018-01-01 20:00:04",
    },
    {
        "id": 3,
        "humidity": 35.0,
        "temperature": 68.2,
        "room_id": 0,
        "date_time": "2018-01-01 20:10:01",
    },
]


def write_rows(path: Path, rows: list[dict[str, object]]) -> Path:
    """Write rows in the exports' layout: a JSON array, one object per line."""
    text = "[" + ",\n ".join(json.dumps(r, separators=(", ", ":")) for r in rows) + "]\n"
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.integers(0, 10**6),
                "name": st.text(max_size=12),
                "v": st.floats(allow_nan=False, allow_infinity=False),
            }
        ),
        max_size=40,
    )
)
def test_slice_reader_returns_exactly_what_json_loads_does(rows: list[dict[str, object]]) -> None:
    text = json.dumps(rows, indent=None)
    assert read_text_records(text) == json.loads(text)


def test_slice_reader_survives_braces_and_commas_inside_strings(tmp_path: Path) -> None:
    rows = [{"id": i, "name": "odd },{ name" if i % 3 == 0 else "plain"} for i in range(500)]
    path = write_rows(tmp_path / "door.json", rows)
    cols = read_columns(path, {"id": ("id", lambda v: np.array(v)), "name": ("name", list)})
    assert cols["id"].tolist() == list(range(500))
    assert cols["name"][0] == "odd },{ name"


def test_slice_reader_rejects_non_arrays_and_truncated_files() -> None:
    with pytest.raises(ValueError, match="JSON array"):
        list(iter_record_slices(io.BytesIO(b'{"id": 1}')))
    with pytest.raises(ValueError, match="truncated"):
        list(iter_record_slices(io.BytesIO(b'[{"id": 1},\n {"id": 2}'), block=4))
    assert list(iter_record_slices(io.BytesIO(b"  []  "))) == []


@pytest.mark.parametrize("name", ["room_temp.json", "room_temp.json.gz"])
def test_room_temp_plain_or_gzipped(tmp_path: Path, name: str) -> None:
    rooms = load_rooms(write_rows(tmp_path / name, ROWS))
    assert sorted(rooms) == [0, 3]
    assert rooms[0].temperature.tolist() == pytest.approx([68.4, 68.2])
    assert rooms[0].time.tolist() == [1514836803, 1514837401]
    assert np.isnan(rooms[3].humidity).all() and not rooms[3].has("humidity")
    assert rooms[0].temperature.dtype == np.float32  # compact columns, not lists of dicts


def test_room_temp_accepts_a_temp_field(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "room_id": 1, "temp": 70.1, "humidity": 40.0, "date_time": "2018-03-01 10:00:00"}
    ]
    assert load_rooms(write_rows(tmp_path / "room_temp.json", rows))[
        1
    ].temperature.tolist() == pytest.approx([70.1])


def test_a_missing_field_names_the_file_and_record(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), {k: v for k, v in ROWS[2].items() if k != "room_id"}]
    with pytest.raises(DataFormatError, match=r"room_temp.json: record 2 has no 'room_id' field"):
        load_rooms(write_rows(tmp_path / "room_temp.json", rows))


def test_a_bad_date_is_a_format_error(tmp_path: Path) -> None:
    rows = [dict(ROWS[0], date_time="yesterday")]
    with pytest.raises(DataFormatError, match="date_time"):
        load_rooms(write_rows(tmp_path / "room_temp.json", rows))


def test_weather_csv_falls_back_to_tmin_tmax_midpoint(tmp_path: Path) -> None:
    csv_text = (
        '"STATION","DATE","TAVG","TMAX","TMIN","PRCP"\n'
        '"X","2018-01-01","10","20","0","0.1"\n'
        '"X","2018-01-02",,"30","10",\n'
    )
    (tmp_path / "noaa.csv").write_text(csv_text)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    path, origin = find_weather(tmp_path, SAMPLE_DIR)
    assert path == tmp_path / "noaa.csv" and origin == "real"
    w = load_weather(path)
    assert w.tavg.tolist() == [10.0, 20.0]
    assert np.datetime_as_string(w.day.astype("datetime64[D]")).tolist() == [
        "2018-01-01",
        "2018-01-02",
    ]
    assert np.isnan(w.prcp[1])


def test_sample_only_when_no_folder_is_given() -> None:
    data = load_dataset(None)
    assert data.uses_sample
    assert {s.origin for s in data.sources} == {"sample"}
    assert sorted(data.rooms) == [0, 1, 3, 6]
    span_days = (data.rooms[0].time[-1] - data.rooms[0].time[0]) / 86400
    assert 2.4 * 365 < span_days < 2.6 * 365  # 2.5 years for the second floor
    assert (np.diff(data.rooms[0].time) >= 590).all()  # 10-minute cadence, no duplicates
    assert data.rooms[0].temperature.max() > 1000  # the flaws are in the sample
    assert (data.rooms[0].temperature == 0).sum() > 10
    assert not data.rooms[3].has("humidity")


def test_real_files_win_table_by_table(tmp_path: Path) -> None:
    write_rows(tmp_path / "room_temp.json", ROWS)
    data = load_dataset(tmp_path)
    origins = {s.table: s.origin for s in data.sources}
    assert origins["room_temp"] == "real"
    assert origins["air_quality"] == "sample" and origins["weather"] == "sample"
    assert sorted(data.rooms) == [0, 3]
    assert data.room_names[0] == "Upstairs Bedroom"  # room.json still from the sample
    assert data.sample_tables() == [t for t, o in origins.items() if o == "sample"]


def test_a_broken_real_file_falls_back_to_the_sample_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "air_quality.json").write_text('[{"id": 1, "voc": 3.0}]')
    data = load_dataset(tmp_path)
    air = next(s for s in data.sources if s.table == "air_quality")
    assert air.origin == "sample"
    assert "air_quality.json" in air.note and "showing the sample" in air.note
    assert len(data.air.time) > 1000


def test_a_homedata_dir_that_is_not_a_folder_means_the_sample(tmp_path: Path) -> None:
    data = load_dataset(tmp_path / "nope")
    assert {s.origin for s in data.sources} == {"sample"}


def test_real_data_from_shared(shared_dir: Path) -> None:
    real = shared_dir / "homedata"
    if not real.is_dir():
        pytest.skip("../shared/homedata is absent")
    data = load_dataset(real)
    origins = {s.table: s.origin for s in data.sources}
    assert origins.pop("room_temp") == "sample"  # not published in the shared folder
    assert set(origins.values()) == {"real"}
    assert len(data.air.time) == 38144
    assert data.air.warm_up.sum() == 85
    assert len(data.doors.time) == 3982
    assert len(data.workouts.start) == 20934
    assert data.workout_types[3] == "STILL"
    assert data.door_names == {0: "Front Door", 1: "Back Door"}
    assert len(data.weather.day) == 709
    weather = next(s for s in data.sources if s.table == "weather")
    assert weather.file == "weather_msp_daily_1576328.csv"
    # room_temp is the sample here: its readings are named from the sample's rooms, marked
    # "(sample)", never under the real house's room names (the real room 6 is "Workshop").
    assert data.room_names[6].endswith("(sample)")
    assert "Workshop" not in data.room_names.values()


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEDATA_TEMPERATURE_RANGE", "30,100")
    monkeypatch.setenv("HOMEDATA_GAP_MINUTES", "60")
    rules = rules_from_env()
    assert (rules["temperature"].low, rules["temperature"].high) == (30.0, 100.0)
    assert gap_seconds_from_env() == 3600
    monkeypatch.setenv("HOMEDATA_TEMPERATURE_RANGE", "hot")
    with pytest.raises(ConfigError, match="HOMEDATA_TEMPERATURE_RANGE"):
        rules_from_env()
    monkeypatch.setenv("HOMEDATA_TEMPERATURE_RANGE", "100,30")
    with pytest.raises(ConfigError, match="low must be below high"):
        rules_from_env()
    monkeypatch.setenv("HOMEDATA_GAP_MINUTES", "1")
    with pytest.raises(ConfigError, match="HOMEDATA_GAP_MINUTES"):
        gap_seconds_from_env()


def test_sample_is_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DIR.iterdir())
    assert total < 4_000_000


@pytest.mark.slow
def test_generator_is_deterministic_and_made_the_shipped_sample(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "scripts" / "generate_sample.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shipped = sorted(p.name for p in SAMPLE_DIR.iterdir())
    assert sorted(p.name for p in out.iterdir()) == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name
    shutil.rmtree(out)
