"""Pure-Python twin of `_forecast.pyx`: the online multi-seasonal load forecaster's core.

Why this model (see `detectors/forecasting.py` for the estimator around it):
a load is an hour-of-week shape around a level that moves (weather, new
customers, a feeder switched over) plus short-lived deviations that persist
for some hours. So the core keeps
- an additive Holt-Winters baseline: level ``L`` (EW mean of the
  deseasonalised load, time constant ~1/alpha_level steps, so a step change
  is absorbed within a day or two) and one seasonal offset per slot of the
  week (EW per slot; holidays are mapped onto a weekday's slots by the
  caller);
- a daily profile (one EW offset per time of day), less noisy than the
  weekly one because it learns seven times as often;
- per horizon h = 1..n_horizons, an online ridge regression (exponentially
  forgotten Gram matrix, ridge relative to its diagonal so it is scale free)
  of the load at t+h, relative to the level at t, on what is known at t:
  [1, weekly-profile offset of t+h, daily-profile offset of t+h, deviation
  from the baseline now, its EW mean over about a day, load at t+h a day
  earlier, a week earlier, temperature anomaly now] (lagged loads relative
  to the level at t and moved onto the profile of t+h, see `_features`).
  That is the
  seasonal naives (daily, weekly), persistence and the profiles combined
  with weights learnt online per horizon; a lag that is missing is replaced
  by the weekly-profile value;
- per horizon, online 10 % / 90 % quantiles of the forecast's own
  out-of-sample errors (stochastic quantile steps scaled by the EW mean
  absolute error), i.e. a conformal-style 80 % interval.

All state is fixed-size arrays (ring buffers of 8 periods), so it packs to a
few kB per series and is the same byte layout for both implementations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import checks
from .state import pack, unpack

N_FEATURES = 8
# ring rows: the reading, the EW mean of its deviation from the baseline, the level,
# the temperature anomaly, the week slot
RING_Y, RING_SMOOTH, RING_LEVEL, RING_TAU, RING_SLOT = 0, 1, 2, 3, 4
# scalars: level, EW mean deviation (about a day), EW mean temperature, steps seen,
# readings seen, EW mean size of the profiles' innovations
S_LEVEL, S_SMOOTH, S_TEMP, S_STEPS, S_SEEN, S_SPREAD = 0, 1, 2, 3, 4, 5
PROFILE_CLIP = 3.0
# per-horizon interval state: lower quantile, upper quantile, EW mean |error|, count
Q_LO, Q_HI, Q_SCALE, Q_COUNT = 0, 1, 2, 3
LOWER_TAU, UPPER_TAU = 0.1, 0.9
SCALE_RATE = 0.02
MIN_RESIDUALS_PER_PERIOD = 2
DAYS_PER_WEEK = 7
RING_PERIODS = 8


def check_params(period: int, n_horizons: int, alpha_level: float, alpha_season: float,
                 forgetting: float, ridge: float, quantile_rate: float) -> None:
    """Shared by both implementations so they reject the same values with the same words."""
    checks.positive_int("period", period, minimum=2)
    checks.positive_int("n_horizons", n_horizons)
    if n_horizons > period:
        raise ValueError(f"n_horizons must be <= period ({period}), got {n_horizons}")
    checks.fraction("alpha_level", alpha_level)
    checks.fraction("alpha_season", alpha_season)
    checks.fraction("forgetting", forgetting)
    checks.non_negative("ridge", ridge)
    checks.fraction("quantile_rate", quantile_rate)


def to_bytes(core: Any) -> bytes:
    """A core's parameters and arrays as bytes (either implementation: same layout)."""
    return pack("ForecastCore", {p: getattr(core, p) for p in core._PARAMS},
                {name: getattr(core, name) for name in core._ARRAYS})


def from_bytes(cls: type, blob: bytes) -> Any:
    """A core of class `cls` from `to_bytes` output of either implementation."""
    kernel, params, arrays = unpack(blob)
    if kernel != "ForecastCore":
        raise ValueError(f"kernel state holds a {kernel}, not a ForecastCore")
    core = cls(**params)
    core._bind(*(arrays[name] for name in cls._ARRAYS))
    return core


class ForecastCore:
    """One series' forecaster state; `learn(slot, x, temp)` per step, `forecast(slots)`.

    `slot` is the step's slot of the week (0 .. 7 * period - 1); NaN `x` is a
    missing reading (time still advances), NaN `temp` no temperature.

    >>> core = ForecastCore(period=4, n_horizons=2)
    >>> for step in range(56):
    ...     core.learn(step % 28, 10.0 + (step % 4), math.nan)
    >>> mean, lower, upper = core.forecast(np.array([0, 1]))
    >>> [round(float(v)) for v in mean]
    [10, 11]
    """

    _PARAMS = ("period", "n_horizons", "alpha_level", "alpha_season", "forgetting", "ridge",
               "quantile_rate")
    _ARRAYS = ("season", "seen", "daily", "daily_seen", "ring", "gram", "moment", "weights",
               "interval", "scalars")

    def __init__(self, period: int = 24, n_horizons: int = 24, alpha_level: float = 0.01,
                 alpha_season: float = 0.05, forgetting: float = 0.9995, ridge: float = 0.1,
                 quantile_rate: float = 0.02) -> None:
        check_params(period, n_horizons, alpha_level, alpha_season, forgetting, ridge,
                     quantile_rate)
        self.period, self.n_horizons = int(period), int(n_horizons)
        self.alpha_level, self.alpha_season = float(alpha_level), float(alpha_season)
        self.forgetting, self.ridge = float(forgetting), float(ridge)
        self.quantile_rate = float(quantile_rate)
        n_slots, ring = DAYS_PER_WEEK * self.period, RING_PERIODS * self.period
        h, k = self.n_horizons, N_FEATURES
        self.season = np.zeros(n_slots)
        self.seen = np.zeros(n_slots, np.uint8)
        self.daily = np.zeros(self.period)
        self.daily_seen = np.zeros(self.period, np.uint8)
        self.ring = np.full((5, ring), np.nan)
        self.gram = np.zeros((h, k, k))
        self.moment = np.zeros((h, k))
        self.weights = np.zeros((h, k))
        self.interval = np.zeros((h, 4))
        self.scalars = np.array([math.nan, math.nan, math.nan, 0.0, 0.0, math.nan])

    # -- state -------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return int(self.scalars[S_STEPS])

    @property
    def n_slots(self) -> int:
        return DAYS_PER_WEEK * self.period

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Any:
        return from_bytes(cls, blob)

    def _bind(self, *arrays: np.ndarray) -> None:
        for name, array in zip(self._ARRAYS, arrays, strict=True):
            setattr(self, name, array)

    def __reduce__(self) -> tuple:
        return type(self).from_bytes, (self.to_bytes(),)

    # -- helpers -----------------------------------------------------------------------
    def _past(self, row: int, step: int) -> float:
        """Ring value of `row` at absolute step `step`, NaN if never seen or overwritten."""
        size = self.ring.shape[1]
        if step < 0 or step <= self.steps - 1 - size:
            return math.nan
        return float(self.ring[row, step % size])

    def _season_of(self, slot: int) -> float:
        """Offset of `slot`, else of the same time on the nearest earlier day seen, else NaN."""
        for back in range(DAYS_PER_WEEK):
            s = (slot - back * self.period) % self.n_slots
            if self.seen[s]:
                return float(self.season[s])
        return math.nan

    def _features(self, origin: int, target: int, slot: int, level: float) -> np.ndarray:
        """What is known at `origin` about the reading at `target` (week slot `slot`).

        A lagged reading enters as its deviation from its own slot's offset
        plus the target slot's: last week's value for a holiday target (or a
        holiday's value for a working day) is then moved to the right profile.
        """
        weekly = self._season_of(slot)
        now = self._deviation(origin, level, 0.0)
        smooth = self._past(RING_SMOOTH, origin)
        yesterday = self._deviation(target - self.period, level, weekly)
        last_week = self._deviation(target - DAYS_PER_WEEK * self.period, level, weekly)
        hour = slot % self.period
        daily = self.daily[hour] if self.daily_seen[hour] else weekly
        tau = self._past(RING_TAU, origin)
        return np.array([1.0, weekly, daily, now, 0.0 if math.isnan(smooth) else smooth,
                         yesterday, last_week, 0.0 if math.isnan(tau) else tau])

    def _deviation(self, step: int, level: float, offset: float) -> float:
        """Reading at `step` less the level and its slot's offset, plus `offset`; if the
        reading is missing, `offset` alone."""
        x, slot = self._past(RING_Y, step), self._past(RING_SLOT, step)
        if math.isnan(x) or math.isnan(slot):
            return offset
        own = self._season_of(int(slot))
        return offset if math.isnan(own) else x - level - own + offset

    def _solve(self) -> None:
        diag = np.diagonal(self.gram, axis1=1, axis2=2)
        jitter = 1e-9 * diag.sum(axis=1) / N_FEATURES + 1e-12
        system = self.gram.copy()
        idx = np.arange(N_FEATURES)
        system[:, idx, idx] += self.ridge * diag + jitter[:, None]
        self.weights = np.linalg.solve(system, self.moment[:, :, None])[:, :, 0]

    def _learn_errors(self, slot: int, x: float) -> None:
        """Fold the reading at this step into each horizon's regression and interval."""
        t = self.steps
        if math.isnan(self._season_of(slot)):
            return
        lam = self.forgetting
        for h in range(1, self.n_horizons + 1):
            origin = t - h
            level = self._past(RING_LEVEL, origin)
            if math.isnan(level):
                continue
            f = self._features(origin, t, slot, level)
            target = x - level
            error = target - float(self.weights[h - 1] @ f)
            self._update_interval(h - 1, error)
            self.gram[h - 1] = lam * self.gram[h - 1] + np.outer(f, f)
            self.moment[h - 1] = lam * self.moment[h - 1] + f * target

    def _update_interval(self, i: int, error: float) -> None:
        q = self.interval[i]
        if q[Q_COUNT] == 0:
            q[Q_LO], q[Q_HI], q[Q_SCALE] = -abs(error), abs(error), abs(error)
        else:
            q[Q_SCALE] += SCALE_RATE * (abs(error) - q[Q_SCALE])
            step = self.quantile_rate * q[Q_SCALE]
            q[Q_LO] += step * (LOWER_TAU - (1.0 if error < q[Q_LO] else 0.0))
            q[Q_HI] += step * (UPPER_TAU - (1.0 if error < q[Q_HI] else 0.0))
        q[Q_COUNT] += 1

    def _clipped(self, innovation: float) -> float:
        """A profile's innovation limited to PROFILE_CLIP x its EW mean size, so that a step
        in load goes to the level, not into the profile of the hours that saw it."""
        sc = self.scalars
        size = abs(innovation)
        if math.isnan(sc[S_SPREAD]):
            sc[S_SPREAD] = size
            return innovation
        bound = PROFILE_CLIP * sc[S_SPREAD]
        sc[S_SPREAD] += SCALE_RATE * (size - sc[S_SPREAD])
        return max(-bound, min(bound, innovation))

    def _update_baseline(self, slot: int, x: float) -> None:
        """Holt-Winters step on the level and the weekly and daily profiles.

        A slot's first visit only sets its offset (the level is not moved by a
        slot it knows nothing about), and its first visits average plainly
        (rate 1/n until alpha_season), so the first weeks converge fast.
        """
        sc = self.scalars
        if math.isnan(sc[S_LEVEL]):
            sc[S_LEVEL], sc[S_SMOOTH] = x, 0.0
        visits = int(self.seen[slot])
        if visits == 0:
            self.season[slot], self.seen[slot] = x - sc[S_LEVEL], 1
        else:
            deviation = x - sc[S_LEVEL] - self.season[slot]
            sc[S_SMOOTH] += 2.0 / (self.period + 1) * (deviation - sc[S_SMOOTH])
            sc[S_LEVEL] += self.alpha_level * deviation
            rate = max(self.alpha_season, 1.0 / (visits + 1))
            self.season[slot] += rate * self._clipped(x - sc[S_LEVEL] - self.season[slot])
            self.seen[slot] = min(visits + 1, 255)
        hour = slot % self.period
        visits = int(self.daily_seen[hour])
        rate = max(self.alpha_season, 1.0 / (visits + 1))
        self.daily[hour] += rate * self._clipped(x - sc[S_LEVEL] - self.daily[hour])
        self.daily_seen[hour] = min(visits + 1, 255)

    # -- API ---------------------------------------------------------------------------
    def learn(self, slot: int, x: float, temp: float) -> None:
        """One step: reading `x` (NaN = missing) at week slot `slot`, temperature `temp`."""
        checks.slot_index(slot, self.n_slots)
        sc = self.scalars
        if not math.isnan(x):
            self._learn_errors(slot, x)
            self._update_baseline(slot, x)
            sc[S_SEEN] += 1
        anomaly = math.nan
        if not math.isnan(temp):
            sc[S_TEMP] = temp if math.isnan(sc[S_TEMP]) else sc[S_TEMP] + SCALE_RATE * (
                temp - sc[S_TEMP])
            anomaly = temp - sc[S_TEMP]
        t = self.steps
        col = t % self.ring.shape[1]
        self.ring[RING_Y, col] = x
        self.ring[RING_SMOOTH, col] = sc[S_SMOOTH]
        self.ring[RING_LEVEL, col] = sc[S_LEVEL]
        self.ring[RING_TAU, col] = anomaly
        self.ring[RING_SLOT, col] = slot
        sc[S_STEPS] = t + 1
        if not math.isnan(x):
            self._solve()

    def forecast(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lower, upper) for steps 1..len(slots) ahead; NaN where not ready yet."""
        n = len(slots)
        if n > self.n_horizons:
            raise ValueError(f"at most {self.n_horizons} horizons, got {n}")
        mean, lower, upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        origin = self.steps - 1
        level = self.scalars[S_LEVEL]
        if self.scalars[S_SEEN] < self.period or math.isnan(level):
            return mean, lower, upper
        ready = MIN_RESIDUALS_PER_PERIOD * self.period
        for h in range(1, n + 1):
            slot = int(slots[h - 1])
            checks.slot_index(slot, self.n_slots)
            if math.isnan(self._season_of(slot)):
                continue
            features = self._features(origin, origin + h, slot, level)
            value = level + float(self.weights[h - 1] @ features)
            mean[h - 1] = value
            q = self.interval[h - 1]
            if q[Q_COUNT] >= ready:
                lower[h - 1], upper[h - 1] = value + q[Q_LO], value + q[Q_HI]
        return mean, lower, upper
