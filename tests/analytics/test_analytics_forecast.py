"""The spending forecasts on plain monthly series: the baseline, and where the better one wins."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from ledgerbank.analytics import forecast
from ledgerbank.analytics.forecast import Series


def months(count: int, first_year: int = 2021) -> list[str]:
    return [f"{first_year + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def series(totals: list[int], streams: dict[tuple[object, ...], list[int]] | None = None) -> Series:
    labels = months(len(totals))
    by_payee = {
        payee: {m: v for m, v in zip(labels, amounts, strict=True) if v}
        for payee, amounts in (streams or {}).items()
    }
    return Series(labels, totals, by_payee)


def test_both_methods_follow_a_straight_line() -> None:
    line = [10_000 + 500 * i for i in range(12)]
    assert forecast.linear_regression(series(line)).predicted == 16_000
    # The robust method damps trends (half the slope), yet lands within 10% on a clean line.
    robust = forecast.robust_seasonal(series(line)).predicted
    assert 15_000 <= robust < 16_000


def test_baseline_is_ordinary_least_squares() -> None:
    values = [120, 80, 200, 150, 90, 300, 210]
    n = len(values)
    x_mean = Fraction(n - 1, 2)
    y_mean = Fraction(sum(values), n)
    slope = sum((i - x_mean) * (v - y_mean) for i, v in enumerate(values)) / sum(
        (i - x_mean) ** 2 for i in range(n)
    )
    expected = y_mean + slope * (n - x_mean)
    result = forecast.linear_regression(series(values))
    assert result.predicted == round(expected)
    assert result.lower <= result.predicted <= result.upper


def test_one_large_outlier_does_not_drag_the_robust_forecast() -> None:
    steady = [50_000] * 10
    steady[7] = 900_000  # one new car
    robust = forecast.robust_seasonal(series(steady)).predicted
    baseline = forecast.linear_regression(series(steady)).predicted
    assert robust == 50_000
    assert abs(baseline - 50_000) > 50_000


def test_recurring_payments_are_forecast_as_themselves() -> None:
    # Rent starts three months before the end: the median of the totals would miss most of it.
    rent = [0] * 9 + [120_000] * 3
    variable = [40_000, 42_000, 38_000, 41_000, 39_000, 40_000, 43_000, 37_000, 40_000]
    variable += [40_000, 41_000, 39_000]
    totals = [r + v for r, v in zip(rent, variable, strict=True)]
    result = forecast.robust_seasonal(series(totals, {("transfer", 7, None): rent}))
    assert result.recurring == {("transfer", 7, None): 120_000}
    assert 155_000 <= result.predicted <= 165_000


def test_a_payee_with_varying_amounts_is_not_recurring() -> None:
    shop = [10_000, 30_000, 5_000, 22_000]
    found = forecast.recurring_payments(series(shop, {("withdrawal", None, "Shop"): shop}))
    assert found == {}


def test_a_season_seen_two_years_running_is_forecast() -> None:
    # December spending doubles every year; the target month (index 36) is a December.
    totals = [100_000 * (2 if i % 12 == 11 else 1) for i in range(35)]
    result = forecast.robust_seasonal(series(totals))
    assert months(36)[-1].endswith("-12")
    assert result.predicted == pytest.approx(200_000, rel=0.05)
    assert forecast.linear_regression(series(totals)).predicted < 140_000


def test_no_history_forecasts_nothing() -> None:
    for method in forecast.FORECASTERS.values():
        result = method(series([]))
        assert (result.predicted, result.lower, result.upper) == (0, 0, 0)


def test_backtest_predicts_each_month_from_the_months_before_it() -> None:
    rng = random.Random(3)
    totals = []
    for i in range(30):
        december = 1.6 if i % 12 == 11 else 1.0
        totals.append(int(60_000 * december * rng.lognormvariate(0, 0.15)))
    totals[17] += 500_000  # a one-off
    history = series(totals)
    points = forecast.backtest(history, min_history=3)
    assert [p.month for p in points] == history.months[3:]
    assert [p.actual for p in points] == totals[3:]
    # The first point is forecast from the first three months only.
    first = forecast.linear_regression(history.head(3), with_range=False).predicted
    assert points[0].predicted[forecast.BASELINE] == first
    robust = forecast.mape(points, forecast.ROBUST)
    baseline = forecast.mape(points, forecast.BASELINE)
    assert robust is not None
    assert baseline is not None
    assert robust < baseline
