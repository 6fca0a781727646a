"""The forecasters `gridwatch forecast` and `bench.forecast` offer: ours and the baselines.

Why one registry: the command line and the benchmark must run the very same
code, so what the benchmark measures is what an engineer gets. Every model
has `learn_one(x, at)` and `forecast(horizon) -> list[ForecastPoint]`; the
baselines keep a bounded history on the reading clock (a missing step
repeats the last value, since they cannot skip one) and give no interval.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from .forecasting import (
    SECONDS_PER_DAY,
    ForecastPoint,
    LoadForecaster,
    as_datetime,
)

DEFAULT_FORECASTER = "gridwatch"


class Forecaster(Protocol):
    def learn_one(self, x: float, at: datetime | float, temperature: float | None = None
                  ) -> None: ...

    def forecast(self, horizon: int | None = None) -> list[ForecastPoint]: ...


class ClockedBaseline(ABC):
    """A baseline fed one value per step of the reading clock; subclasses forecast values."""

    def __init__(self, interval_s: int, horizon_steps: int | None = None) -> None:
        self.interval = timedelta(seconds=interval_s)
        self.period = SECONDS_PER_DAY // interval_s
        self.n_horizons = horizon_steps or self.period
        self.last_at: datetime | None = None
        self.last = math.nan

    def learn_one(self, x: float, at: datetime | float, temperature: float | None = None
                  ) -> None:
        """Learn `x` at `at`; the baselines have no use for `temperature`."""
        at = as_datetime(at)
        if self.last_at is not None and not math.isnan(self.last):
            gap = round((at - self.last_at) / self.interval)
            for _ in range(1, min(gap, 8 * self.period)):
                self._learn(self.last)
        x = self.last if math.isnan(x) else float(x)
        if not math.isnan(x):
            self._learn(x)
            self.last = x
        self.last_at = at

    def forecast(self, horizon: int | None = None) -> list[ForecastPoint]:
        horizon = horizon or self.n_horizons
        if self.last_at is None:
            return []
        values = self._forecast(horizon)
        return [ForecastPoint(self.last_at + (h + 1) * self.interval, v, math.nan, math.nan)
                for h, v in enumerate(values)]

    @abstractmethod
    def _learn(self, x: float) -> None:
        """Take one value at the clock's next step (a missing one is the last seen)."""

    @abstractmethod
    def _forecast(self, horizon: int) -> list[float]:
        """The next `horizon` steps' values."""


class SeasonalNaive(ClockedBaseline):
    """Tomorrow repeats the same time `days` days earlier (1: daily, 7: weekly naive)."""

    def __init__(self, interval_s: int, horizon_steps: int | None = None, days: int = 7) -> None:
        super().__init__(interval_s, horizon_steps)
        self.lag = days * self.period
        self.history: deque[float] = deque(maxlen=self.lag)

    def _learn(self, x: float) -> None:
        self.history.append(x)

    def _forecast(self, horizon: int) -> list[float]:
        if len(self.history) < self.lag:
            return [math.nan] * horizon
        return [self.history[h % self.lag] for h in range(horizon)]


class RiverModel(ClockedBaseline):
    """A River time-series forecaster (`HoltWinters`, `SNARIMAX`) on the reading clock."""

    def __init__(self, interval_s: int, horizon_steps: int | None, make: Callable[[int], Any]
                 ) -> None:
        super().__init__(interval_s, horizon_steps)
        self.model = make(self.period)
        self.seen = 0

    def _learn(self, x: float) -> None:
        self.model.learn_one(x)
        self.seen += 1

    def _forecast(self, horizon: int) -> list[float]:
        if self.seen < 2 * self.period:
            return [math.nan] * horizon
        return [float(v) for v in self.model.forecast(horizon=horizon)]


def holt_winters(period: int, alpha: float = 0.3, beta: float = 0.01, gamma: float = 0.3) -> Any:
    from river import time_series
    return time_series.HoltWinters(alpha=alpha, beta=beta, gamma=gamma, seasonality=period)


def snarimax(period: int, p: int = 2, q: int = 1, lr: float = 0.005) -> Any:
    from river import linear_model, optim, preprocessing, time_series
    return time_series.SNARIMAX(
        p=p, d=0, q=q, m=period, sp=1, sd=1, sq=1,
        regressor=preprocessing.StandardScaler() | linear_model.LinearRegression(
            optimizer=optim.SGD(lr), intercept_lr=0.01))


@dataclass(frozen=True)
class ForecasterSpec:
    build: Callable[..., Forecaster]
    summary: str
    params: dict[str, Any] = field(default_factory=dict)


FORECASTERS: dict[str, ForecasterSpec] = {
    "gridwatch": ForecasterSpec(
        LoadForecaster,
        "online multi-seasonal model: level + week/day profiles + per-horizon online ridge on "
        "lagged loads, conformal 80 % intervals, holidays (--holiday)",
        {key: p.default for key, p in inspect.signature(LoadForecaster).parameters.items()
         if key in ("alpha_level", "alpha_season", "forgetting", "ridge", "quantile_rate")}),
    "seasonal-naive-weekly": ForecasterSpec(
        lambda interval_s, horizon_steps, **kw: SeasonalNaive(interval_s, horizon_steps, 7),
        "the same time a week earlier"),
    "seasonal-naive-daily": ForecasterSpec(
        lambda interval_s, horizon_steps, **kw: SeasonalNaive(interval_s, horizon_steps, 1),
        "the same time a day earlier"),
    "river-holtwinters": ForecasterSpec(
        lambda interval_s, horizon_steps, **kw: RiverModel(
            interval_s, horizon_steps, lambda period: holt_winters(period, **kw)),
        "river.time_series.HoltWinters, daily season", {"alpha": 0.3, "beta": 0.01,
                                                         "gamma": 0.3}),
    "river-snarimax": ForecasterSpec(
        lambda interval_s, horizon_steps, **kw: RiverModel(
            interval_s, horizon_steps, lambda period: snarimax(period, **kw)),
        "river.time_series.SNARIMAX(p, 0, q)(1, 1, 1) daily, scaled SGD regressor",
        {"p": 2, "q": 1, "lr": 0.005}),
}


def make_forecaster(name: str, interval_s: int, horizon_steps: int | None = None,
                    params: dict[str, str] | None = None, holidays: list[str] | None = None
                    ) -> Forecaster:
    """A forecaster by registry name, string parameters cast to their defaults' types."""
    if name not in FORECASTERS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(FORECASTERS)}")
    extra: dict[str, Any] = {}
    if holidays:
        if name != DEFAULT_FORECASTER:
            raise ValueError(f"holidays apply to the {DEFAULT_FORECASTER!r} model only")
        extra["holidays"] = holidays
    spec = FORECASTERS[name]
    kwargs: dict[str, Any] = {}
    for key, raw in (params or {}).items():
        if key not in spec.params:
            raise ValueError(f"model {name!r} has no parameter {key!r}; it has: "
                             f"{', '.join(spec.params) or 'none'}")
        kind = type(spec.params[key])
        try:
            kwargs[key] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"parameter {key}={raw!r} of model {name!r} must be a "
                             f"{kind.__name__}") from exc
    return spec.build(interval_s=interval_s, horizon_steps=horizon_steps, **kwargs, **extra)
