"""Cleaning rules for the room sensors, and a report of what they removed and why.

The rules, applied in this order to each reading of one measure of one room:

1. missing: no value at all (the attic's sensor has no humidity); not counted as removed.
2. zero drop-out: exactly 0 while the readings around it are far from 0 (the sensor lost power
   or the bus glitched; a real 0 deg F in the attic in January is kept).
3. out of range: outside the plausible range for the measure (the HTU21D's 1,000+ degree
   readings, humidity above 100 %).
4. oscillation: part of a run where the value zig-zags up and down by at least a step from one
   reading to the next (the basement sensor after it was damaged).
5. spike: farther than a threshold from the median of its neighbours.

Gaps (no reading for longer than ``gap_seconds``) remove nothing; they are reported so charts
break their lines instead of drawing across an outage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

KEPT, MISSING, ZERO, OUT_OF_RANGE, OSCILLATION, SPIKE = range(6)
REASONS = {
    KEPT: "kept",
    MISSING: "missing",
    ZERO: "zero_dropout",
    OUT_OF_RANGE: "out_of_range",
    OSCILLATION: "oscillation",
    SPIKE: "spike",
}
REMOVAL_REASONS = ("zero_dropout", "out_of_range", "oscillation", "spike")


@dataclass(frozen=True)
class MeasureRules:
    """Thresholds for one measure, in its unit."""

    low: float
    high: float
    spike: float  # largest plausible distance from the median of the neighbours
    zero_tolerance: float  # a 0 is a drop-out when its neighbours' median is farther from 0
    oscillation_step: float  # smallest up/down step that counts towards oscillation
    neighbours: int = 3  # readings on each side for the local median
    oscillation_window: int = 36  # readings (6 hours at 10 minutes)
    oscillation_share: float = 0.5  # share of zig-zag steps in the window that flags it


DEFAULT_RULES: dict[str, MeasureRules] = {
    # Deg F: the attic reaches -20 in a Minneapolis January and 130 under a July roof.
    "temperature": MeasureRules(
        low=-40.0, high=140.0, spike=12.0, zero_tolerance=10.0, oscillation_step=2.5
    ),
    "humidity": MeasureRules(
        low=0.0, high=100.0, spike=20.0, zero_tolerance=5.0, oscillation_step=3.0
    ),
}


@dataclass(frozen=True)
class Gaps:
    """Outages: the last reading before and the first after each, and the length in seconds."""

    before: NDArray[np.int64]
    after: NDArray[np.int64]

    @property
    def seconds(self) -> NDArray[np.int64]:
        return self.after - self.before


@dataclass(frozen=True)
class CleanResult:
    """Per-reading verdicts (codes from ``REASONS``) and their counts."""

    reason: NDArray[np.int8]
    counts: dict[str, int] = field(default_factory=dict)
    gaps: Gaps = field(default_factory=lambda: Gaps(np.array([], np.int64), np.array([], np.int64)))

    @property
    def keep(self) -> NDArray[np.bool_]:
        return self.reason == KEPT

    @property
    def removed(self) -> int:
        return sum(self.counts.get(name, 0) for name in REMOVAL_REASONS)


def find_gaps(time: NDArray[np.int64], gap_seconds: int) -> Gaps:
    """Pairs of consecutive readings more than ``gap_seconds`` apart."""
    if len(time) < 2:
        return Gaps(np.array([], np.int64), np.array([], np.int64))
    at = np.flatnonzero(np.diff(time) > gap_seconds)
    return Gaps(time[at].astype(np.int64), time[at + 1].astype(np.int64))


def _forward_fill(values: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Replace invalid entries by the last valid one (the first valid one at the start)."""
    if not valid.any():
        return values.copy()
    idx = np.where(valid, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    first = int(np.argmax(valid))
    idx[: first + 1] = np.where(valid[: first + 1], idx[: first + 1], first)
    return values[idx]


def local_median(values: NDArray[np.float64], neighbours: int) -> NDArray[np.float64]:
    """Median of each reading and ``neighbours`` readings either side (edges repeat)."""
    if len(values) == 0:
        return values.copy()
    padded = np.pad(values, neighbours, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * neighbours + 1)
    return np.asarray(np.median(windows, axis=1), dtype=np.float64)


def _rolling_share(flags: NDArray[np.bool_], window: int) -> NDArray[np.float64]:
    """Share of true flags in a centred window around each position."""
    sums = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    n = len(flags)
    half = window // 2
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    return (sums[hi] - sums[lo]) / np.maximum(hi - lo, 1)


def zigzag_flags(values: NDArray[np.float64], step: float) -> NDArray[np.bool_]:
    """True where a reading is a turning point between two steps of at least ``step``."""
    flags = np.zeros(len(values), dtype=bool)
    if len(values) < 3:
        return flags
    d = np.diff(values)
    flags[1:-1] = (d[:-1] * d[1:] < 0) & (np.abs(d[:-1]) >= step) & (np.abs(d[1:]) >= step)
    return flags


def oscillation_mask(values: NDArray[np.float64], rules: MeasureRules) -> NDArray[np.bool_]:
    """Readings inside a run where most steps zig-zag by at least ``oscillation_step``."""
    flags = zigzag_flags(values, rules.oscillation_step)
    if not flags.any():
        return flags
    share = _rolling_share(flags, rules.oscillation_window)
    dense = share >= rules.oscillation_share
    # Widen to the whole window so the run's first and last readings go too.
    return _rolling_share(dense, rules.oscillation_window) > 0


def clean(
    time: NDArray[np.int64],
    values: NDArray[np.floating],
    rules: MeasureRules,
    gap_seconds: int = 1800,
) -> CleanResult:
    """Apply the rules to one measure of one room (readings sorted by time)."""
    x = np.asarray(values, dtype=np.float64)
    reason = np.full(len(x), KEPT, dtype=np.int8)
    missing = np.isnan(x)
    reason[missing] = MISSING

    in_range = (x >= rules.low) & (x <= rules.high)
    plain = ~missing & in_range & (x != 0)
    context = local_median(_forward_fill(x, plain), rules.neighbours)
    zero = ~missing & (x == 0) & (np.abs(context) > rules.zero_tolerance)
    reason[zero] = ZERO
    reason[~missing & ~zero & ~in_range] = OUT_OF_RANGE

    valid = reason == KEPT
    filled = _forward_fill(x, valid)
    osc = oscillation_mask(filled, rules) & valid
    reason[osc] = OSCILLATION

    valid = reason == KEPT
    filled = _forward_fill(x, valid)
    spike = valid & (np.abs(filled - local_median(filled, rules.neighbours)) > rules.spike)
    reason[spike] = SPIKE

    counts = {name: int(np.count_nonzero(reason == code)) for code, name in REASONS.items()}
    return CleanResult(reason=reason, counts=counts, gaps=find_gaps(time[~missing], gap_seconds))
