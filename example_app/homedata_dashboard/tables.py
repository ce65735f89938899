"""The homedata tables as compact column arrays, loaded once per worker.

Times are ``int64`` seconds of the house's local wall clock (the exports carry naive
``YYYY-MM-DD HH:MM:SS`` strings written in Minneapolis), stored as if they were UTC so that day,
hour and weekday arithmetic is plain integer division. Temperatures are degrees Fahrenheit,
humidity %RH, tVOC ppb; a measure the sensor does not have is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

Int64s = NDArray[np.int64]
Floats = NDArray[np.float64]
Float32s = NDArray[np.float32]
Ints = NDArray[np.int16]
Bools = NDArray[np.bool_]

MEASURES = ("temperature", "humidity")
UNITS = {"temperature": "°F", "humidity": "%RH", "voc": "ppb"}


@dataclass(frozen=True)
class RoomReadings:
    """One room's readings from ``room_temp``, sorted by time."""

    time: Int64s
    temperature: Float32s
    humidity: Float32s

    def measure(self, name: str) -> Float32s:
        return self.temperature if name == "temperature" else self.humidity

    def has(self, name: str) -> bool:
        """Whether the sensor records this measure at all (the attic's has no humidity)."""
        return name in self.recorded

    @cached_property
    def recorded(self) -> frozenset[str]:
        """The measures with at least one reading, scanned once: every series request asks, and
        a scan of a room's whole column per request was 40 % of a zoom request's time at ten
        times the sample."""
        return frozenset(
            m
            for m in MEASURES
            if len(self.measure(m)) and not bool(np.isnan(self.measure(m)).all())
        )


@dataclass(frozen=True)
class AirQuality:
    time: Int64s
    room: Ints
    voc: Float32s
    warm_up: Bools


@dataclass(frozen=True)
class DoorEvents:
    """``door_status``: status 1 means the door opened, 0 that it closed."""

    time: Int64s
    door: Ints
    status: NDArray[np.int8]


@dataclass(frozen=True)
class Workouts:
    """Google Fit segments; ``type_id`` -2 rows are a day's total step count, not an activity."""

    start: Int64s
    duration_s: Floats
    steps: NDArray[np.int32]
    type_id: Ints
    user: Ints


@dataclass(frozen=True)
class Weather:
    """NOAA GHCN-Daily for MSP: one row per day (``day`` counts days since 1970-01-01), deg F."""

    day: Int64s
    tavg: Float32s
    tmax: Float32s
    tmin: Float32s
    prcp: Float32s


@dataclass(frozen=True)
class TableSource:
    """Where one table came from, for the UI's data panel and ``/api/sources``."""

    table: str
    origin: str  # "real", "sample" or "missing"
    file: str | None  # the file's name only: never a full path in responses
    rows: int
    note: str = ""


@dataclass(frozen=True)
class Dataset:
    """Everything the dashboard shows, immutable after boot."""

    rooms: dict[int, RoomReadings]
    room_names: dict[int, str]
    room_locations: dict[int, str]
    air: AirQuality
    doors: DoorEvents
    door_names: dict[int, str]
    workouts: Workouts
    workout_types: dict[int, str]
    users: dict[int, str]
    weather: Weather
    sources: list[TableSource] = field(default_factory=list)

    @property
    def uses_sample(self) -> bool:
        return any(s.origin == "sample" for s in self.sources)

    def sample_tables(self) -> list[str]:
        return [s.table for s in self.sources if s.origin == "sample"]
