"""Workouts (Google Fit): steps and active minutes per day and activity type.

Type -2 rows carry a person's step total for the day (at 00:01, zero duration), not an
activity; a day's steps come from that total when there is one, else from the activity rows.

Type names come from the export's ``workout_type`` table. Google Fit's activity segments also
cover time that is not exercise (sitting still, riding in a car, an unrecognised motion); those
are named but never counted as active minutes. The real export's table lacks a few ids its
segments use (40, 87), so :data:`GOOGLE_FIT_TYPES` names the ones seen, from Google Fit's
published list of activity-type constants (developers.google.com/fit, "Activity types").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import DAY

DAILY_TOTAL_TYPE = -2

# Google Fit activity-type constants for ids a ``workout_type`` table may lack.
GOOGLE_FIT_TYPES: dict[int, str] = {
    0: "IN_VEHICLE",
    1: "BIKING",
    2: "ON_FOOT",
    3: "STILL",
    4: "UNKNOWN",
    5: "TILTING",
    7: "WALKING",
    8: "RUNNING",
    9: "AEROBICS",
    31: "GARDENING",
    32: "GOLF",
    35: "HIKING",
    40: "KAYAKING",
    72: "SLEEPING",
    82: "SWIMMING",
    87: "TENNIS",
    117: "ELEVATOR",
    118: "ESCALATOR",
}
# Segments that are not exercise, by normalised name (the real table spells UNKNOWN "UNKOWN").
NOT_EXERCISE = frozenset(
    {"IN_VEHICLE", "STILL", "UNKNOWN", "UNKOWN", "TILTING", "ELEVATOR", "ESCALATOR"}
)


def normalise_type(name: str) -> str:
    """``"In vehicle"``, ``"in-vehicle"`` and ``"IN_VEHICLE"`` all become ``IN_VEHICLE``."""
    return "_".join("".join(c if c.isalnum() else " " for c in name.upper()).split())


def type_name(type_id: int, table: dict[int, str]) -> str:
    """The ``workout_type`` table's name, else Google Fit's, else ``type N``."""
    return table.get(type_id) or GOOGLE_FIT_TYPES.get(type_id) or f"type {type_id}"


def is_exercise(type_id: int, table: dict[int, str]) -> bool:
    """False for the daily step total and for non-exercise segments (vehicle, still, ...)."""
    if type_id == DAILY_TOTAL_TYPE:
        return False
    name = normalise_type(type_name(type_id, table))
    return name not in NOT_EXERCISE and not name.startswith("SLEEP") and "SLEEP" not in name


def label(name: str) -> str:
    """``IN_VEHICLE`` -> ``in vehicle`` for charts; a name already in words is kept."""
    return name.replace("_", " ").lower() if name.isupper() or "_" in name else name


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
