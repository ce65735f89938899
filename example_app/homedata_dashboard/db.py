"""Postgres mode: the tables in PostgreSQL (``DATABASE_URL``), loaded by the release phase.

With ``DATABASE_URL`` set (Heroku's ``heroku-postgresql`` add-on sets it), the app reads its
tables from the database instead of the JSON exports; without it, nothing here runs.

* :func:`release` (``python -m homedata_dashboard.release``, the Procfile's ``release:``) loads
  each table from ``HOMEDATA_DIR`` or the bundled sample, streaming: the exports are read in
  slices and sent with ``COPY``, so a table of any length never sits in memory whole. It is
  idempotent: ``homedata_schema`` records the schema version, ``homedata_load`` a fingerprint
  (SHA-256 of the file, its origin, the schema version) per table, and a table whose fingerprint
  is unchanged is left alone, so re-running changes nothing. Each table is replaced in one
  transaction, and a session advisory lock keeps two releases from loading at once.
* :func:`load_dataset_from_db` reads every table back into the same numpy columns the JSON
  mode builds, once per process at boot (gunicorn's ``--preload``: once, in the master), so
  both modes answer with the same code and the same numbers. Measured (see
  ``benchmarks/example_app.py``): aggregating in SQL per request would put a round trip and a
  scan behind every chart; the cached columns are about 5 MB for the sample.

The big tables come back through ``COPY ... TO STDOUT (FORMAT binary)`` with fixed-width rows
(NULLs turned into NaN in SQL), which numpy reads straight from the bytes: psycopg's row
parsing would build a Python tuple per reading first (hundreds of MB for years of data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .loading import (
    SAMPLE_DIR,
    DataFormatError,
    air_columns,
    door_columns,
    find_table,
    find_weather,
    iter_columns,
    load_weather,
    lookup_columns,
    room_columns,
    workout_columns,
)
from .tables import (
    AirQuality,
    Dataset,
    DoorEvents,
    RoomReadings,
    TableSource,
    Weather,
    Workouts,
)

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
LOCK_ID = 0x686F6D65  # "home": the advisory lock the release phase holds while loading
CONNECT_TIMEOUT = 10

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS homedata_schema (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS homedata_load (
        table_name text PRIMARY KEY,
        origin text NOT NULL,
        file text,
        fingerprint text NOT NULL,
        rows bigint NOT NULL,
        note text NOT NULL DEFAULT '',
        loaded_at timestamptz NOT NULL DEFAULT now())""",
    "CREATE TABLE IF NOT EXISTS room (id integer PRIMARY KEY, name text NOT NULL,"
    " location text NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS room_temp (room_id smallint NOT NULL,"
    " date_time timestamp NOT NULL, temperature real, humidity real)",
    "CREATE INDEX IF NOT EXISTS room_temp_room_time ON room_temp (room_id, date_time)",
    "CREATE TABLE IF NOT EXISTS air_quality (date_time timestamp NOT NULL,"
    " room_id smallint NOT NULL, voc real, warm_up smallint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS door (id integer PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS door_status (date_time timestamp NOT NULL,"
    " door_id smallint NOT NULL, status smallint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS app_user (id integer PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS workout (start_datetime timestamp NOT NULL,"
    " duration double precision, step_count integer NOT NULL,"
    " workout_type_id smallint NOT NULL, user_id smallint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS workout_type (id integer PRIMARY KEY, type text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS weather (day date PRIMARY KEY, tavg real, tmax real,"
    " tmin real, prcp real)",
]


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says what to do."""


def database_url() -> str | None:
    """``DATABASE_URL``, with Heroku's ``postgres`` scheme spelt ``postgresql`` (libpq takes
    both; SQLAlchemy and some tools only the second)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "postgres":
        url = "postgresql" + sep + rest
    return url


def connect(url: str) -> psycopg.Connection[Any]:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="homedata")
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to DATABASE_URL: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- the release phase: files -> tables --------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """How one export maps onto its table: the columns read from the file, the SQL columns."""

    table: str  # the export's name (room_temp, user, ...)
    sql_table: str
    sql_columns: tuple[str, ...]
    read: Callable[[], dict[str, Any]]  # iter_columns' column spec
    rows: Callable[[dict[str, np.ndarray]], Iterator[tuple[Any, ...]]]


def _stamp(seconds: np.ndarray) -> list[str]:
    return [s.replace("T", " ") for s in np.datetime_as_string(seconds.astype("datetime64[s]"))]


def _floats(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.astype(np.float64).tolist()]


def _lookup_rows(label: str) -> Callable[[dict[str, np.ndarray]], Iterator[tuple[Any, ...]]]:
    def rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
        yield from zip(cols["id"].tolist(), cols[label].tolist(), strict=True)

    return rows


def _room_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    yield from zip(
        cols["id"].tolist(), cols["name"].tolist(), cols["location"].tolist(), strict=True
    )


def _room_temp_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    yield from zip(
        cols["room"].tolist(),
        _stamp(cols["time"]),
        _floats(cols["temperature"]),
        _floats(cols["humidity"]),
        strict=True,
    )


def _air_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    yield from zip(
        _stamp(cols["time"]),
        cols["room"].tolist(),
        _floats(cols["voc"]),
        cols["warm_up"].astype(np.int16).tolist(),
        strict=True,
    )


def _door_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    yield from zip(
        _stamp(cols["time"]), cols["door"].tolist(), cols["status"].tolist(), strict=True
    )


def _workout_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    yield from zip(
        _stamp(cols["start"]),
        _floats(cols["duration"]),
        cols["steps"].tolist(),
        cols["type_id"].tolist(),
        cols["user"].tolist(),
        strict=True,
    )


SPECS = [
    TableSpec(
        "room", "room", ("id", "name", "location"), lambda: lookup_columns("name", True), _room_rows
    ),
    TableSpec(
        "room_temp",
        "room_temp",
        ("room_id", "date_time", "temperature", "humidity"),
        room_columns,
        _room_temp_rows,
    ),
    TableSpec(
        "air_quality",
        "air_quality",
        ("date_time", "room_id", "voc", "warm_up"),
        air_columns,
        _air_rows,
    ),
    TableSpec("door", "door", ("id", "name"), lambda: lookup_columns("name"), _lookup_rows("name")),
    TableSpec(
        "door_status", "door_status", ("date_time", "door_id", "status"), door_columns, _door_rows
    ),
    TableSpec(
        "user", "app_user", ("id", "name"), lambda: lookup_columns("name"), _lookup_rows("name")
    ),
    TableSpec(
        "workout",
        "workout",
        ("start_datetime", "duration", "step_count", "workout_type_id", "user_id"),
        workout_columns,
        _workout_rows,
    ),
    TableSpec(
        "workout_type",
        "workout_type",
        ("id", "type"),
        lambda: lookup_columns("type"),
        _lookup_rows("type"),
    ),
]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(path: Path | None, origin: str) -> str:
    body = _file_digest(path) if path else "none"
    return f"v{SCHEMA_VERSION}:{origin}:{path.name if path else ''}:{body}"


@dataclass(frozen=True)
class LoadResult:
    table: str
    origin: str
    file: str | None
    rows: int
    loaded: bool  # False: the table was already up to date
    seconds: float
    note: str = ""


def migrate(conn: psycopg.Connection[Any]) -> None:
    """Create the schema (idempotent) and record its version; refuse a newer database."""
    with conn.transaction():
        for statement in SCHEMA:
            conn.execute(statement)
        row = conn.execute("SELECT max(version) FROM homedata_schema").fetchone()
        current = row[0] if row else None
        if current is not None and current > SCHEMA_VERSION:
            raise DatabaseError(
                f"the database has homedata schema version {current}, newer than this app's "
                f"{SCHEMA_VERSION}: deploy the newer app, or use a fresh database"
            )
        if current is None or current < SCHEMA_VERSION:
            conn.execute(
                "INSERT INTO homedata_schema (version) VALUES (%s) ON CONFLICT DO NOTHING",
                (SCHEMA_VERSION,),
            )


def _copy_table(conn: psycopg.Connection[Any], spec: TableSpec, path: Path) -> int:
    """Replace the table's rows with the file's, slice by slice through COPY.

    A slice boundary inside a string (a name containing ``},``) makes the streaming read fail;
    the table is then copied again from the file read whole, inside the same transaction.
    """
    try:
        with conn.transaction():  # a savepoint: the retry starts from an empty table
            return _copy_rows(conn, spec, path, whole=False)
    except json.JSONDecodeError:
        return _copy_rows(conn, spec, path, whole=True)


def _copy_rows(conn: psycopg.Connection[Any], spec: TableSpec, path: Path, *, whole: bool) -> int:
    columns = ", ".join(spec.sql_columns)
    count = 0
    conn.execute(f"TRUNCATE {spec.sql_table}")
    with conn.cursor().copy(f"COPY {spec.sql_table} ({columns}) FROM STDIN") as copy:
        try:
            for cols in iter_columns(path, spec.read(), whole=whole):
                for row in spec.rows(cols):
                    copy.write_row(row)
                count += len(next(iter(cols.values())))
        except json.JSONDecodeError as exc:
            if whole:
                raise DataFormatError(f"{path.name}: not valid JSON ({exc})") from None
            raise
    return count


def _load_weather(conn: psycopg.Connection[Any], path: Path) -> int:
    w = load_weather(path)  # a few thousand days at most: read whole
    conn.execute("TRUNCATE weather")
    with conn.cursor().copy("COPY weather (day, tavg, tmax, tmin, prcp) FROM STDIN") as copy:
        days = np.datetime_as_string(w.day.astype("datetime64[D]")).tolist()
        for row in zip(
            days, _floats(w.tavg), _floats(w.tmax), _floats(w.tmin), _floats(w.prcp), strict=True
        ):
            copy.write_row(row)
    return len(w.day)


def _record(
    conn: psycopg.Connection[Any],
    table: str,
    origin: str,
    path: Path | None,
    fingerprint: str,
    rows: int,
    note: str,
) -> None:
    conn.execute(
        "INSERT INTO homedata_load (table_name, origin, file, fingerprint, rows, note)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (table_name) DO UPDATE SET"
        " origin = excluded.origin, file = excluded.file, fingerprint = excluded.fingerprint,"
        " rows = excluded.rows, note = excluded.note, loaded_at = now()",
        (table, origin, path.name if path else None, fingerprint, rows, note),
    )


def load_table(
    conn: psycopg.Connection[Any],
    table: str,
    locate: Callable[[], tuple[Path | None, str]],
    fallback: Callable[[], tuple[Path | None, str]],
    copy: Callable[[Path], int],
    clear: str,
) -> LoadResult:
    """Load one table unless its fingerprint is unchanged; a broken real file -> the sample."""
    started = time.perf_counter()
    path, origin = locate()
    fingerprint = _fingerprint(path, origin)
    row = conn.execute(
        "SELECT fingerprint, rows, note FROM homedata_load WHERE table_name = %s", (table,)
    ).fetchone()
    if row is not None and row[0] == fingerprint:
        return LoadResult(
            table,
            origin,
            path.name if path else None,
            int(row[1]),
            False,
            time.perf_counter() - started,
            row[2],
        )
    note = ""
    try:
        with conn.transaction():
            rows = copy(path) if path else _clear(conn, clear)
            _record(conn, table, origin, path, fingerprint, rows, note)
    except DataFormatError as exc:
        if origin != "real":
            raise
        note = f"{exc}; showing the sample instead"
        log.warning("homedata: %s", note)
        sample, origin = fallback()
        with conn.transaction():
            rows = copy(sample) if sample else _clear(conn, clear)
            # The real file's fingerprint: re-running skips it until the file changes.
            _record(conn, table, origin, sample, fingerprint, rows, note)
        path = sample
    return LoadResult(
        table, origin, path.name if path else None, rows, True, time.perf_counter() - started, note
    )


def _clear(conn: psycopg.Connection[Any], table: str) -> int:
    conn.execute(f"TRUNCATE {table}")
    return 0


def _load_spec(
    conn: psycopg.Connection[Any], spec: TableSpec, data_dir: Path | None, sample_dir: Path
) -> LoadResult:
    def copy(path: Path) -> int:
        return _copy_table(conn, spec, path)

    return load_table(
        conn,
        spec.table,
        lambda: find_table(spec.table, data_dir, sample_dir),
        lambda: find_table(spec.table, None, sample_dir),
        copy,
        spec.sql_table,
    )


def release(url: str, data_dir: Path | None, sample_dir: Path = SAMPLE_DIR) -> list[LoadResult]:
    """Migrate, then load every table that changed. Returns what happened per table."""
    if data_dir is not None and not data_dir.is_dir():
        raise DatabaseError(f"HOMEDATA_DIR={data_dir} is not a folder")
    results: list[LoadResult] = []
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            migrate(conn)
            for spec in SPECS:
                results.append(_load_spec(conn, spec, data_dir, sample_dir))
            results.append(
                load_table(
                    conn,
                    "weather",
                    lambda: find_weather(data_dir, sample_dir),
                    lambda: find_weather(None, sample_dir),
                    lambda p: _load_weather(conn, p),
                    "weather",
                )
            )
            conn.execute("ANALYZE")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return results


# --- boot: tables -> numpy columns -------------------------------------------------------------


def _binary_rows(
    conn: psycopg.Connection[Any], query: str, fields: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """Run ``COPY (query) TO STDOUT (FORMAT binary)`` for fixed-width, non-NULL columns.

    ``fields`` names each column with its big-endian numpy type (``>i2``, ``>i8``, ``>f4``,
    ``>f8``). Each binary row is a 16-bit field count, then per field a 32-bit length and the
    value; with no NULLs every row has the same width, so numpy reads slices of rows at once.
    """
    layout: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, kind in fields:
        layout += [(f"{name}_len", ">i4"), (name, kind)]
    dtype = np.dtype(layout)
    header = 19  # signature (11), flags (4), header extension length (4, zero)
    parts: dict[str, list[np.ndarray]] = {name: [] for name, _ in fields}
    # psycopg hands over one row per block: gather about a megabyte before numpy reads it, or
    # millions of one-row arrays would cost more than the data.
    blocks: list[bytes] = []
    size = 0
    started = False
    rest = b""

    def parse(final: bool) -> None:
        nonlocal rest, started, blocks, size
        buf = rest + b"".join(blocks)
        blocks, size = [], 0
        if not started:
            if len(buf) < header and not final:
                rest = buf
                return
            if not buf.startswith(b"PGCOPY\n\xff\r\n\x00"):
                raise DatabaseError("unexpected COPY binary header from the server")
            buf = buf[header:]
            started = True
        whole = len(buf) // dtype.itemsize * dtype.itemsize
        if final and len(buf) - whole == 2 and buf[whole:] == b"\xff\xff":
            pass  # the trailer: a field count of -1
        elif final and len(buf) != whole:
            raise DatabaseError("COPY binary stream ended mid-row")
        if whole:
            rows = np.frombuffer(buf, dtype=dtype, count=whole // dtype.itemsize)
            for name, kind in fields:
                parts[name].append(rows[name].astype(kind.replace(">", "=")))
        rest = buf[whole:]

    with conn.cursor().copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            blocks.append(bytes(block))
            size += len(block)
            if size >= 1 << 20:
                parse(final=False)
    parse(final=True)
    return {
        name: (np.concatenate(chunks) if chunks else np.array([], dtype=kind.replace(">", "=")))
        for (name, kind), chunks in zip(fields, parts.values(), strict=True)
    }


EPOCH = "extract(epoch FROM {})::bigint"


def _lookup(conn: psycopg.Connection[Any], sql: str) -> dict[int, str]:
    return {int(k): str(v) for k, v in conn.execute(sql).fetchall()}


def load_dataset_from_db(url: str, sample_dir: Path = SAMPLE_DIR) -> Dataset:
    """Every table from the database, as the same columns the JSON mode builds."""
    import psycopg

    from .loading import reading_room_names

    try:
        with connect(url) as conn:
            loaded = conn.execute(
                "SELECT table_name, origin, file, rows, note FROM homedata_load"
            ).fetchall()
            return _read_all(conn, loaded, sample_dir, reading_room_names)
    except psycopg.errors.UndefinedTable:
        raise DatabaseError(
            "DATABASE_URL is set but the database has no homedata tables yet: run the release "
            "command (python -m homedata_dashboard.release) to load them"
        ) from None
    except psycopg.Error as exc:
        raise DatabaseError(f"reading the homedata tables failed: {_first_line(exc)}") from None


def _read_all(
    conn: psycopg.Connection[Any],
    loaded: list[tuple[Any, ...]],
    sample_dir: Path,
    reading_room_names: Callable[..., tuple[dict[int, str], dict[int, str]]],
) -> Dataset:
    order = [
        "room",
        "room_temp",
        "air_quality",
        "door",
        "door_status",
        "user",
        "workout",
        "workout_type",
        "weather",
    ]
    by_table = {row[0]: row for row in loaded}
    missing = [t for t in order if t not in by_table]
    if missing:
        raise DatabaseError(
            f"the database lacks {', '.join(missing)}: run the release command "
            "(python -m homedata_dashboard.release)"
        )
    sources = [
        TableSource(t, str(by_table[t][1]), by_table[t][2], int(by_table[t][3]), by_table[t][4])
        for t in order
    ]
    room_rows = conn.execute("SELECT id, name, location FROM room").fetchall()
    names = {int(i): str(n) for i, n, _ in room_rows}
    locations = {int(i): str(loc) for i, _, loc in room_rows}
    # One room at a time (the index on room_id, date_time serves each in order): every room's
    # columns are built once, never sliced out of a whole-table copy (which at ten times the
    # sample held 50 MB more at boot, left behind in the heap the workers fork from).
    counts = conn.execute("SELECT room_id, count(*) FROM room_temp GROUP BY room_id").fetchall()
    rooms: dict[int, RoomReadings] = {}
    for room_id, _count in sorted(counts):
        cols = _binary_rows(
            conn,
            f"SELECT {EPOCH.format('date_time')}, coalesce(temperature, 'NaN'),"
            f" coalesce(humidity, 'NaN') FROM room_temp WHERE room_id = {int(room_id)}"
            " ORDER BY date_time",
            [("time", ">i8"), ("temperature", ">f4"), ("humidity", ">f4")],
        )
        if len(cols["time"]):
            rooms[int(room_id)] = RoomReadings(
                time=cols["time"], temperature=cols["temperature"], humidity=cols["humidity"]
            )
        del cols
    air = _binary_rows(
        conn,
        f"SELECT {EPOCH.format('date_time')}, room_id, coalesce(voc, 'NaN'), warm_up"
        " FROM air_quality ORDER BY date_time",
        [("time", ">i8"), ("room", ">i2"), ("voc", ">f4"), ("warm_up", ">i2")],
    )
    doors = _binary_rows(
        conn,
        f"SELECT {EPOCH.format('date_time')}, door_id, status FROM door_status ORDER BY date_time",
        [("time", ">i8"), ("door", ">i2"), ("status", ">i2")],
    )
    work = _binary_rows(
        conn,
        f"SELECT {EPOCH.format('start_datetime')}, coalesce(duration, 0), step_count,"
        " workout_type_id, user_id FROM workout ORDER BY start_datetime",
        [
            ("start", ">i8"),
            ("duration", ">f8"),
            ("steps", ">i4"),
            ("type_id", ">i2"),
            ("user", ">i2"),
        ],
    )
    weather = _binary_rows(
        conn,
        "SELECT (day - date '1970-01-01')::bigint, coalesce(tavg, 'NaN'), coalesce(tmax, 'NaN'),"
        " coalesce(tmin, 'NaN'), coalesce(prcp, 'NaN') FROM weather ORDER BY day",
        [("day", ">i8"), ("tavg", ">f4"), ("tmax", ">f4"), ("tmin", ">f4"), ("prcp", ">f4")],
    )
    names, locations = reading_room_names(sources, names, locations, rooms, sample_dir)
    return Dataset(
        rooms=rooms,
        room_names=names,
        room_locations=locations,
        air=AirQuality(air["time"], air["room"], air["voc"], air["warm_up"] != 0),
        doors=DoorEvents(doors["time"], doors["door"], doors["status"].astype(np.int8)),
        door_names=_lookup(conn, "SELECT id, name FROM door"),
        workouts=Workouts(
            work["start"], work["duration"] / 1000.0, work["steps"], work["type_id"], work["user"]
        ),
        workout_types=_lookup(conn, "SELECT id, type FROM workout_type"),
        users=_lookup(conn, "SELECT id, name FROM app_user"),
        weather=Weather(
            weather["day"], weather["tavg"], weather["tmax"], weather["tmin"], weather["prcp"]
        ),
        sources=sources,
    )
