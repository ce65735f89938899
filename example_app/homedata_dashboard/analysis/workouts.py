"""Workouts (Google Fit): steps and active minutes per day and activity type.

Type -2 rows carry a person's step total for the day (at 00:01, zero duration), not an
activity; a day's steps come from that total when there is one, else from the activity rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY

DAILY_TOTAL_TYPE = -2


@dataclass(frozen=True)
class WorkoutSummary:
    day: NDArray[np.int64]  # every day from the first to the last record
    steps: NDArray[np.int64]  # per day
    steps_source: NDArray[np.bool_]  # True where the day's total record was used
    type_ids: list[int]  # activity types present, most minutes first
    minutes: NDArray[np.float64]  # len(type_ids) x len(day)
    type_steps: NDArray[np.int64]  # len(type_ids) x len(day)
    type_totals: dict[int, float]  # minutes per type over the whole period


def workout_summary(
    start: NDArray[np.int64],
    duration_s: NDArray[np.floating],
    steps: NDArray[np.integer],
    type_id: NDArray[np.integer],
    exclude_types: tuple[int, ...] = (),
) -> WorkoutSummary:
    """Per-day totals for the given rows (filter by user before calling)."""
    if len(start) == 0:
        empty_i = np.array([], np.int64)
        return WorkoutSummary(
            empty_i,
            empty_i,
            np.array([], bool),
            [],
            np.zeros((0, 0)),
            np.zeros((0, 0), np.int64),
            {},
        )
    day = start // DAY
    d0 = int(day.min())
    ndays = int(day.max()) - d0 + 1
    col = day - d0
    totals = type_id == DAILY_TOTAL_TYPE
    activity = ~totals & ~np.isin(type_id, exclude_types)
    step_vals = np.asarray(steps, dtype=np.int64)
    from_activity = np.bincount(col[~totals], weights=step_vals[~totals], minlength=ndays)
    from_total = np.bincount(col[totals], weights=step_vals[totals], minlength=ndays)
    has_total = np.bincount(col[totals], minlength=ndays) > 0
    daily_steps = np.where(has_total, from_total, from_activity).astype(np.int64)

    kinds = np.unique(type_id[activity])
    minutes = np.zeros((len(kinds), ndays))
    type_steps = np.zeros((len(kinds), ndays), dtype=np.int64)
    dur = np.asarray(duration_s, dtype=np.float64) / 60.0
    for i, k in enumerate(kinds.tolist()):
        sel = activity & (type_id == k)
        minutes[i] = np.bincount(col[sel], weights=dur[sel], minlength=ndays)
        type_steps[i] = np.bincount(col[sel], weights=step_vals[sel], minlength=ndays).astype(
            np.int64
        )
    order = np.argsort(-minutes.sum(axis=1), kind="stable")
    kinds, minutes, type_steps = kinds[order], minutes[order], type_steps[order]
    return WorkoutSummary(
        day=np.arange(d0, d0 + ndays, dtype=np.int64),
        steps=daily_steps,
        steps_source=has_total,
        type_ids=[int(k) for k in kinds.tolist()],
        minutes=minutes,
        type_steps=type_steps,
        type_totals=dict(zip(kinds.tolist(), minutes.sum(axis=1).tolist(), strict=True)),
    )
