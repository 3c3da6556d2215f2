"""The weekly ticket-volume forecast: a straight-line trend times a month-of-year index.

The method, as a planner would explain it:

1. count the tickets of every complete week (Monday to Sunday) of the history;
2. with two years or more, measure the season: each calendar month's tickets per day against
   a straight line through the daily counts, averaged over the years, is that month's index
   (1.10 = 10 % busier than the trend); with less history there is no season to measure and
   every index is 1;
3. take the season out of the weekly counts (divide by the index of the week's days), draw a
   straight line through the last year of them, extend it, and put the season back in.

The interval comes from backtests: the same method, fitted on the history up to an earlier
week, forecast the 13 weeks after it; the spread of those forecasts' errors (actual against
forecast, as ratios) gives the range that held ``coverage`` of the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HORIZON_WEEKS = 13
RECENT_WEEKS = 13  # actual weeks shown before the forecast (Plan sheet, by_week.csv)
COVERAGE = 0.8
SEASON_MIN_DAYS = 730  # two years: a month's index is then seen at least twice
TREND_WEEKS = 52  # the trend is drawn through the last year of deseasonalised weeks
MIN_TRAINING_WEEKS = 26  # a backtest fits on at least half a year
MAX_BACKTESTS = 12
BACKTEST_STEP_WEEKS = 4
DECIMALS = 2  # forecast volumes are rounded: the same digits on every machine's floating point


@dataclass(frozen=True)
class Forecast:
    """Weekly volumes ahead, with the interval and how the method did on the past."""

    history: pd.Series  # tickets per complete week, indexed by the week's Monday
    weeks: pd.DatetimeIndex  # the Mondays of the forecast weeks
    point: np.ndarray
    low: np.ndarray | None  # None when the history is too short to backtest
    high: np.ndarray | None
    seasonal: bool  # a month-of-year index was measured
    backtests: int  # forecasts of the past behind the interval
    backtest_mape: float | None  # their mean absolute percentage error
    coverage: float = COVERAGE

    @property
    def available(self) -> bool:
        return len(self.weeks) > 0


def weekly_volumes(created: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Tickets created in each complete Monday-to-Sunday week before ``as_of``."""
    created = pd.Series(pd.to_datetime(created)).dropna()
    if created.empty:
        return pd.Series(dtype=float)
    first = created.min().normalize()
    first_monday = first + pd.Timedelta(days=(7 - first.day_of_week) % 7)
    last_monday = (as_of.normalize() - pd.Timedelta(days=as_of.day_of_week)) - pd.Timedelta(days=7)
    if last_monday < first_monday:
        return pd.Series(dtype=float)
    mondays = pd.date_range(first_monday, last_monday, freq="7D")
    week = (created - first_monday).dt.days // 7
    counts = np.bincount(week[(week >= 0) & (week < len(mondays))].to_numpy(dtype=np.int64),
                         minlength=len(mondays)).astype(float)
    return pd.Series(counts, index=mondays, name="tickets")


def daily_volumes(created: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    days = pd.date_range(first.normalize(), last.normalize(), freq="D")
    counts = pd.Series(pd.to_datetime(created)).dt.normalize().value_counts()
    return counts.reindex(days, fill_value=0).astype(float)


def month_index(daily: pd.Series) -> np.ndarray | None:
    """Each calendar month's volume against the trend, averaged over the years (12 values,
    averaging 1 over the days), or None with less than two years of days."""
    if len(daily) < SEASON_MIN_DAYS:
        return None
    t = np.arange(len(daily), dtype=float)
    slope, intercept = np.polyfit(t, daily.to_numpy(), 1)
    trend = np.clip(intercept + slope * t, 1e-9, None)
    ratio = pd.Series(daily.to_numpy() / trend, index=daily.index)
    index = ratio.groupby(ratio.index.month).mean().reindex(range(1, 13)).fillna(1.0).to_numpy()
    weights = pd.Series(1.0, index=daily.index).groupby(daily.index.month).sum().reindex(range(1, 13)).fillna(0)
    return index / (np.average(index, weights=weights.to_numpy()) if weights.sum() else 1.0)


def week_factors(mondays: pd.DatetimeIndex, index: np.ndarray | None) -> np.ndarray:
    """The mean month index over each week's seven days."""
    if index is None:
        return np.ones(len(mondays))
    days = mondays.values[:, None] + np.arange(7) * np.timedelta64(1, "D")
    months = pd.DatetimeIndex(days.ravel()).month.to_numpy().reshape(days.shape)
    return index[months - 1].mean(axis=1)


def _fit_and_extend(weekly: pd.Series, daily: pd.Series, horizon: int) -> tuple[np.ndarray, bool]:
    index = month_index(daily)
    factors = week_factors(weekly.index, index)
    level = weekly.to_numpy() / factors
    recent = level[-TREND_WEEKS:]
    t = np.arange(len(level) - len(recent), len(level), dtype=float)
    if len(recent) >= 2:
        slope, intercept = np.polyfit(t, recent, 1)
    else:
        slope, intercept = 0.0, float(recent.mean())
    ahead = weekly.index[-1] + pd.Timedelta(days=7) * np.arange(1, horizon + 1)
    future_t = np.arange(len(level), len(level) + horizon, dtype=float)
    point = np.clip(intercept + slope * future_t, 0, None) * week_factors(pd.DatetimeIndex(ahead), index)
    return point, index is not None


def forecast_volume(created: pd.Series, as_of: pd.Timestamp, horizon: int = HORIZON_WEEKS,
                    coverage: float = COVERAGE) -> Forecast:
    """The next ``horizon`` weeks after the last complete week before ``as_of``."""
    weekly = weekly_volumes(created, as_of)
    if len(weekly) < 2:
        return Forecast(weekly, pd.DatetimeIndex([]), np.zeros(0), None, None, False, 0, None, coverage)
    end = weekly.index[-1] + pd.Timedelta(days=6)
    daily = daily_volumes(created, weekly.index[0], end)
    point, seasonal = _fit_and_extend(weekly, daily, horizon)
    point = np.round(point, DECIMALS)
    weeks = pd.DatetimeIndex(weekly.index[-1] + pd.Timedelta(days=7) * np.arange(1, horizon + 1))

    ratios, errors = [], []
    for origin in _backtest_origins(len(weekly), horizon, seasonal):
        train = weekly.iloc[:origin]
        past, _ = _fit_and_extend(train, daily.loc[:train.index[-1] + pd.Timedelta(days=6)], horizon)
        actual = weekly.iloc[origin:origin + horizon].to_numpy()
        usable = past > 0
        if usable.any():
            ratios.append(actual[usable] / past[usable])
            errors.append(np.abs(actual[usable] - past[usable]) / np.maximum(actual[usable], 1))
    if not ratios:
        return Forecast(weekly, weeks, point, None, None, seasonal, 0, None, coverage)
    pooled = np.concatenate(ratios)
    tail = (1 - coverage) / 2
    low_ratio, high_ratio = np.quantile(pooled, [tail, 1 - tail])
    mape = float(np.concatenate(errors).mean())
    return Forecast(weekly, weeks, point, np.round(point * low_ratio, DECIMALS),
                    np.round(point * high_ratio, DECIMALS), seasonal, len(ratios), mape, coverage)


def _backtest_origins(weeks: int, horizon: int, seasonal: bool) -> list[int]:
    """Where backtests end their history: every few weeks back from the latest, each followed
    by a whole horizon of known weeks; for a seasonal forecast, those long enough to measure
    the season too (when there are at least three)."""
    origins = list(range(weeks - horizon, MIN_TRAINING_WEEKS - 1, -BACKTEST_STEP_WEEKS))[:MAX_BACKTESTS]
    if seasonal:
        long_enough = [o for o in origins if o * 7 >= SEASON_MIN_DAYS]
        origins = long_enough if len(long_enough) >= 3 else origins
    return sorted(origins)

