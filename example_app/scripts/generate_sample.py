"""Write the bundled sample of the homedata exports into ``sample_data/`` (deterministic).

The real LinkNLearn/homedata exports are not redistributed with the app, and the temperature
table (``room_temp.json``) is not published at all, so the dashboard ships a synthetic house in
the same file formats. The numbers follow a Minneapolis year (cold winters, humid summers) and
carry the flaws the real sensors had, so the cleaning and sensor-health analyses have something
to find:

* readings over 1,000 degrees (the HTU21D's garbage values) and humidity above 100 %,
* zero drop-outs (temperature and humidity both exactly 0),
* single-reading spikes that stay inside the plausible range,
* gaps of hours to days (power and Wi-Fi outages),
* the basement sensor oscillating from reading to reading after it was damaged.

Coverage mirrors the dataset notes: 2.5 years for the second floor (room 0), 19 months for the
first floor (room 1), 9 months for the attic knee wall (room 3, temperature only) and the
basement (room 6); 9 months of tVOC with a multi-day painting event; 4 months of door events;
13 months of Google Fit workouts for two people; NOAA daily weather for MSP.

Run ``python scripts/generate_sample.py`` from the app folder; the same seed always writes the
same bytes (gzip headers carry no timestamp). ``--scale 10 --out DIR`` writes years of data
instead: every room's readings and the weather reach ten times as far back (2.8 million
readings, 25 years), for trying the streaming loader and the API at that size; the tables are
written row by row, so even that never sits in memory as one string.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, cast

import numpy as np

SEED = 20181224
STEP = 600  # seconds between readings (10 minutes)
DAY = 86400
END = np.datetime64("2018-09-23T19:10:00", "s")

# room id -> (first day, has humidity)
ROOM_SPANS: dict[int, tuple[str, bool]] = {
    0: ("2016-03-23", True),  # second floor bedroom: 2.5 years
    1: ("2017-02-20", True),  # first floor: 19 months
    3: ("2018-01-01", False),  # attic knee wall: temperature only (DS18B20)
    6: ("2018-01-01", True),  # basement: 9 months
}
DAMAGE_DAY = "2018-08-19"  # the basement sensor oscillates from here on
WEATHER_SPAN = ("2016-03-01", "2018-12-10")


def epoch(day: str) -> int:
    return int(np.datetime64(day, "s").astype(np.int64))


def seasonal_outdoor(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Daily mean outdoor temperature (deg F) for MSP: a seasonal cycle plus persistent weather."""
    doy = (days - epoch("2016-01-01") // DAY) % 365.25
    base = 46.0 + 31.0 * np.sin(2 * np.pi * (doy - 112.0) / 365.25)
    noise = np.zeros(len(days))
    shocks = rng.normal(0.0, 5.5, len(days))
    for i in range(1, len(days)):
        noise[i] = 0.72 * noise[i - 1] + shocks[i]
    return base + noise


def outdoor_at(times: np.ndarray, day0: int, daily: np.ndarray) -> np.ndarray:
    """Outdoor temperature at each time: daily means interpolated, plus a diurnal swing."""
    day_pos = (times - day0) / DAY - 0.5
    mean = np.interp(day_pos, np.arange(len(daily)), daily)
    hour = (times % DAY) / 3600.0
    return mean + 9.0 * np.sin(2 * np.pi * (hour - 9.0) / 24.0)


def room_readings(
    room: int,
    first_day: str,
    humid: bool,
    out_day0: int,
    out_daily: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, temperatures (deg F) and humidities (%RH, NaN when absent) for one room, flawed."""
    start = epoch(first_day) + int(rng.integers(0, 6)) * STEP
    times = np.arange(start, int(END.astype(np.int64)) + 1, STEP, dtype=np.int64)
    outdoor = outdoor_at(times, out_day0, out_daily)
    hour = (times % DAY) / 3600.0
    doy = ((times // DAY) - epoch("2016-01-01") // DAY) % 365.25
    summer = 0.5 + 0.5 * np.sin(2 * np.pi * (doy - 112.0) / 365.25)  # 0 in January, 1 in July
    # A slow-moving outdoor (the house lags the weather by about half a day).
    kernel = np.ones(72) / 72
    slow_out = np.convolve(np.pad(outdoor, (71, 0), mode="edge"), kernel, mode="valid")

    if room == 3:  # attic knee wall: follows outdoors, warmed by the sun on the roof
        sun = np.clip(np.sin(2 * np.pi * (hour - 7.0) / 24.0), 0, None) * (6 + 14 * summer)
        temp = 0.6 * outdoor + 0.4 * slow_out + 7.0 + sun
    elif room == 6:  # basement: damp and steady
        temp = 61.0 + 0.06 * (slow_out - 45.0) + 0.4 * np.sin(2 * np.pi * (hour - 15) / 24)
    else:
        setpoint = np.where((hour >= 22.5) | (hour < 6.0), 64.0, 68.0)
        heated = setpoint + 0.05 * (slow_out - setpoint)
        free = 66.0 + 0.42 * (slow_out - 60.0) + 1.5 * np.sin(2 * np.pi * (hour - 11) / 24)
        temp = np.where(slow_out < 58.0, heated, np.maximum(heated, free))
        if room == 1:
            temp = temp - 1.3
    temp = temp + rng.normal(0.0, 0.25 if room != 1 else 0.45, len(times))

    if humid:
        hum = 26.0 + 30.0 * summer + 3.0 * np.sin(2 * np.pi * (hour - 5) / 24)
        if room == 6:
            hum = hum + 12.0
        hum = np.clip(hum + rng.normal(0.0, 1.2, len(times)), 8.0, 95.0)
    else:
        hum = np.full(len(times), np.nan)

    # Gaps: outages of two hours to nine days.
    keep = np.ones(len(times), dtype=bool)
    for _ in range(3 + len(times) // 30000):
        at = int(rng.integers(0, len(times) - 2000))
        length = int(rng.choice([12, 36, 144, 430, 1300]))
        keep[at : at + length] = False

    if room == 6:  # damaged sensor: alternating readings with a growing swing
        damaged = times >= epoch(DAMAGE_DAY)
        count = int(damaged.sum())
        swing = np.linspace(3.0, 11.0, count) * rng.uniform(0.6, 1.0, count)
        sign = np.where(np.arange(count) % 2 == 0, 1.0, -1.0)
        temp[damaged] += sign * swing
        hum[damaged] += -sign * swing * 1.6

    n = len(times)
    temp = np.round(temp, 1)
    hum = np.round(hum, 1)
    # Readings over 1,000 degrees (and impossible humidity) from a confused sensor.
    garbage = rng.choice(n, size=max(3, n // 4000), replace=False)
    temp[garbage] = np.round(rng.uniform(1000.0, 2300.0, len(garbage)), 1)
    if humid:
        hum[garbage[::2]] = np.round(rng.uniform(100.5, 125.0, len(garbage[::2])), 1)
    # Zero drop-outs: both measures read exactly 0.
    zeros = rng.choice(n, size=max(3, n // 1500), replace=False)
    temp[zeros] = 0.0
    if humid:
        hum[zeros] = 0.0
    # Spikes that stay in range.
    spikes = rng.choice(n, size=max(3, n // 3000), replace=False)
    temp[spikes] = np.round(
        temp[spikes] + rng.choice([-1, 1], len(spikes)) * rng.uniform(18, 35, len(spikes)), 1
    )

    jitter = rng.integers(0, 5, n)  # the logger wrote a few seconds after each 10-minute tick
    return (times + jitter)[keep], temp[keep], hum[keep]


def fmt_times(times: np.ndarray) -> list[str]:
    return [s.replace("T", " ") for s in np.datetime_as_string(times.astype("datetime64[s]"))]


def write_json_rows(path: Path, rows: Iterable[str], compress: bool) -> None:
    """Write one object per line inside a JSON array, like the published exports (streamed)."""
    with path.open("wb") as fh:
        out: IO[bytes] = fh
        if compress:
            out = cast(
                IO[bytes],
                gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=9, mtime=0),
            )
        try:
            out.write(b"[")
            batch: list[str] = []
            first = True
            for row in rows:
                batch.append(row)
                if len(batch) == 10_000:
                    out.write(((",\n " if not first else "") + ",\n ".join(batch)).encode())
                    batch, first = [], False
            if batch:
                out.write(((",\n " if not first else "") + ",\n ".join(batch)).encode())
            out.write(b"]\n")
        finally:
            if out is not fh:
                out.close()


def number(value: float) -> str:
    return "null" if np.isnan(value) else repr(float(value))


def scaled_day(day: str, scale: int) -> str:
    """The day ``scale`` times as far before the sample's end as ``day`` is."""
    if scale == 1:
        return day
    end_day = END.astype("datetime64[D]")
    return str(end_day - (end_day - np.datetime64(day, "D")) * scale)


def make_room_temp(
    out: Path, rng: np.random.Generator, out_day0: int, out_daily: np.ndarray, scale: int = 1
) -> None:
    parts = []
    for room, (first_day, humid) in ROOM_SPANS.items():
        first_day = scaled_day(first_day, scale)
        times, temp, hum = room_readings(room, first_day, humid, out_day0, out_daily, rng)
        parts.append((times, np.full(len(times), room), temp, hum))
    times = np.concatenate([p[0] for p in parts])
    rooms = np.concatenate([p[1] for p in parts])
    temps = np.concatenate([p[2] for p in parts])
    hums = np.concatenate([p[3] for p in parts])
    order = np.lexsort((rooms, times))
    stamps = fmt_times(times[order])
    rows = (
        f'{{"id":{i + 1}, "humidity":{number(h)}, "temperature":{number(t)}, '
        f'"room_id":{int(r)}, "date_time":"{s}"}}'
        for i, (h, t, r, s) in enumerate(
            zip(
                hums[order].tolist(),
                temps[order].tolist(),
                rooms[order].tolist(),
                stamps,
                strict=True,
            )
        )
    )
    write_json_rows(out / "room_temp.json.gz", rows, compress=True)


def make_air_quality(out: Path, rng: np.random.Generator) -> None:
    """tVOC (ppb) in the first floor: cooking in the evening, a painting weekend, warm-ups."""
    times = np.arange(epoch("2018-01-01") + 72000, int(END.astype(np.int64)), STEP, dtype=np.int64)
    hour = (times % DAY) / 3600.0
    profile = (
        30 + 22 * np.exp(-(((hour - 20.0) / 1.8) ** 2)) + 12 * np.exp(-(((hour - 7.5) / 1.2) ** 2))
    )
    voc = profile * rng.lognormal(0.0, 0.45, len(times))
    cooking = rng.random(len(times)) < 0.01
    voc[cooking] += rng.uniform(150, 600, int(cooking.sum()))
    for first, days, peak in (
        ("2018-05-16", 2, 230.0),
        ("2018-07-28", 3, 520.0),
    ):  # floors, painting
        t0 = epoch(first) + 9 * 3600
        inside = (times >= t0) & (times < t0 + days * DAY)
        decay = np.exp(-(times[inside] - t0) / (days * DAY * 0.8))
        voc[inside] += peak * decay * rng.uniform(0.7, 1.2, int(inside.sum()))
    keep = np.ones(len(times), dtype=bool)
    warm = np.zeros(len(times), dtype=int)
    for _ in range(6):  # restarts: a gap, then a few readings flagged as warm-up
        at = int(rng.integers(0, len(times) - 200))
        length = int(rng.choice([3, 20, 150]))
        keep[at : at + length] = False
        warm[at + length : at + length + 3] = 1
        voc[at + length : at + length + 3] = [0.0, 0.0, 34.0]
    voc = np.round(voc)
    times = times[keep] + rng.integers(0, 4, int(keep.sum()))
    stamps = fmt_times(times)
    rows = (
        f'{{"id":{i + 1}, "warm_up":{w}, "voc":{float(v)}, "room_id":1, "date_time":"{s}"}}'
        for i, (w, v, s) in enumerate(
            zip(warm[keep].tolist(), voc[keep].tolist(), stamps, strict=True)
        )
    )
    write_json_rows(out / "air_quality.json.gz", rows, compress=True)


def make_doors(out: Path, rng: np.random.Generator) -> None:
    """Front (0) and back (1) door: open (1) then closed (0), mostly seconds, sometimes propped."""
    rows: list[tuple[int, int, int]] = []
    first = epoch("2018-05-12") + 71711
    rows += [(first, 0, 0), (first, 1, 0)]
    day = epoch("2018-05-13")
    end = int(END.astype(np.int64))
    hours = np.arange(24)
    weekday_w = (
        np.exp(-(((hours - 7.5) / 1.0) ** 2)) * 3 + np.exp(-(((hours - 18.5) / 2.5) ** 2)) * 4
    )
    weekend_w = np.exp(-(((hours - 14.0) / 4.0) ** 2)) * 4
    base = (hours >= 7) & (hours <= 22)
    while day < end - DAY:
        weekday = (day // DAY + 3) % 7
        weights = (weekend_w if weekday >= 5 else weekday_w) + base * 0.4 + 0.02
        weights = weights / weights.sum()
        for door, mean in ((0, 4.0), (1, 9.0)):
            count = int(rng.poisson(mean * (1.4 if weekday >= 5 else 1.0)))
            opened = (
                day + rng.choice(24, size=count, p=weights) * 3600 + rng.integers(0, 3600, count)
            )
            free_at = 0
            for at in np.sort(opened).tolist():
                if at <= free_at:  # still open from the last time
                    continue
                dur = rng.lognormal(2.3, 0.8)
                if rng.random() < 0.03:  # propped open while carrying things in, or airing out
                    dur = rng.uniform(300, 5400)
                rows.append((int(at), door, 1))
                free_at = int(at + max(2, dur))
                if rng.random() > 0.004:  # the sensor sometimes misses the close
                    rows.append((free_at, door, 0))
        day += DAY
    rows.sort(key=lambda r: r[0])
    stamps = fmt_times(np.array([r[0] for r in rows]))
    lines = (
        f'{{"id":{84 + i}, "door_id":{d}, "status":{st}, "date_time":"{s}"}}'
        for i, ((_, d, st), s) in enumerate(zip(rows, stamps, strict=False))
    )
    write_json_rows(out / "door_status.json.gz", lines, compress=True)


def make_workouts(out: Path, rng: np.random.Generator) -> None:
    """Google Fit segments for two people, plus user 1's daily step total (type -2)."""
    rows = []
    day = epoch("2017-09-01")
    end = epoch("2018-09-30")
    kinds = [(7, 0.55), (3, 0.3), (0, 0.1), (1, 0.04), (8, 0.01)]
    types = np.array([k for k, _ in kinds])
    probs = np.array([p for _, p in kinds])
    while day < end:
        for user, segments in ((1, 14), (2, 3)):
            total = 0
            at = day + 6 * 3600 + int(rng.integers(0, 7200))
            for _ in range(int(rng.poisson(segments))):
                kind = int(rng.choice(types, p=probs))
                minutes = {
                    7: rng.uniform(2, 16),
                    3: rng.uniform(20, 180),
                    0: rng.uniform(8, 50),
                }.get(kind, rng.uniform(20, 70))
                duration = int(minutes * 60000)
                steps = {
                    7: int(minutes * rng.uniform(85, 115)),
                    8: int(minutes * 160),
                    3: int(rng.integers(0, 60)),
                }.get(kind, 0)
                total += steps
                rows.append(
                    (at * 1000.0 + float(rng.integers(0, 1000)), duration, steps, kind, user)
                )
                at += duration // 1000 + int(rng.integers(60, 3600))
                if at > day + DAY - 600:
                    break
            if user == 1:
                rows.append(((day + 60) * 1000.0, 0, int(total * rng.uniform(1.0, 1.15)), -2, 1))
        day += DAY
    rows.sort(key=lambda r: r[0])
    stamps = fmt_times(np.array([int(r[0] // 1000) for r in rows]))
    lines = (
        f'{{"id":{float(i + 1)}, "duration":{d}, "start":{s}, "stepCount":{st}, '
        f'"workout_type_id":{k}, "start_datetime":"{stamp}", "user_id":{u}}}'
        for i, ((s, d, st, k, u), stamp) in enumerate(zip(rows, stamps, strict=False))
    )
    write_json_rows(out / "workout.json.gz", lines, compress=True)


def make_weather(out: Path, days: np.ndarray, daily: np.ndarray, rng: np.random.Generator) -> None:
    """NOAA GHCN-Daily CSV for the MSP airport station, the same columns as the published export."""
    header = ["STATION", "NAME", "LATITUDE", "LONGITUDE", "ELEVATION", "DATE"]
    columns = "AWND PGTM PRCP SNOW SNWD TAVG TMAX TMIN WDF2 WDF5 WSF2 WSF5"
    columns += " WT01 WT02 WT03 WT04 WT05 WT06 WT08 WT09"
    for col in columns.split():
        header += [col, f"{col}_ATTRIBUTES"]
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(header)
    station = [
        "USW00014922",
        "MINNEAPOLIS ST PAUL INTERNATIONAL AIRPORT, MN US",
        "44.8831",
        "-93.2289",
        "265.8",
    ]
    snow_depth = 0.0
    for day, tavg in zip(days.tolist(), daily.tolist(), strict=False):
        date = str(np.datetime64(day, "D"))
        swing = rng.uniform(12, 22)
        tmax, tmin = round(tavg + swing / 2), round(tavg - swing / 2)
        wet = rng.random() < 0.3
        prcp = round(float(rng.exponential(0.25)), 2) if wet else 0.0
        snow = round(prcp * 10, 1) if wet and tavg < 30 else 0.0
        snow_depth = max(0.0, snow_depth + snow - (0.4 if tavg > 30 else 0.05))
        values: dict[str, str] = {
            "AWND": f"{rng.uniform(4, 16):.2f}",
            "PRCP": f"{prcp:.2f}",
            "SNOW": f"{snow:.1f}",
            "SNWD": f"{round(snow_depth):.1f}",
            "TAVG": str(round(tavg)),
            "TMAX": str(tmax),
            "TMIN": str(tmin),
        }
        row = [*station, date]
        for col in header[6::2]:
            value = values.get(col, "")
            attrs = ("H,,S" if col == "TAVG" else ",,W") if value else ""
            row += [value, attrs]
        writer.writerow(row)
    # csv quotes every non-numeric field; NOAA leaves empty fields bare.
    text = buf.getvalue().replace(',""', ",")
    (out / "weather_msp_daily_sample.csv").write_text(text)


def make_lookups(out: Path) -> None:
    """The small tables, each in its export's format."""
    tables = {
        "room.json": [
            '{"id":0, "name":"Upstairs Bedroom", "location":"Second Floor"}',
            '{"id":1, "name":"Living Room", "location":"First Floor"}',
            '{"id":3, "name":"Attic Knee Wall", "location":"Second Floor"}',
            '{"id":6, "name":"Basement", "location":"Basement"}',
        ],
        "door.json": ['{"id":0, "name":"Front Door"}', '{"id":1, "name":"Back Door"}'],
        "user.json": ['{"id":1, "name":"resident a"}', '{"id":2, "name":"resident b"}'],
        "workout_type.json": [
            json.dumps({"id": i, "type": t}, separators=(", ", ":"))
            for i, t in (
                (0, "IN_VEHICLE"),
                (1, "BIKING"),
                (2, "ON_FOOT"),
                (3, "STILL"),
                (4, "UNKNOWN"),
                (7, "WALKING"),
                (8, "RUNNING"),
                (9, "AEROBICS"),
            )
        ],
    }
    for name, rows in tables.items():
        write_json_rows(out / name, rows, compress=False)


def generate(out: Path, seed: int = SEED, scale: int = 1) -> None:
    """Write every sample table into ``out``; ``scale`` > 1 reaches that many times further back."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    day0 = epoch(scaled_day(WEATHER_SPAN[0], scale)) // DAY
    days = np.arange(day0, epoch(WEATHER_SPAN[1]) // DAY + 1)
    daily = seasonal_outdoor(days, rng)
    make_lookups(out)
    make_weather(out, days, daily, rng)
    make_room_temp(out, rng, day0 * DAY, daily, scale)
    make_air_quality(out, rng)
    make_doors(out, rng)
    make_workouts(out, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    default = Path(__file__).resolve().parent.parent / "sample_data"
    parser.add_argument(
        "--out", type=Path, default=default, help=f"folder to write (default {default})"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="reach N times further back: 10 gives 2.8 million readings (default 1, the sample)",
    )
    args = parser.parse_args()
    if not 1 <= args.scale <= 50:
        parser.error("--scale: expected 1..50")
    generate(args.out, args.seed, args.scale)
    for path in sorted(args.out.iterdir()):
        print(f"{path.stat().st_size:>10,}  {path.name}")


if __name__ == "__main__":
    main()
