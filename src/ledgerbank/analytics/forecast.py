"""Next month's spending from monthly totals: the original linear regression, and a better method.

`linear_regression` is the original system's forecast, kept as the baseline: ordinary least
squares over the monthly totals, extrapolated one month, with a 95% prediction interval.

`robust_seasonal` does better on real spending:
- recurring payments (the same payee, a steady amount, in each of the last three months) are
  forecast as themselves and taken out of the rest;
- the rest is forecast from its median over the last six months, so one large outlier does not
  drag the forecast, plus a damped Theil-Sen trend (the median of pairwise slopes, robust too);
- seasonality: the same month a year (and two years) earlier against the level around it; with
  two years that agree the effect counts in full, with one year only half (one year cannot tell a
  season from a one-off);
- its range comes from its own past one-month-ahead errors on the same history.

Forecasts are estimates, so they are computed in floating point and rounded to minor units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

BASELINE = "linear_regression"
ROBUST = "robust_seasonal"
METHODS = (ROBUST, BASELINE)

RECURRING_MONTHS = 3  # a payee paid in each of the last three months ...
RECURRING_TOLERANCE = 0.15  # ... with amounts within 15% of their median is a recurring payment
LEVEL_MONTHS = 6
TREND_MONTHS = 12
TREND_DAMPING = 0.5
SEASON_CLAMP = (0.5, 2.5)
MIN_RANGE_SAMPLES = 4


@dataclass(frozen=True)
class Series:
    """Complete months (oldest first, no gaps), the spending of each, and spending per payee."""

    months: Sequence[str]
    totals: Sequence[int]
    streams: dict[tuple[Any, ...], dict[str, int]] = field(default_factory=dict)

    def head(self, count: int) -> Series:
        """The first `count` months, as they were known at the time."""
        kept = set(self.months[:count])
        streams = {
            payee: {m: v for m, v in by_month.items() if m in kept}
            for payee, by_month in self.streams.items()
        }
        return Series(self.months[:count], self.totals[:count], streams)


@dataclass(frozen=True)
class Forecast:
    method: str
    predicted: int
    lower: int
    upper: int
    recurring: dict[tuple[Any, ...], int] = field(default_factory=dict)


def _rounded(value: float) -> int:
    return max(0, round(value))


def _forecast(method: str, predicted: float, lower: float, upper: float, **extra: Any) -> Forecast:
    point = _rounded(predicted)
    return Forecast(
        method, point, min(point, _rounded(lower)), max(point, _rounded(upper)), **extra
    )


# --- the baseline ---------------------------------------------------------------------------


def linear_regression(series: Series, *, with_range: bool = True) -> Forecast:
    """Least squares over (month index, total), extrapolated to the next month."""
    y = [float(v) for v in series.totals]
    n = len(y)
    if n == 0:
        return Forecast(BASELINE, 0, 0, 0)
    if n == 1:
        return _forecast(BASELINE, y[0], y[0] * 0.5, y[0] * 1.5)
    x_mean = (n - 1) / 2
    y_mean = sum(y) / n
    sxx = sum((i - x_mean) ** 2 for i in range(n))
    slope = sum((i - x_mean) * (v - y_mean) for i, v in enumerate(y)) / sxx
    intercept = y_mean - slope * x_mean
    predicted = intercept + slope * n
    if not with_range or n < 3:
        return _forecast(BASELINE, predicted, predicted * 0.5, predicted * 1.5)
    residual = math.sqrt(sum((v - (intercept + slope * i)) ** 2 for i, v in enumerate(y)) / (n - 2))
    half = 1.96 * residual * math.sqrt(1 + 1 / n + (n - x_mean) ** 2 / sxx)
    return _forecast(BASELINE, predicted, predicted - half, predicted + half)


# --- the better method ----------------------------------------------------------------------


def recurring_payments(series: Series) -> dict[tuple[Any, ...], int]:
    """Payees paid a steady amount in each of the last three months, with that amount."""
    if len(series.months) < RECURRING_MONTHS:
        return {}
    recent = series.months[-RECURRING_MONTHS:]
    found: dict[tuple[Any, ...], int] = {}
    for payee, by_month in series.streams.items():
        amounts = [by_month.get(m, 0) for m in recent]
        if min(amounts) <= 0:
            continue
        middle = median(amounts)
        if all(abs(a - middle) <= RECURRING_TOLERANCE * middle for a in amounts):
            found[payee] = round(middle)
    return found


def _theil_sen(values: Sequence[float]) -> float:
    slopes = [
        (values[j] - values[i]) / (j - i)
        for i in range(len(values))
        for j in range(i + 1, len(values))
    ]
    return median(slopes) if slopes else 0.0


def _seasonal_factor(values: Sequence[float]) -> float:
    """How the target month (one past the end) differed from its surroundings in past years."""
    target = len(values)
    logs: list[float] = []
    for years in (1, 2):
        index = target - 12 * years
        if index < 0:
            break
        # Its surroundings, as many months on each side so that a trend cancels out.
        half = min(6, index, len(values) - 1 - index)
        if half < 3:
            continue
        around = [values[i] for i in range(index - half, index + half + 1) if i != index]
        normal = median(around)
        if normal <= 0 or values[index] <= 0:
            continue
        logs.append(math.log(values[index] / normal))
    if not logs:
        return 1.0
    if len(logs) == 1:
        effect = logs[0] / 2
    elif (logs[0] > 0) == (logs[1] > 0):
        effect = min(logs, key=abs)  # the smaller effect of two years that agree
    else:
        effect = 0.0
    return min(max(math.exp(effect), SEASON_CLAMP[0]), SEASON_CLAMP[1])


def _robust_point(series: Series) -> tuple[float, dict[tuple[Any, ...], int]]:
    n = len(series.totals)
    if n == 0:
        return 0.0, {}
    recurring = recurring_payments(series)
    rest = [
        float(total - sum(series.streams[p].get(month, 0) for p in recurring))
        for month, total in zip(series.months, series.totals, strict=True)
    ]
    window = rest[-LEVEL_MONTHS:]
    level = median(window)
    trend = _theil_sen(rest[-TREND_MONTHS:]) * TREND_DAMPING if n >= LEVEL_MONTHS else 0.0
    # The median sits at the middle of its window; carry it forward to the next month.
    level += trend * (len(window) + 1) / 2
    variable = max(0.0, level) * _seasonal_factor(rest)
    return sum(recurring.values()) + variable, recurring


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def robust_seasonal(series: Series, *, with_range: bool = True) -> Forecast:
    """Recurring payments, plus a robust level, trend and season of the rest."""
    predicted, recurring = _robust_point(series)
    if not with_range:
        return _forecast(ROBUST, predicted, predicted, predicted, recurring=recurring)
    # The range: how far this method's own past forecasts fell from what happened.
    ratios = [
        actual / point
        for actual, point in _one_step(series, lambda s: _robust_point(s)[0], start=3)
        if point > 0
    ][-24:]
    if len(ratios) >= MIN_RANGE_SAMPLES:
        lower = predicted * _quantile(ratios, 0.1)
        upper = predicted * _quantile(ratios, 0.9)
    else:
        spread = _mad(series.totals[-LEVEL_MONTHS:]) * 1.4826 * 1.645
        lower, upper = (
            predicted - max(spread, predicted * 0.25),
            predicted + max(spread, predicted * 0.25),
        )
    return _forecast(ROBUST, predicted, lower, upper, recurring=recurring)


def _mad(values: Sequence[int]) -> float:
    if not values:
        return 0.0
    middle = median(values)
    return float(median(abs(v - middle) for v in values))


FORECASTERS: dict[str, Callable[..., Forecast]] = {
    ROBUST: robust_seasonal,
    BASELINE: linear_regression,
}


# --- backtesting ----------------------------------------------------------------------------


def _one_step(
    series: Series, predict: Callable[[Series], float], *, start: int
) -> list[tuple[int, float]]:
    """(actual, predicted) for each month from `start` on, predicted from the months before."""
    return [(series.totals[i], predict(series.head(i))) for i in range(start, len(series.totals))]


@dataclass(frozen=True)
class BacktestPoint:
    month: str
    actual: int
    predicted: dict[str, int]


def backtest(series: Series, *, min_history: int = 3) -> list[BacktestPoint]:
    """Each month with at least `min_history` months before it, forecast by every method."""
    points = []
    for i in range(min_history, len(series.totals)):
        known = series.head(i)
        points.append(
            BacktestPoint(
                series.months[i],
                series.totals[i],
                {name: fn(known, with_range=False).predicted for name, fn in FORECASTERS.items()},
            )
        )
    return points


def mape(points: Sequence[BacktestPoint], method: str) -> float | None:
    """Mean absolute percentage error over the months that had any spending."""
    errors = [abs(p.predicted[method] - p.actual) / p.actual for p in points if p.actual > 0]
    return 100 * sum(errors) / len(errors) if errors else None
