"""Indoor daily mean against the outdoor daily average (NOAA TAVG), with their correlation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class IndoorOutdoor:
    day: NDArray[np.int64]
    indoor: NDArray[np.float64]
    outdoor: NDArray[np.float64]
    r: float | None  # Pearson correlation; None with fewer than 3 days or a constant series
    slope: float | None  # indoor degrees per outdoor degree (least squares)
    intercept: float | None

    @property
    def days(self) -> int:
        return len(self.day)


def indoor_vs_outdoor(
    indoor_day: NDArray[np.int64],
    indoor_mean: NDArray[np.floating],
    outdoor_day: NDArray[np.int64],
    outdoor_tavg: NDArray[np.floating],
    min_readings: NDArray[np.int64] | None = None,
    min_count: int = 0,
) -> IndoorOutdoor:
    """Join on the days both have (and, given counts, days with at least ``min_count`` readings)."""
    keep_in = np.ones(len(indoor_day), dtype=bool)
    if min_readings is not None:
        keep_in = min_readings >= min_count
    outdoor = np.asarray(outdoor_tavg, dtype=np.float64)
    ok_out = ~np.isnan(outdoor)
    days, i_in, i_out = np.intersect1d(
        indoor_day[keep_in], outdoor_day[ok_out], assume_unique=True, return_indices=True
    )
    x = outdoor[ok_out][i_out]
    y = np.asarray(indoor_mean, dtype=np.float64)[keep_in][i_in]
    r = slope = intercept = None
    if len(days) >= 3 and np.std(x) > 0 and np.std(y) > 0:
        r = float(np.corrcoef(x, y)[0, 1])
        slope_, intercept_ = np.polyfit(x, y, 1)
        slope, intercept = float(slope_), float(intercept_)
    return IndoorOutdoor(days.astype(np.int64), y, x, r, slope, intercept)
