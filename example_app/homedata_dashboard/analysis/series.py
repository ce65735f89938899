"""Time series for display: a window, then min/max per bucket when there are too many points.

Min/max decimation keeps every peak and trough a line chart would show at that width (unlike
averaging, which flattens the 1,000-degree readings and the damaged sensor's swings), and the
points stay real readings. Buckets are equal slices of time, so outages stay visible as empty
stretches; when the window holds no more than ``max_points`` readings they are all returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class DisplaySeries:
    time: NDArray[np.int64]
    value: NDArray[np.float64]
    resolution: str  # "full" or "minmax"
    raw_points: int  # readings in the window before decimation
    bucket_seconds: int  # 0 at full resolution
    breaks: NDArray[np.int64]  # indices i where a gap lies between point i-1 and i


def window(time: NDArray[np.int64], start: int | None, end: int | None) -> tuple[int, int]:
    """Index range [lo, hi) of readings with start <= time < end (None: open-ended)."""
    lo = 0 if start is None else int(np.searchsorted(time, start, side="left"))
    hi = len(time) if end is None else int(np.searchsorted(time, end, side="left"))
    return lo, max(lo, hi)


def minmax_downsample(
    time: NDArray[np.int64], value: NDArray[np.floating], buckets: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], int]:
    """Keep each time bucket's lowest and highest reading, in time order.

    Returns the kept times, values and the bucket width in seconds. Empty buckets emit nothing.
    """
    n = len(time)
    if n == 0 or buckets <= 0:
        return time[:0].astype(np.int64), np.asarray(value[:0], dtype=np.float64), 0
    t0, t1 = int(time[0]), int(time[-1])
    width = max(1, -(-(t1 - t0 + 1) // buckets))
    bucket = (time - t0) // width
    starts = np.flatnonzero(np.concatenate([[True], bucket[1:] != bucket[:-1]]))
    v = np.asarray(value, dtype=np.float64)
    ids = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    lows = np.minimum.reduceat(v, starts)
    highs = np.maximum.reduceat(v, starts)
    first_low = _first_match(v == lows[ids], ids, len(starts))
    first_high = _first_match(v == highs[ids], ids, len(starts))
    picks = np.unique(np.concatenate([first_low, first_high]))
    return time[picks].astype(np.int64), v[picks], width


def _first_match(
    matches: NDArray[np.bool_], ids: NDArray[np.int64], count: int
) -> NDArray[np.int64]:
    """For each bucket id, the first index whose flag is set (every bucket has one)."""
    idx = np.flatnonzero(matches)
    _, first = np.unique(ids[idx], return_index=True)
    out = idx[first]
    assert len(out) == count
    return out


def gap_breaks(time: NDArray[np.int64], gap_seconds: int) -> NDArray[np.int64]:
    """Indices i where time[i] - time[i-1] exceeds ``gap_seconds``."""
    if len(time) < 2:
        return np.array([], dtype=np.int64)
    return (np.flatnonzero(np.diff(time) > gap_seconds) + 1).astype(np.int64)


def display_series(
    time: NDArray[np.int64],
    value: NDArray[np.floating],
    start: int | None = None,
    end: int | None = None,
    max_points: int = 2000,
    gap_seconds: int = 1800,
) -> DisplaySeries:
    """The readings in [start, end), decimated to at most about ``max_points`` points.

    NaN values (a reading removed by cleaning, or a measure the sensor missed) are skipped.
    """
    lo, hi = window(time, start, end)
    t, v = time[lo:hi], np.asarray(value[lo:hi], dtype=np.float64)
    present = ~np.isnan(v)
    if not present.all():
        t, v = t[present], v[present]
    raw = len(t)
    if raw <= max_points:
        return DisplaySeries(t.astype(np.int64), v, "full", raw, 0, gap_breaks(t, gap_seconds))
    dt, dv, width = minmax_downsample(t, v, max(1, max_points // 2))
    # A bucket with no readings is a gap, as is a real outage longer than two buckets.
    return DisplaySeries(dt, dv, "minmax", raw, width, gap_breaks(dt, max(gap_seconds, 2 * width)))
