"""Daily low, mean and high of one measure in one room."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY


@dataclass(frozen=True)
class DailyStats:
    day: NDArray[np.int64]  # days since 1970-01-01
    low: NDArray[np.float64]
    mean: NDArray[np.float64]
    high: NDArray[np.float64]
    count: NDArray[np.int64]  # readings that day (144 for a full day at 10 minutes)


def daily_stats(time: NDArray[np.int64], value: NDArray[np.floating]) -> DailyStats:
    """Group cleaned readings (sorted by time, no NaN) by calendar day."""
    v = np.asarray(value, dtype=np.float64)
    if len(time) == 0:
        empty = np.array([], dtype=np.float64)
        return DailyStats(np.array([], np.int64), empty, empty, empty, np.array([], np.int64))
    day = time // DAY
    starts = np.flatnonzero(np.concatenate([[True], day[1:] != day[:-1]]))
    count = np.diff(np.append(starts, len(v)))
    return DailyStats(
        day=day[starts].astype(np.int64),
        low=np.minimum.reduceat(v, starts),
        mean=np.add.reduceat(v, starts) / count,
        high=np.maximum.reduceat(v, starts),
        count=count.astype(np.int64),
    )
