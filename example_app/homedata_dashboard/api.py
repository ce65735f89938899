"""The JSON API behind every chart (``/api/...``), each endpoint also available as CSV.

Endpoints are declared with :func:`endpoint`, which records the path, description and
parameters that ``GET /api`` lists, validates the query string against them (unknown names
and bad values get a 400 with a JSON error), and caches the rendered body: the data never
changes while a worker runs, so the dashboard's default requests are answered from memory.

Bodies are gzip-compressed once, when rendered, and cached compressed (a JSON series shrinks
about fourfold), with an ETag so a revisit past ``max-age`` costs a 304. Flask-Compress would
compress every response again on every request; compressing what the cache keeps is both less
work and a smaller cache. The cache is bounded by bytes (``HOMEDATA_CACHE_MB``, default 16 per
worker), not by entry count, and the cache key is the parsed, quantised parameters, so
``points=1234`` and ``points=1299`` share one entry: no query mix can grow a worker past the
budget. A CSV download of many readings is streamed in slices and never cached.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from flask import Blueprint, Response, current_app, request
from numpy.typing import NDArray

from .analysis import DAY
from .analysis.air import air_quality
from .analysis.cleaning import REASONS, REMOVAL_REASONS, clean
from .analysis.doors import WEEKDAYS, door_activity
from .analysis.health import sensor_health
from .analysis.outdoor import indoor_vs_outdoor
from .analysis.series import display_series, window
from .analysis.workouts import DAILY_TOTAL_TYPE, is_exercise, label, type_name, workout_summary
from .params import (
    END,
    FORMAT,
    MEASURE,
    START,
    BadParam,
    Param,
    flag,
    float_in,
    int_in,
    int_list,
    read_params,
)
from .store import Store
from .tables import UNITS

bp = Blueprint("api", __name__, url_prefix="/api")
CACHE_BYTES = 16 << 20  # per worker; HOMEDATA_CACHE_MB overrides
ENTRY_OVERHEAD = 512  # the key, tuple and header dict of one entry, roughly
COMPRESS_MIN = 1024  # smaller bodies go out as they are
# gzip level of rendered JSON/CSV. Measured on the sample's zoom windows and first-visit data
# calls: level 6 took 2.0 ms a body, level 1 0.23 ms, for 27 % more bytes on a zoom window and
# 12 KB more on a first visit (80 KB of data calls instead of 68, far inside the page's budget).
# A zoom window is computed per request, so its compression is on the critical path.
GZIP_LEVEL = 1
STREAM_ROWS = 20_000  # a CSV with more rows is streamed, not cached


@dataclass(frozen=True)
class Table:
    """Rows for the CSV download of an endpoint."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    count: int | None = None  # rows, when ``rows`` is a generator that knows its length


@dataclass(frozen=True)
class Result:
    data: dict[str, Any]
    csv: Callable[[], Table]


@dataclass(frozen=True)
class Rendered:
    """A cached response body: gzip'd when ``gzipped``; ``etag`` names the uncompressed body."""

    body: bytes
    gzipped: bool
    mimetype: str
    headers: tuple[tuple[str, str], ...]
    etag: str

    @property
    def cost(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


@dataclass(frozen=True)
class Endpoint:
    path: str
    description: str
    params: dict[str, Param]


ENDPOINTS: list[Endpoint] = []


def store() -> Store:
    return current_app.extensions["homedata"]


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return Response(body, status=status, mimetype="application/json")


def error_response(status: int, message: str, **extra: Any) -> Response:
    payload = {
        "error": {"status": status, "message": message, **{k: v for k, v in extra.items() if v}}
    }
    return json_response(payload, status)


class _Cache:
    """An LRU of rendered responses bounded by their total size in bytes, one per worker."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max(max_bytes // 8, 1)  # no single body may evict most of the rest
        self.bytes = 0
        self.items: OrderedDict[tuple[Any, ...], Rendered] = OrderedDict()
        self.lock = threading.Lock()  # gthread workers share one cache between threads

    def get(self, key: tuple[Any, ...]) -> Rendered | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is not None:
                self.items.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], value: Rendered) -> None:
        if value.cost > self.max_entry:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.bytes -= old.cost
            self.items[key] = value
            self.bytes += value.cost
            while self.bytes > self.max_bytes and self.items:
                _, dropped = self.items.popitem(last=False)
                self.bytes -= dropped.cost


def cache_from_env() -> _Cache:
    """``HOMEDATA_CACHE_MB`` (0..1024, default 16): the response cache's budget per worker."""
    from .config import ConfigError

    raw = os.environ.get("HOMEDATA_CACHE_MB", "")
    if not raw:
        return _Cache(CACHE_BYTES)
    try:
        megabytes = float(raw)
    except ValueError:
        raise ConfigError(f"HOMEDATA_CACHE_MB={raw!r}: expected megabytes, e.g. 16") from None
    if not 0 <= megabytes <= 1024:
        raise ConfigError(f"HOMEDATA_CACHE_MB={raw!r}: expected 0..1024")
    return _Cache(int(megabytes * (1 << 20)))


def render(body: bytes, mimetype: str, headers: dict[str, str]) -> Rendered:
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    if len(body) >= COMPRESS_MIN:
        return Rendered(
            gzip.compress(body, GZIP_LEVEL, mtime=0), True, mimetype, (*headers.items(),), etag
        )
    return Rendered(body, False, mimetype, (*headers.items(),), etag)


def accepts_gzip() -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def send(hit: Rendered) -> Response:
    """The cached body as the client can take it, or 304 when its ETag still matches."""
    gzip_ok = hit.gzipped and accepts_gzip()
    etag = hit.etag + ("-gz" if gzip_ok else "")
    headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"}
    if etag in request.if_none_match:
        response = Response(status=304, headers=headers)
        response.set_etag(etag)
        return response
    body = hit.body if gzip_ok or not hit.gzipped else gzip.decompress(hit.body)
    response = Response(body, mimetype=hit.mimetype, headers=dict(hit.headers))
    response.headers.update(headers)
    if gzip_ok:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    return response


def _stream_csv(table: Table, gzipped: bool) -> Iterator[bytes]:
    """A CSV body in (gzip'd) slices of a few thousand rows: memory stays flat for any size."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31) if gzipped else None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.header)
    for i, row in enumerate(table.rows, start=1):
        writer.writerow(row)
        if i % 5000 == 0:
            chunk = buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            yield packer.compress(chunk) if packer else chunk
    chunk = buf.getvalue().encode()
    yield (packer.compress(chunk) + packer.flush()) if packer else chunk


def _csv_body(table: Table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return buf.getvalue().encode()


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def endpoint(
    path: str,
    description: str,
    quantise: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    **params: Param,
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Register ``fn(store, **params) -> Result`` as ``GET path`` (JSON, or CSV with format=csv).

    ``quantise`` maps parsed parameters to the values actually computed (and cached under).
    """
    params = {**params, "format": FORMAT}

    def register(fn: Callable[..., Result]) -> Callable[..., Result]:
        ENDPOINTS.append(Endpoint(path, description, params))

        def view() -> Response:
            values = read_params(request.args.to_dict(flat=True), params)
            fmt = values.pop("format", "json")
            if quantise is not None and fmt == "json":
                values = quantise(values)
            cache: _Cache = current_app.extensions["homedata_cache"]
            key = (path, fmt, *sorted((k, _hashable(v)) for k, v in values.items()))
            hit = cache.get(key)
            if hit is not None:
                return send(hit)
            result = fn(store(), **values)
            if fmt == "csv":
                table = result.csv()
                headers = {"Content-Disposition": f'attachment; filename="{table.name}.csv"'}
                if table.count is not None and table.count > STREAM_ROWS:
                    gzipped = accepts_gzip()
                    response = Response(
                        _stream_csv(table, gzipped), mimetype="text/csv", headers=headers
                    )
                    if gzipped:
                        response.headers["Content-Encoding"] = "gzip"
                    response.headers["Vary"] = "Accept-Encoding"
                    return response
                hit = render(_csv_body(table), "text/csv", headers)
            else:
                body = json.dumps(result.data, separators=(",", ":"), allow_nan=False).encode()
                hit = render(body, "application/json", {})
            cache.put(key, hit)
            return send(hit)

        bp.add_url_rule(path.removeprefix("/api"), endpoint=fn.__name__, view_func=view)
        return fn

    return register


@bp.errorhandler(BadParam)
def _bad_param(exc: BadParam) -> Response:
    return error_response(400, exc.message, param=exc.param, accepted=exc.accepted)


# --- value formatting ------------------------------------------------------------------------


def nums(values: NDArray[Any], decimals: int = 2) -> list[float | None]:
    """Floats rounded for the wire, NaN as null."""
    rounded = np.round(np.asarray(values, dtype=np.float64), decimals).tolist()
    return [None if v != v else v for v in rounded]


def iso_days(days: NDArray[np.int64]) -> list[str]:
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]")).tolist()


def iso_times(seconds: NDArray[np.int64]) -> list[str]:
    return np.datetime_as_string(
        np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    ).tolist()


def iso_time(seconds: int) -> str:
    return iso_times(np.array([seconds]))[0]


# --- shared parameter checks ------------------------------------------------------------------


def pick_rooms(
    s: Store, rooms: list[int] | None, measure: str | None, default_all: bool = True
) -> list[int]:
    known = s.room_ids()
    if rooms is None:
        available = s.room_ids(measure)
        return available if default_all else available[:1]
    for room in rooms:
        if room not in known:
            raise BadParam(
                "room",
                f"room: unknown room {room}",
                f"room ids with data: {', '.join(map(str, known))}",
            )
        if measure is not None and (room, measure) not in s.series:
            name = s.data.room_names.get(room, f"room {room}")
            raise BadParam(
                "room",
                f"room: {name} (room {room}) has no {measure} readings",
                f"rooms with {measure}: {', '.join(map(str, s.room_ids(measure)))}",
            )
    return list(dict.fromkeys(rooms))


def one_room(rooms: list[int] | None) -> list[int] | None:
    if rooms is not None and len(rooms) != 1:
        raise BadParam("room", "room: give one room id here", "one room id, e.g. room=0")
    return rooms


def no_rooms(measure: str) -> Result:
    """The answer when no room has readings of ``measure`` at all (no room_temp table)."""
    return Result(
        {
            "room_id": None,
            "room": None,
            "measure": measure,
            "days": [],
            "note": f"no room has {measure} readings",
        },
        lambda: Table(f"no-{measure}", ["day"], []),
    )


def _pow2_grid(seconds: int) -> int:
    """The largest of 60 s, 120 s, 240 s, ... that fits 200 times into ``seconds``."""
    grid = 60
    while grid * 2 * 200 <= seconds:
        grid *= 2
    return grid


def quantise_series(values: dict[str, Any]) -> dict[str, Any]:
    """``points`` up to a multiple of 100; a window widened by at most 1 % onto a coarse grid.

    Zooming sends arbitrary millisecond ranges; this maps nearby ones onto one cache entry
    while the chart still shows exactly the range the user chose (the page keeps its own range).
    """
    out = dict(values)
    if "points" in out:
        out["points"] = min(10_000, -(-out["points"] // 100) * 100)
    start, end = out.get("start"), out.get("end")
    grid = _pow2_grid(end - start) if start is not None and end is not None else 60
    if start is not None:
        out["start"] = start // grid * grid
    if end is not None:
        out["end"] = -(-end // grid) * grid
    return out


def quantise_days(values: dict[str, Any]) -> dict[str, Any]:
    """Start and end to whole days: day-based endpoints give the same answer for both."""
    out = dict(values)
    if out.get("start") is not None:
        out["start"] = out["start"] // DAY * DAY
    if out.get("end") is not None:
        out["end"] = -(-out["end"] // DAY) * DAY
    return out


def quantise_rules(values: dict[str, Any]) -> dict[str, Any]:
    """Rule overrides to 0.1 (°F or %RH): finer than any sensor resolves."""
    out = dict(values)
    for name in ("low", "high", "spike"):
        if out.get(name) is not None:
            out[name] = max(0.1, round(out[name], 1)) if name == "spike" else round(out[name], 1)
    return out


ROOMS = Param("comma-separated room ids, e.g. 0,1; default: every room with the measure", int_list)
ROOM = Param("one room id; default: the first room with data", int_list)


# --- endpoints ----------------------------------------------------------------------------------


@endpoint(
    "/api/sources",
    "Where each table comes from (HOMEDATA_DIR or the bundled sample) and the period covered.",
)
def sources(s: Store) -> Result:
    span = s.span()
    data: dict[str, Any] = {
        "sample": s.data.uses_sample,
        "sample_tables": s.data.sample_tables(),
        "tables": [
            {"table": t.table, "origin": t.origin, "file": t.file, "rows": t.rows, "note": t.note}
            for t in s.data.sources
        ],
        "first": iso_time(span[0]) if span else None,
        "last": iso_time(span[1]) if span else None,
    }
    return Result(
        data,
        lambda: Table(
            "sources",
            ["table", "origin", "file", "rows", "note"],
            [[t.table, t.origin, t.file, t.rows, t.note] for t in s.data.sources],
        ),
    )


@endpoint("/api/rooms", "Rooms with sensor readings: name, location, measures and period.")
def rooms(s: Store) -> Result:
    out: list[dict[str, Any]] = []
    for room in s.room_ids():
        readings = s.data.rooms[room]
        out.append(
            {
                "room_id": room,
                "name": s.data.room_names.get(room, f"Room {room}"),
                "color": s.color(room),
                "location": s.data.room_locations.get(room, ""),
                "measures": [m for m in ("temperature", "humidity") if (room, m) in s.series],
                "readings": len(readings.time),
                "first": iso_time(int(readings.time[0])),
                "last": iso_time(int(readings.time[-1])),
            }
        )
    header = ["room_id", "name", "location", "measures", "readings", "first", "last"]
    return Result(
        {"rooms": out},
        lambda: Table(
            "rooms",
            header,
            [[r[k] if k != "measures" else " ".join(r[k]) for k in header] for r in out],
        ),
    )


@endpoint(
    "/api/series",
    "Temperature or humidity per room over time, cleaned, min/max-decimated to about `points` "
    "points per room; a window with fewer readings comes back at full resolution. `points` is "
    "rounded up to a multiple of 100 and the window widened by at most 1 % onto a grid.",
    quantise=quantise_series,
    room=ROOMS,
    measure=MEASURE,
    start=START,
    end=END,
    points=Param("most points per room, 100..10000; default 1500", int_in(100, 10000)),
    cleaned=Param("1 (default): cleaned readings; 0: raw readings with every flaw", flag),
)
def series(
    s: Store,
    room: list[int] | None = None,
    measure: str = "temperature",
    start: int | None = None,
    end: int | None = None,
    points: int = 1500,
    cleaned: bool = True,
) -> Result:
    def columns(room_id: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        if cleaned:
            return s.series[(room_id, measure)].time, s.series[(room_id, measure)].value
        raw = s.data.rooms[room_id]
        return raw.time, raw.measure(measure)

    out = []
    for room_id in pick_rooms(s, room, measure):
        time, value = columns(room_id)  # NaN: removed or missing, skipped by display_series
        shown = display_series(time, value, start, end, points, s.gap_seconds)
        ms = shown.time * 1000
        x = np.insert(ms, shown.breaks, ms[shown.breaks - 1] + 1) if len(shown.breaks) else ms
        y = np.insert(shown.value, shown.breaks, np.nan) if len(shown.breaks) else shown.value
        out.append(
            {
                "room_id": room_id,
                "room": s.data.room_names.get(room_id, f"Room {room_id}"),
                "color": s.color(room_id),
                "resolution": shown.resolution,
                "raw_points": shown.raw_points,
                "points": len(shown.time),
                "bucket_seconds": shown.bucket_seconds,
                "x": x.tolist(),
                "y": nums(y, 2),
            }
        )
    data: dict[str, Any] = {
        "measure": measure,
        "unit": UNITS[measure],
        "cleaned": cleaned,
        "start": iso_time(start) if start is not None else None,
        "end": iso_time(end) if end is not None else None,
        "series": out,
    }

    def table() -> Table:
        # A download carries every reading in the window, not the decimated points, made slice
        # by slice so that a download of every reading never exists as Python lists at once.
        spans = []
        for item in out:
            time, value = columns(item["room_id"])
            lo, hi = window(time, start, end)
            spans.append((item["room_id"], time, value, lo, hi))

        def rows() -> Iterator[list[Any]]:
            for room_id, time, value, lo, hi in spans:
                for a in range(lo, hi, 5000):
                    b = min(hi, a + 5000)
                    ok = ~np.isnan(value[a:b])  # removed or missing readings are not listed
                    values = np.round(value[a:b][ok].astype(np.float64), 2).tolist()
                    for t, v in zip(iso_times(time[a:b][ok]), values, strict=True):
                        yield [room_id, t, v]

        count = sum(int((~np.isnan(value[lo:hi])).sum()) for _, _, value, lo, hi in spans)
        return Table(f"series-{measure}", ["room_id", "time", measure], rows(), count)

    return Result(data, table)


@endpoint(
    "/api/daily",
    "Daily low, mean and high of a measure in one room (cleaned readings).",
    quantise=quantise_days,
    room=ROOM,
    measure=MEASURE,
    start=START,
    end=END,
)
def daily(
    s: Store,
    room: list[int] | None = None,
    measure: str = "temperature",
    start: int | None = None,
    end: int | None = None,
) -> Result:
    picked = pick_rooms(s, one_room(room), measure, default_all=False)
    if not picked:
        return no_rooms(measure)
    room_id = picked[0]
    stats = s.series[(room_id, measure)].daily
    sel = _day_window(stats.day, start, end)
    data: dict[str, Any] = {
        "room_id": room_id,
        "room": s.data.room_names.get(room_id, f"Room {room_id}"),
        "color": s.color(room_id),
        "measure": measure,
        "unit": UNITS[measure],
        "days": iso_days(stats.day[sel]),
        "low": nums(stats.low[sel], 1),
        "mean": nums(stats.mean[sel], 2),
        "high": nums(stats.high[sel], 1),
        "readings": stats.count[sel].tolist(),
    }
    return Result(
        data,
        lambda: Table(
            f"daily-{measure}-room{room_id}",
            ["day", "low", "mean", "high", "readings"],
            zip(*(data[k] for k in ("days", "low", "mean", "high", "readings")), strict=True),
        ),
    )


def _day_window(days: NDArray[np.int64], start: int | None, end: int | None) -> NDArray[np.bool_]:
    sel = np.ones(len(days), dtype=bool)
    if start is not None:
        sel &= days * DAY + DAY > start
    if end is not None:
        sel &= days * DAY < end
    return sel


@endpoint(
    "/api/indoor-outdoor",
    "A room's daily mean temperature against the outdoor daily average at MSP (NOAA TAVG), "
    "with the Pearson correlation and a least-squares line (days with at least half their "
    "readings).",
    quantise=quantise_days,
    room=ROOM,
    start=START,
    end=END,
)
def indoor_outdoor(
    s: Store, room: list[int] | None = None, start: int | None = None, end: int | None = None
) -> Result:
    picked = pick_rooms(s, one_room(room), "temperature", default_all=False)
    if not picked:
        return no_rooms("temperature")
    room_id = picked[0]
    stats = s.series[(room_id, "temperature")].daily
    sel = _day_window(stats.day, start, end)
    w = s.data.weather
    joined = indoor_vs_outdoor(stats.day[sel], stats.mean[sel], w.day, w.tavg, stats.count[sel], 72)
    data: dict[str, Any] = {
        "room_id": room_id,
        "room": s.data.room_names.get(room_id, f"Room {room_id}"),
        "color": s.color(room_id),
        "unit": "°F",
        "days": iso_days(joined.day),
        "indoor": nums(joined.indoor, 2),
        "outdoor": nums(joined.outdoor, 1),
        "n": joined.days,
        "r": None if joined.r is None else round(joined.r, 4),
        "slope": None if joined.slope is None else round(joined.slope, 4),
        "intercept": None if joined.intercept is None else round(joined.intercept, 3),
    }
    return Result(
        data,
        lambda: Table(
            f"indoor-outdoor-room{room_id}",
            ["day", "indoor_mean_f", "outdoor_tavg_f"],
            zip(data["days"], data["indoor"], data["outdoor"], strict=False),
        ),
    )


@endpoint(
    "/api/doors",
    "Door openings by weekday and hour, the longest open durations, and front versus back.",
    door=Param("one door id or a comma-separated list; default: every door", int_list),
    start=START,
    end=END,
    top=Param("how many of the longest openings to list, 1..100; default 10", int_in(1, 100)),
)
def doors(
    s: Store,
    door: list[int] | None = None,
    start: int | None = None,
    end: int | None = None,
    top: int = 10,
) -> Result:
    ev = s.data.doors
    known = sorted(set(np.unique(ev.door).tolist()) | set(s.data.door_names))
    for d in door or []:
        if d not in known:
            raise BadParam(
                "door", f"door: unknown door {d}", f"door ids: {', '.join(map(str, known))}"
            )
    sel = np.ones(len(ev.time), dtype=bool)
    if door is not None:
        sel &= np.isin(ev.door, door)
    if start is not None:
        sel &= ev.time >= start
    if end is not None:
        sel &= ev.time < end
    act = door_activity(ev.time[sel], ev.door[sel], ev.status[sel], top)
    name = s.data.door_names.get
    data: dict[str, Any] = {
        "doors": [
            {
                "door_id": d.door,
                "name": name(d.door, f"Door {d.door}"),
                "openings": d.openings,
                "days": d.days,
                "per_day": round(d.per_day, 2),
                "median_seconds": d.median_seconds,
                "unclosed": d.unclosed,
            }
            for d in act.summaries
        ],
        "heatmap": {
            "weekdays": list(WEEKDAYS),
            "hours": list(range(24)),
            "openings": act.heatmap.tolist(),
        },
        "longest": [
            {
                "door_id": int(act.spans.door[i]),
                "door": name(int(act.spans.door[i]), f"Door {int(act.spans.door[i])}"),
                "opened": iso_time(int(act.spans.opened[i])),
                "seconds": int(act.spans.seconds[i]),
            }
            for i in act.longest.tolist()
        ],
    }
    spans = act.spans
    return Result(
        data,
        lambda: Table(
            "door-openings",
            ["door_id", "opened", "seconds_open"],
            (
                [int(d), t, (int(sec) if sec >= 0 else "")]
                for d, t, sec in zip(
                    spans.door.tolist(),
                    iso_times(spans.opened),
                    spans.seconds.tolist(),
                    strict=True,
                )
            ),
        ),
    )


@endpoint(
    "/api/air-quality",
    "tVOC (ppb) without the sensor's warm-up readings: the profile by hour of day, daily medians, "
    "and multi-day elevations (runs of days whose median stays above the threshold).",
    start=START,
    end=END,
    threshold=Param(
        "ppb a day's median must exceed, 1..5000; default: 3x the typical day (at least 100)",
        float_in(1, 5000),
    ),
    min_days=Param("shortest run of elevated days to report, 1..60; default 2", int_in(1, 60)),
)
def air(
    s: Store,
    start: int | None = None,
    end: int | None = None,
    threshold: float | None = None,
    min_days: int = 2,
) -> Result:
    a = s.data.air
    sel = np.ones(len(a.time), dtype=bool)
    if start is not None:
        sel &= a.time >= start
    if end is not None:
        sel &= a.time < end
    summary = air_quality(a.time[sel], a.voc[sel], a.warm_up[sel], threshold, min_days)
    d = summary.daily
    data: dict[str, Any] = {
        "unit": "ppb",
        "readings": summary.readings,
        "warm_up_dropped": summary.warm_up_dropped,
        "threshold": round(summary.threshold, 1),
        "profile": {
            "hours": summary.profile.hour.tolist(),
            "median": nums(summary.profile.median, 1),
            "p90": nums(summary.profile.p90, 1),
            "readings": summary.profile.count.tolist(),
        },
        "daily": {
            "days": iso_days(d.day),
            "median": nums(summary.daily_median, 1),
            "high": nums(d.high, 1),
        },
        "elevations": [
            {
                "first_day": iso_days(np.array([e.first_day]))[0],
                "last_day": iso_days(np.array([e.last_day]))[0],
                "days": e.days,
                "peak_median": round(e.peak_median, 1),
            }
            for e in summary.elevations
        ],
    }
    return Result(
        data,
        lambda: Table(
            "air-quality-daily",
            ["day", "median_ppb", "high_ppb"],
            zip(*(data["daily"][k] for k in ("days", "median", "high")), strict=True),
        ),
    )


@endpoint(
    "/api/sensor-health",
    "Per room: coverage, drop-outs, out-of-range readings, spikes, oscillation (a damaged "
    "sensor) and outages, with weekly counts of each issue.",
    room=ROOMS,
    measure=MEASURE,
)
def health(s: Store, room: list[int] | None = None, measure: str = "temperature") -> Result:
    out: list[dict[str, Any]] = []
    for room_id in pick_rooms(s, room, measure):
        h = sensor_health(s.data.rooms[room_id].time, s.series[(room_id, measure)].result)
        out.append(
            {
                "room_id": room_id,
                "room": s.data.room_names.get(room_id, f"Room {room_id}"),
                "color": s.color(room_id),
                "readings": h.readings,
                "expected": h.expected,
                "coverage": round(h.coverage, 4),
                "issues": h.issues,
                "oscillating_days": iso_days(h.oscillating_days),
                "gaps": h.gap_count,
                "longest_gaps": [
                    {"from": iso_time(a), "to": iso_time(b), "hours": round((b - a) / 3600, 1)}
                    for a, b in h.longest_gaps
                ],
                "weeks": iso_days(h.week_start // DAY),
                "weekly": {k: v.tolist() for k, v in h.weekly.items()},
            }
        )
    header = ["room_id", "readings", "expected", "coverage", *REMOVAL_REASONS, "gaps"]
    return Result(
        {"measure": measure, "rooms": out},
        lambda: Table(
            f"sensor-health-{measure}",
            header,
            [
                [
                    r["room_id"],
                    r["readings"],
                    r["expected"],
                    r["coverage"],
                    *(r["issues"][k] for k in REMOVAL_REASONS),
                    r["gaps"],
                ]
                for r in out
            ],
        ),
    )


@endpoint(
    "/api/cleaning",
    "What the cleaning rules removed and why, per room; override the rules to preview their "
    "effect. "
    "The CSV lists every removed reading with its reason. Overrides are rounded to 0.1.",
    quantise=quantise_rules,
    room=ROOMS,
    measure=MEASURE,
    low=Param("lowest plausible value (°F or %RH); default: -40 °F / 0 %RH", float_in(-1000, 1000)),
    high=Param("highest plausible value; default: 140 °F / 100 %RH", float_in(-1000, 10000)),
    spike=Param(
        "largest plausible distance from the neighbours' median, > 0; default 12 °F / 20 %RH",
        float_in(0.1, 1000),
    ),
)
def cleaning(
    s: Store,
    room: list[int] | None = None,
    measure: str = "temperature",
    low: float | None = None,
    high: float | None = None,
    spike: float | None = None,
) -> Result:
    base = s.rules[measure]
    overrides = any(v is not None for v in (low, high, spike))
    rules = replace(
        base,
        low=base.low if low is None else low,
        high=base.high if high is None else high,
        spike=base.spike if spike is None else spike,
    )
    if rules.low >= rules.high:
        raise BadParam(
            "high",
            f"high: the plausible range {rules.low:g}..{rules.high:g} is empty",
            "high above low",
        )
    out: list[dict[str, Any]] = []
    removed_rows: list[tuple[int, str, NDArray[np.intp]]] = []
    for room_id in pick_rooms(s, room, measure):
        readings = s.data.rooms[room_id]
        result = s.series[(room_id, measure)].result
        if overrides:
            result = clean(readings.time, readings.measure(measure), rules, s.gap_seconds)
        examples: dict[str, list[dict[str, Any]]] = {}
        values = readings.measure(measure)
        for code, reason in REASONS.items():
            if reason not in REMOVAL_REASONS:
                continue
            idx = np.flatnonzero(result.reason == code)
            examples[reason] = [
                {"time": iso_time(int(readings.time[i])), "value": round(float(values[i]), 2)}
                for i in idx[:5].tolist()
            ]
            removed_rows.append((room_id, reason, idx))
        out.append(
            {
                "room_id": room_id,
                "room": s.data.room_names.get(room_id, f"Room {room_id}"),
                "color": s.color(room_id),
                "readings": int(len(values) - result.counts.get("missing", 0)),
                "removed": result.removed,
                "counts": {k: result.counts.get(k, 0) for k in REMOVAL_REASONS},
                "gaps": len(result.gaps.before),
                "examples": examples,
            }
        )
    data: dict[str, Any] = {
        "measure": measure,
        "unit": UNITS[measure],
        "rules": {
            "low": rules.low,
            "high": rules.high,
            "spike": rules.spike,
            "zero_tolerance": rules.zero_tolerance,
            "oscillation_step": rules.oscillation_step,
            "gap_minutes": s.gap_seconds // 60,
        },
        "rooms": out,
    }

    def table() -> Table:
        rows = []
        for room_id, reason, idx in removed_rows:
            readings = s.data.rooms[room_id]
            values = readings.measure(measure)
            for t, v in zip(iso_times(readings.time[idx]), values[idx].tolist(), strict=False):
                rows.append([room_id, t, round(v, 2), reason])
        rows.sort(key=lambda r: (r[0], r[1]))
        return Table(f"cleaning-{measure}", ["room_id", "time", measure, "reason"], rows)

    return Result(data, table)


@endpoint(
    "/api/workouts",
    "Steps per day, and active minutes and steps per day by activity type (Google Fit), for one "
    "person. Types are named from the workout_type table; segments that are not exercise (still, "
    "in vehicle, unknown) are listed apart and not counted as active.",
    user=Param("one user id; default: the first user with workouts", int_list),
    start=START,
    end=END,
    exclude=Param(
        "activity type ids to leave out of the active minutes, comma-separated; default: every "
        "non-exercise type (still, in vehicle, unknown, ...); 'none' counts every type",
        lambda v: [] if v == "none" else int_list(v),
    ),
)
def workouts(
    s: Store,
    user: list[int] | None = None,
    start: int | None = None,
    end: int | None = None,
    exclude: list[int] | None = None,
) -> Result:
    w = s.data.workouts
    users = sorted(set(np.unique(w.user).tolist()))
    if user is None:
        user_id = users[0] if users else 0
    else:
        if len(user) != 1 or user[0] not in users:
            raise BadParam(
                "user",
                f"user: no workouts for user {','.join(map(str, user))}",
                f"user ids: {', '.join(map(str, users))}",
            )
        user_id = user[0]
    table = s.data.workout_types
    present = sorted(int(t) for t in np.unique(w.type_id).tolist() if t != DAILY_TOTAL_TYPE)
    if exclude is None:
        excluded = [t for t in present if not is_exercise(t, table)]
    else:
        excluded = sorted(set(exclude))
    sel = w.user == user_id
    if start is not None:
        sel &= w.start >= start
    if end is not None:
        sel &= w.start < end
    summary = workout_summary(
        w.start[sel], w.duration_s[sel], w.steps[sel], w.type_id[sel], tuple(excluded)
    )
    left_out = workout_summary(
        w.start[sel],
        w.duration_s[sel],
        w.steps[sel],
        w.type_id[sel],
        tuple(t for t in present if t not in excluded),
    )

    def describe(k: int) -> dict[str, Any]:
        name = type_name(k, table)
        return {"type_id": k, "type": name, "label": label(name), "exercise": is_exercise(k, table)}

    data: dict[str, Any] = {
        "user_id": user_id,
        "user": s.data.users.get(user_id, f"user {user_id}"),
        "users": [{"user_id": u, "name": s.data.users.get(u, f"user {u}")} for u in users],
        "excluded": excluded,
        "days": iso_days(summary.day),
        "steps": summary.steps.tolist(),
        "steps_from_daily_total": summary.steps_source.tolist(),
        "types": [
            {
                **describe(k),
                "minutes": nums(summary.minutes[i], 1),
                "steps": summary.type_steps[i].tolist(),
                "total_minutes": round(summary.type_totals[k], 1),
            }
            for i, k in enumerate(summary.type_ids)
        ],
        "not_counted": [
            {**describe(k), "total_minutes": round(left_out.type_totals[k], 1)}
            for k in left_out.type_ids
        ],
        "daily_total_type": DAILY_TOTAL_TYPE,
    }

    def csv_table() -> Table:
        header = ["day", "steps", *(f"{t['type']}_minutes" for t in data["types"])]
        rows = [
            [day, steps, *(t["minutes"][i] for t in data["types"])]
            for i, (day, steps) in enumerate(zip(data["days"], data["steps"], strict=False))
        ]
        return Table(f"workouts-user{user_id}", header, rows)

    return Result(data, csv_table)


@endpoint(
    "/api/weather",
    "Outdoor daily average, high and low (°F) and precipitation (in) at MSP from the NOAA "
    "daily CSV.",
    quantise=quantise_days,
    start=START,
    end=END,
)
def weather(s: Store, start: int | None = None, end: int | None = None) -> Result:
    w = s.data.weather
    sel = _day_window(w.day, start, end)
    data: dict[str, Any] = {
        "station": "USW00014922 (Minneapolis-St Paul airport)",
        "days": iso_days(w.day[sel]),
        "tavg": nums(w.tavg[sel], 1),
        "tmax": nums(w.tmax[sel], 1),
        "tmin": nums(w.tmin[sel], 1),
        "prcp": nums(w.prcp[sel], 2),
    }
    return Result(
        data,
        lambda: Table(
            "weather",
            ["day", "tavg_f", "tmax_f", "tmin_f", "prcp_in"],
            zip(*(data[k] for k in ("days", "tavg", "tmax", "tmin", "prcp")), strict=False),
        ),
    )


@bp.get("")
def index() -> Response:
    """The list of endpoints, their parameters and what each accepts."""
    return json_response(
        {
            "endpoints": [
                {
                    "path": e.path,
                    "description": e.description,
                    "params": {k: p.accepts for k, p in e.params.items()},
                }
                for e in ENDPOINTS
            ]
        }
    )
