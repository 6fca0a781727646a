"""Online load forecasting for one transformer area or feeder, learnt from its own stream.

Why this shape: the worker keeps one bounded state per area and must both
learn every reading and forecast the next day at every batch, so the
forecaster is River-like (`learn_one`, `forecast`) around the fixed-size
kernel `gridwatch.ext.ForecastCore` (Cython, pure-Python fallback), whose
state packs to a few kB (`to_bytes` / `from_bytes`) for the area-state table.
The calendar lives here: a reading's slot is its time of day on its weekday,
and a declared holiday is given the slots of `holiday_weekday` (Sunday by
default), so a holiday is forecast from, and teaches, the Sunday profile.
Temperature, when a feed carries it, enters as its anomaly from its own EW
mean. See `ext/pure_forecast.py` for the model itself. The default
hyper-parameters are those `python -m bench.forecast --tune` chose by
rolling-origin validation on the first half of the real series (mean MASE).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from ..ext import ForecastCore
from ..ext.state import pack, unpack

SECONDS_PER_DAY = 86_400
SUNDAY = 6


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """The forecast of one future reading and its 80 % interval (NaN while not ready)."""

    at: datetime
    value: float
    lower: float
    upper: float


def parse_holidays(values: Iterable[str | date]) -> frozenset[date]:
    """Dates from ISO strings or dates; a bad one is a ValueError naming it."""
    out = set()
    for value in values:
        if isinstance(value, date):
            out.add(value if not isinstance(value, datetime) else value.date())
            continue
        try:
            out.add(date.fromisoformat(str(value)))
        except ValueError as exc:
            raise ValueError(f"holiday {value!r} is not an ISO date (YYYY-MM-DD)") from exc
    return frozenset(out)


class LoadForecaster:
    """Online day-ahead load forecaster with daily and weekly seasonality and holidays.

    >>> start = datetime(2024, 1, 1)
    >>> fc = LoadForecaster(interval_s=3600)
    >>> for i in range(24 * 14):
    ...     at = start + timedelta(hours=i)
    ...     fc.learn_one(50.0 + 20.0 * (8 <= at.hour < 20) - 15.0 * (at.weekday() == 6), at)
    >>> points = fc.forecast()
    >>> len(points), points[0].at, abs(points[12].value - 70.0) < 3.0   # Monday 12:00
    (24, datetime.datetime(2024, 1, 15, 0, 0), True)
    >>> fc.peak().at.hour in range(8, 20)
    True
    """

    def __init__(self, interval_s: int = 3600, horizon_steps: int | None = None,
                 holidays: Iterable[str | date] = (), holiday_weekday: int = SUNDAY,
                 alpha_level: float = 0.01, alpha_season: float = 0.05,
                 forgetting: float = 0.9995, ridge: float = 0.1,
                 quantile_rate: float = 0.02) -> None:
        if int(interval_s) != interval_s or interval_s <= 0 or SECONDS_PER_DAY % interval_s:
            raise ValueError(f"interval_s must divide a day into whole steps, got {interval_s!r}")
        if not 0 <= holiday_weekday <= 6:
            raise ValueError(f"holiday_weekday must be 0 (Monday) .. 6 (Sunday), "
                             f"got {holiday_weekday!r}")
        self.interval_s = int(interval_s)
        self.period = SECONDS_PER_DAY // self.interval_s
        self.holidays = parse_holidays(holidays)
        self.holiday_weekday = holiday_weekday
        self.core = ForecastCore(self.period, horizon_steps or self.period, alpha_level,
                                 alpha_season, forgetting, ridge, quantile_rate)
        self.last_at: datetime | None = None

    @property
    def n_horizons(self) -> int:
        return self.core.n_horizons

    def slot(self, at: datetime) -> int:
        """Slot of the week: weekday (a holiday's is `holiday_weekday`) x steps per day."""
        weekday = self.holiday_weekday if at.date() in self.holidays else at.weekday()
        seconds = at.hour * 3600 + at.minute * 60 + at.second
        return weekday * self.period + seconds // self.interval_s

    def learn_one(self, x: float, at: datetime | float, temperature: float | None = None
                  ) -> None:
        """Learn the reading `x` taken at `at` (datetime, or epoch seconds = UTC).

        Missing steps since the previous reading are passed to the core as
        missing, so the lags stay aligned with the clock.
        """
        at = as_datetime(at)
        step = timedelta(seconds=self.interval_s)
        if self.last_at is not None:
            gap = round((at - self.last_at) / step)
            if gap < 1:
                raise ValueError(f"reading at {at.isoformat()} is not after the previous one "
                                 f"({self.last_at.isoformat()})")
            for missing in range(1, min(gap, 8 * self.period + 1)):
                moment = at - (gap - missing) * step
                self.core.learn(self.slot(moment), math.nan, math.nan)
        value = float(x) if x is not None else math.nan
        temp = math.nan if temperature is None else float(temperature)
        self.core.learn(self.slot(at), value, temp)
        self.last_at = at

    def forecast(self, horizon: int | None = None) -> list[ForecastPoint]:
        """The next `horizon` steps (default the whole horizon, one day)."""
        horizon = self.n_horizons if horizon is None else horizon
        if not 1 <= horizon <= self.n_horizons:
            raise ValueError(f"horizon must be 1..{self.n_horizons}, got {horizon!r}")
        if self.last_at is None:
            return []
        step = timedelta(seconds=self.interval_s)
        times = [self.last_at + h * step for h in range(1, horizon + 1)]
        mean, lower, upper = self.forecast_arrays(horizon)
        return [ForecastPoint(t, float(m), float(lo), float(hi))
                for t, m, lo, hi in zip(times, mean, lower, upper, strict=True)]

    def forecast_arrays(self, horizon: int | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) of the next `horizon` steps after `last_at`, as arrays.

        Why beside `forecast`: the pipeline forecasts every area every hour
        and reads a few of the steps, so it skips the per-step objects; and
        without holidays a step's slot is the previous one's plus one (the
        week wraps), so no calendar is consulted per step.
        """
        horizon = self.n_horizons if horizon is None else horizon
        if self.holidays:
            step = timedelta(seconds=self.interval_s)
            slots = np.array([self.slot(self.last_at + h * step)
                              for h in range(1, horizon + 1)], dtype=np.intp)
        else:
            first = self.slot(self.last_at) + 1
            slots = (first + np.arange(horizon, dtype=np.intp)) % (7 * self.period)
        return self.core.forecast(slots)

    def peak(self) -> ForecastPoint | None:
        """The highest forecast of the horizon (the day-ahead peak) with its time."""
        return peak_of(self.forecast())

    def to_bytes(self) -> bytes:
        params = {"interval_s": self.interval_s, "holiday_weekday": self.holiday_weekday,
                  "holidays": sorted(d.isoformat() for d in self.holidays),
                  "last_at": self.last_at.isoformat() if self.last_at else None}
        return pack("LoadForecaster", params,
                    {"core": np.frombuffer(self.core.to_bytes(), np.uint8)})

    @classmethod
    def from_bytes(cls, blob: bytes) -> LoadForecaster:
        kernel, params, arrays = unpack(blob)
        if kernel != "LoadForecaster":
            raise ValueError(f"state holds a {kernel}, not a LoadForecaster")
        forecaster = cls(params["interval_s"], holidays=params["holidays"],
                         holiday_weekday=params["holiday_weekday"])
        forecaster.core = type(forecaster.core).from_bytes(arrays["core"].tobytes())
        last = params["last_at"]
        forecaster.last_at = datetime.fromisoformat(last) if last else None
        return forecaster


def peak_of(points: list[ForecastPoint]) -> ForecastPoint | None:
    """The highest of `points` that has a value (None if none has)."""
    ready = [p for p in points if not math.isnan(p.value)]
    return max(ready, key=lambda p: p.value) if ready else None


def as_datetime(at: datetime | float | Any) -> datetime:
    """A datetime as given, or epoch seconds as a UTC datetime."""
    if isinstance(at, datetime):
        return at
    return datetime.fromtimestamp(float(at), UTC)
