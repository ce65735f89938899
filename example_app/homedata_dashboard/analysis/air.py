"""Air quality (tVOC, ppb): warm-up readings dropped, the daily profile, multi-day elevations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY
from .daily import DailyStats, daily_stats


@dataclass(frozen=True)
class HourlyProfile:
    hour: NDArray[np.int64]  # 0..23
    median: NDArray[np.float64]
    p90: NDArray[np.float64]
    count: NDArray[np.int64]


@dataclass(frozen=True)
class Elevation:
    """Consecutive days whose median tVOC stayed above the threshold."""

    first_day: int
    last_day: int
    days: int
    peak_median: float


@dataclass(frozen=True)
class AirSummary:
    readings: int
    warm_up_dropped: int
    daily: DailyStats
    daily_median: NDArray[np.float64]
    profile: HourlyProfile
    threshold: float
    elevations: list[Elevation]


def hourly_profile(time: NDArray[np.int64], voc: NDArray[np.floating]) -> HourlyProfile:
    hours = (time % DAY) // 3600
    v = np.asarray(voc, dtype=np.float64)
    med, p90, count = np.full(24, np.nan), np.full(24, np.nan), np.zeros(24, np.int64)
    for h in range(24):
        sel = v[hours == h]
        count[h] = len(sel)
        if len(sel):
            med[h], p90[h] = np.percentile(sel, [50, 90])
    return HourlyProfile(np.arange(24, dtype=np.int64), med, p90, count)


def daily_medians(
    time: NDArray[np.int64], voc: NDArray[np.floating]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    day = time // DAY
    days, starts = np.unique(day, return_index=True)
    v = np.asarray(voc, dtype=np.float64)
    bounds = np.append(starts, len(v))
    med = np.array([np.median(v[a:b]) for a, b in itertools.pairwise(bounds)], dtype=np.float64)
    return days.astype(np.int64), med


def elevations(
    days: NDArray[np.int64], medians: NDArray[np.float64], threshold: float, min_days: int = 2
) -> list[Elevation]:
    """Runs of at least ``min_days`` consecutive calendar days with a median above ``threshold``."""
    out: list[Elevation] = []
    above = medians > threshold
    i = 0
    while i < len(days):
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(days) and above[j + 1] and days[j + 1] == days[j] + 1:
            j += 1
        if j - i + 1 >= min_days:
            out.append(
                Elevation(int(days[i]), int(days[j]), j - i + 1, float(medians[i : j + 1].max()))
            )
        i = j + 1
    return out


def air_quality(
    time: NDArray[np.int64],
    voc: NDArray[np.floating],
    warm_up: NDArray[np.bool_],
    threshold: float | None = None,
    min_days: int = 2,
) -> AirSummary:
    """Summarise tVOC readings (sorted by time) ignoring the sensor's warm-up readings.

    Without a threshold, a day counts as elevated when its median is above three times the
    median of all daily medians (and at least 100 ppb): an ordinary evening of cooking does not
    move a day's median, a painted room does for days.
    """
    ok = ~warm_up & ~np.isnan(np.asarray(voc, dtype=np.float64))
    t, v = time[ok], np.asarray(voc, dtype=np.float64)[ok]
    days, med = daily_medians(t, v)
    if threshold is None:
        threshold = max(100.0, 3.0 * float(np.median(med))) if len(med) else 100.0
    return AirSummary(
        readings=int(ok.sum()),
        warm_up_dropped=int(warm_up.sum()),
        daily=daily_stats(t, v),
        daily_median=med,
        profile=hourly_profile(t, v),
        threshold=float(threshold),
        elevations=elevations(days, med, float(threshold), min_days),
    )
