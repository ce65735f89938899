"""Sensor health per room: coverage, drop-outs, spikes, oscillation and outages, week by week."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY
from .cleaning import MISSING, OSCILLATION, OUT_OF_RANGE, SPIKE, ZERO, CleanResult

WEEK = 7 * DAY
ISSUES = {
    "zero_dropout": ZERO,
    "out_of_range": OUT_OF_RANGE,
    "spike": SPIKE,
    "oscillation": OSCILLATION,
}


@dataclass(frozen=True)
class SensorHealth:
    readings: int
    expected: int  # readings the span would hold at the logging interval
    coverage: float  # readings / expected
    issues: dict[str, int]
    oscillating_days: NDArray[np.int64]  # days with oscillation flagged
    gap_count: int
    longest_gaps: list[tuple[int, int]]  # (last reading before, first after), longest first
    week_start: NDArray[np.int64]  # Monday-aligned week starts (seconds)
    weekly: dict[str, NDArray[np.int64]]  # issue -> count per week


def sensor_health(
    time: NDArray[np.int64], result: CleanResult, interval: int = 600, top_gaps: int = 5
) -> SensorHealth:
    present = result.reason != MISSING  # readings that carry a value
    t = time[present]
    reason = result.reason[present]
    n = len(t)
    expected = int((t[-1] - t[0]) // interval + 1) if n else 0
    # Weeks start on Monday: day 4 (1970-01-05) was one.
    week = ((t // DAY) - 4) // 7 if n else np.array([], np.int64)
    first = int(week.min()) if n else 0
    weeks = int(week.max()) - first + 1 if n else 0
    weekly = {
        name: np.bincount(week[reason == code] - first, minlength=weeks).astype(np.int64)
        for name, code in ISSUES.items()
    }
    gaps = result.gaps
    order = np.argsort(-gaps.seconds, kind="stable")[:top_gaps]
    return SensorHealth(
        readings=n,
        expected=expected,
        coverage=n / expected if expected else 0.0,
        issues={name: int((reason == code).sum()) for name, code in ISSUES.items()},
        oscillating_days=np.unique(t[reason == OSCILLATION] // DAY).astype(np.int64),
        gap_count=len(gaps.before),
        longest_gaps=[(int(gaps.before[i]), int(gaps.after[i])) for i in order.tolist()],
        week_start=((np.arange(weeks) + first) * 7 + 4) * DAY,
        weekly=weekly,
    )
