"""Read the homedata exports (``.json`` or ``.json.gz``) and the NOAA CSV into column arrays.

Files are looked up in ``HOMEDATA_DIR`` first and in the bundled ``sample_data/`` second, table
by table, so a folder holding only ``air_quality.json`` shows the real air quality next to the
sample temperatures. File names are fixed here: nothing a visitor sends ever reaches the disk.

The big exports are read in slices of about a megabyte and turned into numpy columns slice by
slice, so a 30 MB ``room_temp.json`` never exists as 300,000 Python dicts at once (that alone
would cost about 150 MB per worker).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import numpy as np

from .tables import (
    AirQuality,
    Dataset,
    DoorEvents,
    RoomReadings,
    TableSource,
    Weather,
    Workouts,
)

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
BLOCK = 1 << 20
_SPACE = b" \t\r\n"


class DataFormatError(ValueError):
    """A data file exists but is not in the published format; the message says where and why."""


# --- reading JSON arrays of flat objects, slice by slice ------------------------------------


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _cut(buf: bytes) -> int:
    """Index just past the last ``}`` that is followed by a ``,`` (an object boundary), or -1."""
    end = len(buf)
    while True:
        brace = buf.rfind(b"}", 0, end)
        if brace < 0:
            return -1
        rest = buf[brace + 1 :].lstrip(_SPACE)
        if rest.startswith(b","):
            return brace + 1
        end = brace


def iter_record_slices(stream: IO[bytes], block: int = BLOCK) -> Iterator[list[dict[str, Any]]]:
    """Yield the objects of a top-level JSON array in lists of a few thousand.

    A slice boundary is a ``}`` followed by ``,``. Should one fall inside a string (a name
    containing "},"), that slice is not valid JSON and the caller's ``ValueError`` handler
    re-reads the file whole, so the shortcut can cost time but never correctness.
    """
    buf = stream.read(block).lstrip(_SPACE)
    if not buf.startswith(b"["):
        raise ValueError("expected a JSON array ('[' ...) of objects")
    buf = buf[1:]
    eof = False
    while not eof:
        more = stream.read(block)
        eof = not more
        buf += more
        if eof:
            tail = buf.rstrip(_SPACE)
            if not tail.endswith(b"]"):
                raise ValueError("the JSON array is not closed with ']' (truncated file?)")
            records = json.loads(b"[" + tail)
            if records:
                yield records
            return
        cut = _cut(buf)
        if cut < 0:
            continue
        chunk, buf = buf[:cut], buf[cut:].lstrip(_SPACE)[1:]
        yield json.loads(b"[" + chunk + b"]")


def read_records(path: Path, *, whole: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Objects of a JSON-array file (``.json`` or ``.json.gz``), slice by slice or all at once."""
    with _open(path) as stream:
        if not whole:
            yield from iter_record_slices(stream)
            return
        records = json.load(stream)
    if not isinstance(records, list):
        raise ValueError("expected a JSON array of objects")
    yield records


Column = tuple[str, Callable[[list[Any]], np.ndarray]]


def _floats(dtype: type) -> Callable[[list[Any]], np.ndarray]:
    def convert(values: list[Any]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=dtype)

    return convert


def _ints(dtype: type) -> Callable[[list[Any]], np.ndarray]:
    def convert(values: list[Any]) -> np.ndarray:
        arr = np.array(values, dtype=np.float64)
        return arr.astype(dtype)

    return convert


def _strings(values: list[Any]) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


def _empty(dtype: type) -> np.ndarray:
    return np.array([], dtype=dtype)


def _times(values: list[Any]) -> np.ndarray:
    # numpy parses "YYYY-MM-DD HH:MM:SS" (space or T) in C, far faster than strptime.
    return np.array(values, dtype="datetime64[s]").astype(np.int64)


def iter_columns(
    path: Path, columns: dict[str, Column], *, whole: bool = False
) -> Iterator[dict[str, np.ndarray]]:
    """The named fields as arrays, one dict per slice of a few thousand records (streaming).

    Raises :class:`DataFormatError` for a file not in the format, and ``json.JSONDecodeError``
    when a slice boundary fell inside a string (the caller re-reads with ``whole=True``).
    """
    seen = 0
    try:
        for records in read_records(path, whole=whole):
            if not records:
                continue
            yield _convert(records, columns, path, seen)
            seen += len(records)
    except (DataFormatError, json.JSONDecodeError):
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise DataFormatError(
            f"{path.name}: not a readable JSON array of objects ({exc})"
        ) from None


def read_columns(path: Path, columns: dict[str, Column]) -> dict[str, np.ndarray]:
    """Read the named fields of every object into arrays: ``{out_name: (field, converter)}``.

    A field may be given as ``"a|b"``: the first present wins (``temperature`` or ``temp``).
    """
    try:
        try:
            parts = _collect(path, columns, whole=False)
        except json.JSONDecodeError:
            parts = _collect(path, columns, whole=True)  # a "}," inside a string: read it whole
    except DataFormatError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise DataFormatError(
            f"{path.name}: not a readable JSON array of objects ({exc})"
        ) from None
    return {
        name: (np.concatenate(chunks) if chunks else columns[name][1]([]))
        for name, chunks in parts.items()
    }


def _collect(path: Path, columns: dict[str, Column], *, whole: bool) -> dict[str, list[np.ndarray]]:
    parts: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    for cols in iter_columns(path, columns, whole=whole):
        for name, values in cols.items():
            parts[name].append(values)
    return parts


def _convert(
    records: list[Any], columns: dict[str, Column], path: Path, seen: int
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, (spec, convert) in columns.items():
        key = _pick_key(records[0], spec, path, seen)
        try:
            values = [r[key] for r in records]
        except (KeyError, TypeError):
            bad = next(i for i, r in enumerate(records) if not isinstance(r, dict) or key not in r)
            raise DataFormatError(
                f"{path.name}: record {seen + bad + 1} has no {key!r} field"
            ) from None
        try:
            out[name] = convert(values)
        except (ValueError, TypeError) as exc:
            raise DataFormatError(
                f"{path.name}: field {key!r} near record {seen + 1} is not valid ({exc})"
            ) from None
    return out


def _pick_key(first: Any, spec: str, path: Path, seen: int) -> str:
    if not isinstance(first, dict):
        raise DataFormatError(f"{path.name}: record {seen + 1} is not an object")
    options = spec.split("|")
    for key in options:
        if key in first:
            return key
    raise DataFormatError(
        f"{path.name}: record {seen + 1} has no {' or '.join(map(repr, options))} field"
    )


# --- finding files ---------------------------------------------------------------------------


def find_table(table: str, data_dir: Path | None, sample_dir: Path) -> tuple[Path | None, str]:
    """The file for ``table``: HOMEDATA_DIR's ``.json``/``.json.gz`` first, then the sample's."""
    for folder, origin in ((data_dir, "real"), (sample_dir, "sample")):
        if folder is None:
            continue
        for suffix in (".json", ".json.gz"):
            candidate = folder / f"{table}{suffix}"
            if candidate.is_file():
                return candidate, origin
    return None, "missing"


def find_weather(data_dir: Path | None, sample_dir: Path) -> tuple[Path | None, str]:
    """A NOAA daily CSV (a header with DATE and TAVG): HOMEDATA_DIR's first, then the sample's."""
    for folder, origin in ((data_dir, "real"), (sample_dir, "sample")):
        if folder is None or not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("*.csv")):
            try:
                with candidate.open(newline="") as fh:
                    header = next(csv.reader(fh), [])
            except (OSError, UnicodeDecodeError):
                continue
            if "DATE" in header and "TAVG" in header:
                return candidate, origin
    return None, "missing"


# --- the tables --------------------------------------------------------------------------------


def lookup_columns(label: str, location: bool = False) -> dict[str, Column]:
    """``id`` and a label (``name``, ``type``), plus ``location`` for ``room``."""
    cols: dict[str, Column] = {"id": ("id", _ints(np.int64)), label: (label, _strings)}
    if location:
        cols["location"] = ("location", _strings)
    return cols


def room_columns() -> dict[str, Column]:
    return {
        "room": ("room_id", _ints(np.int16)),
        "time": ("date_time", _times),
        "temperature": ("temperature|temp", _floats(np.float32)),
        "humidity": ("humidity", _floats(np.float32)),
    }


def air_columns() -> dict[str, Column]:
    return {
        "time": ("date_time", _times),
        "room": ("room_id", _ints(np.int16)),
        "voc": ("voc", _floats(np.float32)),
        "warm_up": ("warm_up", _ints(np.int8)),
    }


def door_columns() -> dict[str, Column]:
    return {
        "time": ("date_time", _times),
        "door": ("door_id", _ints(np.int16)),
        "status": ("status", _ints(np.int8)),
    }


def workout_columns() -> dict[str, Column]:
    return {
        "start": ("start_datetime", _times),
        "duration": ("duration", _floats(np.float64)),
        "steps": ("stepCount", _ints(np.int32)),
        "type_id": ("workout_type_id", _ints(np.int16)),
        "user": ("user_id", _ints(np.int16)),
    }


def _lookup(path: Path | None, label: str) -> dict[int, str]:
    if path is None:
        return {}
    cols = read_columns(path, {"id": ("id", _ints(np.int64)), "label": (label, _strings)})
    return {
        int(i): str(v) for i, v in zip(cols["id"].tolist(), cols["label"].tolist(), strict=True)
    }


def load_rooms(path: Path | None) -> dict[int, RoomReadings]:
    """``room_temp``: one :class:`RoomReadings` per room, sorted by time."""
    if path is None:
        return {}
    cols = read_columns(path, room_columns())
    order = np.lexsort((cols["time"], cols["room"]))
    room = cols["room"][order]
    bounds = np.flatnonzero(np.diff(room)) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    stops = np.concatenate([bounds, [len(room)]]).tolist()
    out: dict[int, RoomReadings] = {}
    for a, b in zip(starts, stops, strict=False):
        if a == b:
            continue
        idx = order[a:b]
        out[int(room[a])] = RoomReadings(
            time=np.ascontiguousarray(cols["time"][idx]),
            temperature=np.ascontiguousarray(cols["temperature"][idx]),
            humidity=np.ascontiguousarray(cols["humidity"][idx]),
        )
    return out


def load_air(path: Path | None) -> AirQuality:
    if path is None:
        return AirQuality(_empty(np.int64), _empty(np.int16), _empty(np.float32), _empty(np.bool_))
    cols = read_columns(path, air_columns())
    order = np.argsort(cols["time"], kind="stable")
    return AirQuality(
        time=cols["time"][order],
        room=cols["room"][order],
        voc=cols["voc"][order],
        warm_up=cols["warm_up"][order] != 0,
    )


def load_doors(path: Path | None) -> DoorEvents:
    if path is None:
        return DoorEvents(_empty(np.int64), _empty(np.int16), _empty(np.int8))
    cols = read_columns(path, door_columns())
    order = np.argsort(cols["time"], kind="stable")
    return DoorEvents(
        time=cols["time"][order], door=cols["door"][order], status=cols["status"][order]
    )


def load_workouts(path: Path | None) -> Workouts:
    if path is None:
        return Workouts(
            _empty(np.int64),
            _empty(np.float64),
            _empty(np.int32),
            _empty(np.int16),
            _empty(np.int16),
        )
    cols = read_columns(path, workout_columns())
    order = np.argsort(cols["start"], kind="stable")
    return Workouts(
        start=cols["start"][order],
        duration_s=np.nan_to_num(cols["duration"][order]) / 1000.0,
        steps=cols["steps"][order],
        type_id=cols["type_id"][order],
        user=cols["user"][order],
    )


def _csv_float(value: str) -> float:
    value = value.strip()
    return float(value) if value else np.nan


def load_weather(path: Path | None) -> Weather:
    """NOAA daily CSV; a day without TAVG falls back to the middle of TMIN and TMAX."""
    if path is None:
        f32 = np.float32
        return Weather(_empty(np.int64), _empty(f32), _empty(f32), _empty(f32), _empty(f32))
    days: list[str] = []
    cols: dict[str, list[float]] = {"TAVG": [], "TMAX": [], "TMIN": [], "PRCP": []}
    try:
        with path.open(newline="") as fh:
            for line_no, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    days.append(row["DATE"])
                    for key, values in cols.items():
                        values.append(_csv_float(row.get(key) or ""))
                except (ValueError, TypeError) as exc:
                    raise DataFormatError(f"{path.name}:{line_no}: {exc}") from None
        day = np.array(days, dtype="datetime64[D]").astype(np.int64)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        if isinstance(exc, DataFormatError):
            raise
        raise DataFormatError(f"{path.name}: not a readable NOAA daily CSV ({exc})") from None
    tavg = np.array(cols["TAVG"], dtype=np.float32)
    tmax = np.array(cols["TMAX"], dtype=np.float32)
    tmin = np.array(cols["TMIN"], dtype=np.float32)
    tavg = np.where(np.isnan(tavg), (tmax + tmin) / 2, tavg).astype(np.float32)
    order = np.argsort(day, kind="stable")
    return Weather(
        day=day[order],
        tavg=tavg[order],
        tmax=tmax[order],
        tmin=tmin[order],
        prcp=np.array(cols["PRCP"], dtype=np.float32)[order],
    )


TABLES = (
    "room",
    "room_temp",
    "air_quality",
    "door",
    "door_status",
    "user",
    "workout",
    "workout_type",
)


def _load_one(
    table: str,
    loader: Callable[[Path | None], Any],
    locate: Callable[[], tuple[Path | None, str]],
    fallback: Callable[[], tuple[Path | None, str]],
    count: Callable[[Any], int],
    sources: list[TableSource],
) -> Any:
    """Load one table; a broken real file falls back to the sample with a note the UI shows."""
    path, origin = locate()
    note = ""
    try:
        value = loader(path)
    except DataFormatError as exc:
        if origin != "real":
            raise
        log.warning("homedata: %s; using the sample instead", exc)
        note = f"{exc}; showing the sample instead"
        path, origin = fallback()
        value = loader(path)
    sources.append(TableSource(table, origin, path.name if path else None, count(value), note))
    return value


def load_dataset(data_dir: Path | None = None, sample_dir: Path = SAMPLE_DIR) -> Dataset:
    """Every table, real files winning table by table. Raises DataFormatError on a bad sample."""
    if data_dir is not None and not data_dir.is_dir():
        log.warning("homedata: HOMEDATA_DIR %s is not a folder; showing the sample", data_dir)
        data_dir = None
    sources: list[TableSource] = []

    def json_table(
        table: str, loader: Callable[[Path | None], Any], count: Callable[[Any], int]
    ) -> Any:
        return _load_one(
            table,
            loader,
            lambda: find_table(table, data_dir, sample_dir),
            lambda: find_table(table, None, sample_dir),
            count,
            sources,
        )

    room_names = json_table("room", lambda p: _lookup(p, "name"), len)
    try:
        room_locations = _lookup(find_table("room", data_dir, sample_dir)[0], "location")
    except DataFormatError:
        room_locations = {}
    rooms = json_table("room_temp", load_rooms, lambda r: sum(len(v.time) for v in r.values()))
    air = json_table("air_quality", load_air, lambda a: len(a.time))
    door_names = json_table("door", lambda p: _lookup(p, "name"), len)
    doors = json_table("door_status", load_doors, lambda d: len(d.time))
    users = json_table("user", lambda p: _lookup(p, "name"), len)
    workouts = json_table("workout", load_workouts, lambda w: len(w.start))
    types = json_table("workout_type", lambda p: _lookup(p, "type"), len)
    weather = _load_one(
        "weather",
        load_weather,
        lambda: find_weather(data_dir, sample_dir),
        lambda: find_weather(None, sample_dir),
        lambda w: len(w.day),
        sources,
    )
    room_names, room_locations = reading_room_names(
        sources, room_names, room_locations, rooms, sample_dir
    )
    return Dataset(
        rooms=rooms,
        room_names=room_names,
        room_locations=room_locations,
        air=air,
        doors=doors,
        door_names=door_names,
        workouts=workouts,
        workout_types=types,
        users=users,
        weather=weather,
        sources=sources,
    )


def reading_room_names(
    sources: list[TableSource],
    names: dict[int, str],
    locations: dict[int, str],
    rooms: dict[int, RoomReadings],
    sample_dir: Path,
) -> tuple[dict[int, str], dict[int, str]]:
    """Room names for the readings: sample readings never carry the real house's room names.

    When ``room_temp`` is the sample but ``room`` is real, the rooms are named from the
    sample's own ``room`` table and marked "(sample)", so a synthetic series is never shown as
    the real bedroom's.
    """
    origin = {s.table: s.origin for s in sources}
    if origin.get("room_temp") == "sample" and origin.get("room") == "real":
        path = find_table("room", None, sample_dir)[0]
        try:
            sample_names = _lookup(path, "name")
            sample_locations = _lookup(path, "location")
        except DataFormatError:
            sample_names, sample_locations = {}, {}
        names = {r: f"{sample_names.get(r, f'Room {r}')} (sample)" for r in rooms}
        locations = {r: sample_locations.get(r, "") for r in rooms}
    else:
        names = dict(names)
        for room_id in rooms:
            names.setdefault(room_id, f"Room {room_id}")
    return names, locations


def read_text_records(text: str) -> list[dict[str, Any]]:
    """Parse a JSON array given as text through the slicing reader (used by tests)."""
    out: list[dict[str, Any]] = []
    for records in iter_record_slices(io.BytesIO(text.encode()), block=64):
        out.extend(records)
    return out
