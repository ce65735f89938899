"""The data a worker serves: the loaded tables plus what is worth computing once at boot.

Cleaning every room's series takes a fraction of a second, so it happens here, once, with the
configured rules; requests then slice and decimate the cleaned arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .analysis.cleaning import DEFAULT_RULES, CleanResult, MeasureRules, clean
from .analysis.daily import DailyStats, daily_stats
from .tables import MEASURES, Dataset

# One colour per room on every chart (rooms in id order). Doors and activity types draw from
# other palettes (see dashboard.js) so that a colour always means the same room.
ROOM_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")

# The tables each chart is drawn from: a chart whose table is sample data says so in its title.
CHART_TABLES: dict[str, tuple[str, ...]] = {
    "temperature": ("room_temp",),
    "humidity": ("room_temp",),
    "daily": ("room_temp",),
    "outdoor": ("room_temp", "weather"),
    "doors-heatmap": ("door_status",),
    "doors-longest": ("door_status",),
    "air-profile": ("air_quality",),
    "air-daily": ("air_quality",),
    "health": ("room_temp",),
    "cleaning": ("room_temp",),
    "workouts": ("workout",),
}


@dataclass(frozen=True)
class CleanSeries:
    """One measure of one room after cleaning, on the room's own time axis, plus the verdicts.

    ``time`` is the room's raw time array itself (shared, not copied) and ``value`` is NaN
    wherever a reading was removed or missing: one more float32 column per measure instead of a
    copy of the kept times and values (at ten times the sample, 45 MB less per worker).
    """

    time: NDArray[np.int64]
    value: NDArray[np.float32]
    result: CleanResult
    daily: DailyStats


@dataclass
class Store:
    data: Dataset
    rules: dict[str, MeasureRules]
    gap_seconds: int = 1800
    series: dict[tuple[int, str], CleanSeries] = field(default_factory=dict)

    def room_ids(self, measure: str | None = None) -> list[int]:
        """Rooms with readings (of ``measure`` when given), in id order."""
        return sorted(
            r for r, readings in self.data.rooms.items() if measure is None or readings.has(measure)
        )

    def color(self, room_id: int) -> str:
        """The room's colour, the same in every chart and every response."""
        known = sorted(self.data.rooms)
        index = known.index(room_id) if room_id in known else room_id
        return ROOM_COLORS[index % len(ROOM_COLORS)]

    def sample_tables_of(self, chart: str) -> list[str]:
        """Which of the chart's tables are the bundled sample (empty: all real)."""
        sample = set(self.data.sample_tables())
        return [t for t in CHART_TABLES[chart] if t in sample]

    def span(self) -> tuple[int, int] | None:
        """First and last reading over all rooms, in seconds."""
        firsts = [int(r.time[0]) for r in self.data.rooms.values() if len(r.time)]
        lasts = [int(r.time[-1]) for r in self.data.rooms.values() if len(r.time)]
        return (min(firsts), max(lasts)) if firsts else None


def build_store(
    data: Dataset, rules: dict[str, MeasureRules] | None = None, gap_seconds: int = 1800
) -> Store:
    """Clean every room's measures with ``rules`` and keep the results."""
    store = Store(data=data, rules=dict(rules or DEFAULT_RULES), gap_seconds=gap_seconds)
    for room_id, readings in data.rooms.items():
        readings.recorded  # noqa: B018  (scanned in the master, before gunicorn forks)
        for measure in MEASURES:
            if not readings.has(measure):
                continue
            result = clean(
                readings.time, readings.measure(measure), store.rules[measure], gap_seconds
            )
            keep = result.keep
            values = readings.measure(measure)
            cleaned = np.where(keep, values, np.float32(np.nan)).astype(np.float32, copy=False)
            store.series[(room_id, measure)] = CleanSeries(
                readings.time, cleaned, result, daily_stats(readings.time[keep], values[keep])
            )
    return store
