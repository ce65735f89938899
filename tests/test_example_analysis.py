"""Unit tests for the example app's analyses, each on small data whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest
from example_app_support import EXAMPLE  # noqa: F401  (puts example_app/ on sys.path)
from homedata_dashboard.analysis import DAY
from homedata_dashboard.analysis.air import air_quality, elevations, hourly_profile
from homedata_dashboard.analysis.cleaning import (
    DEFAULT_RULES,
    KEPT,
    MISSING,
    OSCILLATION,
    OUT_OF_RANGE,
    SPIKE,
    ZERO,
    MeasureRules,
    clean,
    find_gaps,
    local_median,
    zigzag_flags,
)
from homedata_dashboard.analysis.daily import daily_stats
from homedata_dashboard.analysis.doors import door_activity, open_spans, weekday, weekday_hour
from homedata_dashboard.analysis.health import sensor_health
from homedata_dashboard.analysis.outdoor import indoor_vs_outdoor
from homedata_dashboard.analysis.series import display_series, gap_breaks, minmax_downsample, window
from homedata_dashboard.analysis.workouts import workout_summary
from hypothesis import given, settings
from hypothesis import strategies as st

TEMP = DEFAULT_RULES["temperature"]
HUMID = DEFAULT_RULES["humidity"]


def ts(text: str) -> int:
    return int(np.datetime64(text, "s").astype(np.int64))


def steady(n: int, value: float = 68.0, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n readings every 10 minutes, gently wobbling around ``value``."""
    time = start + np.arange(n, dtype=np.int64) * 600
    return time, value + 0.2 * np.sin(np.arange(n) / 5.0)


# --- cleaning ---------------------------------------------------------------------------------


def test_clean_flags_each_kind_of_flaw_with_its_reason() -> None:
    time, values = steady(200)
    values[10] = 1500.0  # the HTU21D's garbage
    values[20] = 0.0  # a drop-out
    values[30] = 68.0 + 25.0  # a spike inside the plausible range
    values[40] = np.nan  # no value
    result = clean(time, values, TEMP)
    assert result.reason[10] == OUT_OF_RANGE
    assert result.reason[20] == ZERO
    assert result.reason[30] == SPIKE
    assert result.reason[40] == MISSING
    assert result.counts == {
        "kept": 196,
        "missing": 1,
        "zero_dropout": 1,
        "out_of_range": 1,
        "oscillation": 0,
        "spike": 1,
    }
    assert result.removed == 3
    assert result.keep.sum() == 196


def test_a_real_zero_in_a_cold_attic_is_kept() -> None:
    time = np.arange(30, dtype=np.int64) * 600
    values = np.array([1.0, 0.5, -0.5, 0.0, 0.4, -1.0] * 5)
    result = clean(time, values, TEMP)
    assert (result.reason == KEPT).all()


def test_humidity_above_100_is_out_of_range_and_zero_is_a_drop_out() -> None:
    time, values = steady(50, 45.0)
    values[5] = 118.9
    values[6] = 0.0
    result = clean(time, values, HUMID)
    assert result.reason[5] == OUT_OF_RANGE
    assert result.reason[6] == ZERO


def test_range_is_configurable() -> None:
    time, values = steady(50, 68.0)
    values[25] = 95.0
    narrow = MeasureRules(low=50, high=90, spike=100, zero_tolerance=10, oscillation_step=50)
    assert clean(time, values, narrow).reason[25] == OUT_OF_RANGE
    assert clean(time, values, TEMP).reason[25] == SPIKE


def test_a_damaged_sensor_oscillation_is_flagged_but_not_normal_noise() -> None:
    time, values = steady(400, 61.0)
    swing = np.where(np.arange(200) % 2 == 0, 6.0, -6.0)
    values[200:] += swing
    result = clean(time, values, TEMP)
    assert (result.reason[:180] == KEPT).all()
    assert (result.reason[210:390] == OSCILLATION).mean() > 0.95
    assert result.counts["spike"] == 0  # reported as oscillation, not as hundreds of spikes


def test_gaps_are_reported_not_removed() -> None:
    time, values = steady(20)
    time[10:] += 3 * 3600  # a three-hour outage after reading 9
    result = clean(time, values, TEMP, gap_seconds=1800)
    assert result.removed == 0
    assert result.gaps.before.tolist() == [time[9]]
    assert result.gaps.after.tolist() == [time[10]]
    assert result.gaps.seconds.tolist() == [3 * 3600 + 600]


def test_find_gaps_and_helpers_on_tiny_inputs() -> None:
    assert len(find_gaps(np.array([5], dtype=np.int64), 10).before) == 0
    assert local_median(np.array([1.0, 100.0, 1.0, 1.0, 1.0]), 1).tolist() == [
        1.0,
        1.0,
        1.0,
        1.0,
        1.0,
    ]
    assert zigzag_flags(np.array([0.0, 5.0, 0.0, 5.0, 5.1]), 3.0).tolist() == [
        False,
        True,
        True,
        False,
        False,
    ]
    empty = clean(np.array([], dtype=np.int64), np.array([]), TEMP)
    assert empty.removed == 0 and len(empty.reason) == 0


# --- series ------------------------------------------------------------------------------------


def test_minmax_keeps_each_buckets_extremes_in_time_order() -> None:
    time = np.arange(10, dtype=np.int64)
    values = np.array([1, 5, 2, 8, 3, 0, 4, 4, 9, 1], dtype=float)
    t, v, width = minmax_downsample(time, values, 2)
    assert width == 5
    assert t.tolist() == [0, 3, 5, 8]
    assert v.tolist() == [1, 8, 0, 9]


def test_minmax_keeps_a_single_extreme_reading() -> None:
    time, values = steady(10_000)
    values[7777] = 1234.0
    _, v, _ = minmax_downsample(time, values, 100)
    assert 1234.0 in v.tolist()
    assert len(v) <= 200


def test_display_series_full_resolution_in_a_small_window() -> None:
    time, values = steady(5000)
    full = display_series(time, values, start=int(time[100]), end=int(time[200]), max_points=500)
    assert full.resolution == "full"
    assert full.raw_points == 100
    assert full.time.tolist() == time[100:200].tolist()
    overview = display_series(time, values, max_points=500)
    assert overview.resolution == "minmax"
    assert overview.raw_points == 5000
    assert len(overview.time) <= 500
    assert overview.bucket_seconds > 0


def test_window_and_gap_breaks() -> None:
    time = np.array([0, 600, 1200, 9000, 9600], dtype=np.int64)
    assert window(time, 600, 9000) == (1, 3)
    assert window(time, None, None) == (0, 5)
    assert window(time, 10_000, 20_000) == (5, 5)
    assert gap_breaks(time, 1800).tolist() == [3]
    shown = display_series(time, time.astype(float), gap_seconds=1800)
    assert shown.breaks.tolist() == [3]


# --- daily and outdoor ------------------------------------------------------------------------


def test_daily_stats_by_calendar_day() -> None:
    day1 = ts("2018-01-01T00:00:00")
    time = np.array([day1, day1 + 3600, day1 + 7200, day1 + DAY + 60], dtype=np.int64)
    stats = daily_stats(time, np.array([60.0, 70.0, 65.0, 50.0]))
    assert np.datetime_as_string(stats.day.astype("datetime64[D]")).tolist() == [
        "2018-01-01",
        "2018-01-02",
    ]
    assert stats.low.tolist() == [60.0, 50.0]
    assert stats.mean.tolist() == [65.0, 50.0]
    assert stats.high.tolist() == [70.0, 50.0]
    assert stats.count.tolist() == [3, 1]


def test_indoor_vs_outdoor_joins_days_and_correlates() -> None:
    days = np.arange(17500, 17510, dtype=np.int64)
    outdoor = np.linspace(0, 90, 10)
    indoor = 60 + 0.2 * outdoor
    result = indoor_vs_outdoor(days, indoor, days[2:], outdoor[2:].astype(np.float32))
    assert result.days == 8
    assert result.r == pytest.approx(1.0)
    assert result.slope == pytest.approx(0.2, rel=1e-4)
    assert result.intercept == pytest.approx(60.0, abs=1e-3)


def test_indoor_vs_outdoor_without_enough_days_or_with_missing_tavg() -> None:
    days = np.array([1, 2, 3], dtype=np.int64)
    tavg = np.array([np.nan, 10.0, 20.0])
    result = indoor_vs_outdoor(days, np.array([60.0, 61.0, 62.0]), days, tavg)
    assert result.days == 2 and result.r is None
    counts = np.array([144, 10, 144])
    partial = indoor_vs_outdoor(
        days, np.array([60.0, 61.0, 62.0]), days, np.array([5.0, 10.0, 20.0]), counts, 72
    )
    assert partial.day.tolist() == [1, 3]


# --- doors -------------------------------------------------------------------------------------


def test_weekday_is_monday_first() -> None:
    assert weekday(np.array([ts("2018-05-12T10:00:00")])).tolist() == [5]  # a Saturday
    assert weekday(np.array([ts("2018-05-14T00:00:00")])).tolist() == [0]  # a Monday


def test_door_spans_heatmap_and_longest() -> None:
    t0 = ts("2018-05-14T07:00:00")  # Monday 07:00
    events = [
        (t0, 0, 1), (t0 + 10, 0, 0),  # front: 10 s
        (t0 + 60, 1, 1), (t0 + 660, 1, 0),  # back: 10 min
        (t0 + 3600, 1, 1), (t0 + 3630, 1, 1),  # back: close missed, then 20 s
        (t0 + 3650, 1, 0),
        (t0 + DAY, 0, 1),  # front: never closed
    ]  # fmt: skip
    time = np.array([e[0] for e in events], dtype=np.int64)
    door = np.array([e[1] for e in events], dtype=np.int16)
    status = np.array([e[2] for e in events], dtype=np.int8)
    spans = open_spans(time, door, status)
    assert spans.seconds.tolist() == [10, 600, -1, 20, -1]
    act = door_activity(time, door, status, top=2)
    assert act.heatmap.sum() == 5
    assert act.heatmap[0, 7] == 2 and act.heatmap[0, 8] == 2 and act.heatmap[1, 7] == 1
    assert act.spans.seconds[act.longest].tolist() == [600, 20]
    front, back = act.summaries
    assert (front.openings, front.unclosed, front.median_seconds, front.days) == (2, 1, 10.0, 2)
    assert (back.openings, back.unclosed, back.median_seconds) == (3, 1, 310.0)
    assert weekday_hour(np.array([], dtype=np.int64)).shape == (7, 24)


# --- air quality -------------------------------------------------------------------------------


def test_air_quality_ignores_warm_up_and_finds_a_multi_day_elevation() -> None:
    start = ts("2018-07-01T00:00:00")
    time = start + np.arange(10 * 144, dtype=np.int64) * 600  # ten days at 10 minutes
    voc = np.full(len(time), 30.0)
    voc[(time >= start + 4 * DAY) & (time < start + 7 * DAY)] = 400.0  # painting, days 5-7
    warm = np.zeros(len(time), dtype=bool)
    warm[:3] = True
    voc[:3] = 5000.0  # warm-up garbage that must not count
    summary = air_quality(time, voc, warm)
    assert summary.warm_up_dropped == 3
    assert summary.readings == len(time) - 3
    assert summary.threshold == 100.0
    assert len(summary.elevations) == 1
    event = summary.elevations[0]
    assert np.datetime64(event.first_day, "D") == np.datetime64("2018-07-05")
    assert event.days == 3 and event.peak_median == 400.0
    assert summary.profile.median.tolist() == [30.0] * 24  # 7 of 10 days at 30 ppb
    assert summary.profile.count.sum() == len(time) - 3


def test_elevations_need_consecutive_days() -> None:
    days = np.array([10, 11, 13, 14, 15, 20], dtype=np.int64)
    med = np.array([200, 200, 200, 50, 200, 300], dtype=float)
    assert [(e.first_day, e.last_day) for e in elevations(days, med, 100.0)] == [(10, 11)]
    assert len(elevations(days, med, 100.0, min_days=1)) == 4


def test_hourly_profile() -> None:
    time = np.array([0, 600, 3600, 3600 * 23], dtype=np.int64)
    prof = hourly_profile(time, np.array([10.0, 30.0, 5.0, 7.0]))
    assert prof.median[0] == 20.0 and prof.median[1] == 5.0 and prof.count[23] == 1
    assert np.isnan(prof.median[2])


# --- sensor health -----------------------------------------------------------------------------


def test_sensor_health_counts_coverage_and_weeks() -> None:
    start = ts("2018-01-01T00:00:00")  # a Monday
    time, values = steady(2 * 7 * 144, 65.0, start)  # two weeks
    values[5] = 0.0
    values[7 * 144 + 5] = 2000.0
    time = np.delete(time, np.arange(300, 400))  # 100 missing readings
    values = np.delete(values, np.arange(300, 400))
    result = clean(time, values, TEMP)
    health = sensor_health(time, result)
    assert health.issues == {"zero_dropout": 1, "out_of_range": 1, "spike": 0, "oscillation": 0}
    assert health.expected == 2 * 7 * 144
    assert health.coverage == pytest.approx((2 * 7 * 144 - 100) / (2 * 7 * 144))
    assert (
        health.gap_count == 1 and health.longest_gaps[0][1] - health.longest_gaps[0][0] == 101 * 600
    )
    assert health.week_start.tolist() == [start, start + 7 * DAY]
    assert health.weekly["zero_dropout"].tolist() == [1, 0]
    assert health.weekly["out_of_range"].tolist() == [0, 1]


# --- workouts ----------------------------------------------------------------------------------


def test_workouts_prefer_the_daily_total_and_split_minutes_by_type() -> None:
    d0 = ts("2017-09-01T00:00:00")
    rows = [
        (d0 + 60, 0, 9000, -2),  # day 1 total from Google Fit
        (d0 + 8 * 3600, 1800, 3000, 7),  # walking 30 min
        (d0 + 9 * 3600, 3600, 0, 3),  # still 60 min
        (d0 + 2 * DAY + 3600, 600, 1200, 7),  # day 3: no total, 10 min walking
        (d0 + 2 * DAY + 7200, 1200, 2400, 8),  # running 20 min
    ]
    start = np.array([r[0] for r in rows], dtype=np.int64)
    summary = workout_summary(
        start,
        np.array([r[1] for r in rows], dtype=float),
        np.array([r[2] for r in rows], dtype=np.int32),
        np.array([r[3] for r in rows], dtype=np.int16),
        exclude_types=(3,),
    )
    assert summary.steps.tolist() == [9000, 0, 3600]
    assert summary.steps_source.tolist() == [True, False, False]
    assert summary.type_ids == [7, 8]
    assert summary.minutes.tolist() == [[30.0, 0.0, 10.0], [0.0, 0.0, 20.0]]
    assert summary.type_totals == {7: 40.0, 8: 20.0}
    assert (
        workout_summary(
            start[:0], np.array([]), np.array([], np.int32), np.array([], np.int16)
        ).type_ids
        == []
    )


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=400),
    st.integers(1, 50),
)
def test_minmax_is_a_sorted_subset_that_keeps_the_extremes(
    values: list[float], buckets: int
) -> None:
    rng = np.random.default_rng(len(values))
    time = np.cumsum(rng.integers(1, 1000, len(values))).astype(np.int64)
    y = np.array(values)
    t, v, _ = minmax_downsample(time, y, buckets)
    assert (np.diff(t) > 0).all()
    assert set(t.tolist()) <= set(time.tolist())
    assert v.max() == y.max() and v.min() == y.min()
    assert len(t) <= 2 * buckets


def test_display_series_skips_removed_readings() -> None:
    from homedata_dashboard.analysis.series import display_series

    time = np.arange(0, 6000, 600, dtype=np.int64)
    value = np.array([60, np.nan, 61, 62, np.nan, 63, 64, 65, 66, 67], dtype=np.float32)
    shown = display_series(time, value, max_points=100, gap_seconds=1800)
    assert shown.raw_points == 8 and not np.isnan(shown.value).any()
    assert 600 not in shown.time.tolist() and 2400 not in shown.time.tolist()
