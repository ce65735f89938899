"""Door activity: when doors open (weekday x hour), how long they stay open, front versus back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekday(time: NDArray[np.int64]) -> NDArray[np.int64]:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return ((time // DAY) + 3) % 7


@dataclass(frozen=True)
class OpenSpans:
    """Each opening paired with the next close of the same door."""

    door: NDArray[np.int16]
    opened: NDArray[np.int64]
    seconds: NDArray[np.int64]  # -1 when no close followed (a missed event)


@dataclass(frozen=True)
class DoorSummary:
    door: int
    openings: int
    days: int  # days with door events
    per_day: float
    median_seconds: float | None
    unclosed: int


@dataclass(frozen=True)
class DoorActivity:
    heatmap: NDArray[np.int64]  # 7 x 24 openings, weekday (Mon first) by hour
    spans: OpenSpans
    longest: NDArray[np.int64]  # indices into spans, longest first
    summaries: list[DoorSummary]


def open_spans(
    time: NDArray[np.int64], door: NDArray[np.integer], status: NDArray[np.integer]
) -> OpenSpans:
    """Pair every open (status 1) with the same door's next event if that is a close (0).

    An open followed by another open, or by nothing, has no known duration (-1): the sensor
    missed the close and we do not guess one.
    """
    doors, opened, seconds = [], [], []
    for d in np.unique(door).tolist():
        sel = np.flatnonzero(door == d)
        t, s = time[sel], status[sel]
        opens = np.flatnonzero(s == 1)
        nxt = opens + 1
        has_next = nxt < len(s)
        closes = np.zeros(len(opens), dtype=bool)
        closes[has_next] = s[nxt[has_next]] == 0
        dur = np.full(len(opens), -1, dtype=np.int64)
        dur[closes] = t[nxt[closes]] - t[opens[closes]]
        doors.append(np.full(len(opens), d, dtype=np.int16))
        opened.append(t[opens])
        seconds.append(dur)
    if not doors:
        return OpenSpans(np.array([], np.int16), np.array([], np.int64), np.array([], np.int64))
    d_all, o_all, s_all = np.concatenate(doors), np.concatenate(opened), np.concatenate(seconds)
    order = np.argsort(o_all, kind="stable")
    return OpenSpans(d_all[order], o_all[order].astype(np.int64), s_all[order])


def weekday_hour(opened: NDArray[np.int64]) -> NDArray[np.int64]:
    """Counts of openings by weekday (rows, Monday first) and hour of day (columns)."""
    cells = weekday(opened) * 24 + (opened % DAY) // 3600
    return np.bincount(cells, minlength=7 * 24).reshape(7, 24).astype(np.int64)


def door_activity(
    time: NDArray[np.int64],
    door: NDArray[np.integer],
    status: NDArray[np.integer],
    top: int = 10,
) -> DoorActivity:
    spans = open_spans(time, door, status)
    known = np.flatnonzero(spans.seconds >= 0)
    longest = known[np.argsort(-spans.seconds[known], kind="stable")][:top]
    summaries = []
    for d in np.unique(door).tolist():
        mine = spans.door == d
        days = len(np.unique(time[door == d] // DAY))
        secs = spans.seconds[mine & (spans.seconds >= 0)]
        count = int(mine.sum())
        summaries.append(
            DoorSummary(
                door=int(d),
                openings=count,
                days=days,
                per_day=count / days if days else 0.0,
                median_seconds=float(np.median(secs)) if len(secs) else None,
                unclosed=int((mine & (spans.seconds < 0)).sum()),
            )
        )
    return DoorActivity(weekday_hour(spans.opened), spans, longest.astype(np.int64), summaries)
