"""Pure-Python twins of `_change.pyx`: Page-Hinkley (River parity) and two-sided CUSUM."""

from __future__ import annotations

import math

import numpy as np

from . import checks, layout
from .pure_bank import PureBank


class PageHinkley(PureBank):
    """Page-Hinkley test per meter, bit-identical to `river.drift.PageHinkley`.

    >>> bank = PageHinkley(1, min_instances=3, threshold=1.0)
    >>> [bank.update(0, x) for x in [0.0, 0.0, 0.0, 0.0, 5.0]]
    [False, False, False, False, True]
    """

    _ARRAYS = (("counts", "f8", (), 0.0), ("means", "f8", (), 0.0), ("sums_inc", "f8", (), 0.0),
               ("sums_dec", "f8", (), 0.0), ("mins_inc", "f8", (), math.inf),
               ("maxs_dec", "f8", (), -1.0), ("drifts", "u1", (), 0))
    _PARAMS = ("min_instances", "delta", "threshold", "alpha", "mode")

    def __init__(self, n_meters: int, min_instances: int = 30, delta: float = 0.005,
                 threshold: float = 50.0, alpha: float = 1 - 0.0001, mode: str = "both") -> None:
        self.min_instances = checks.positive_int("min_instances", min_instances, minimum=0)
        self.delta = checks.non_negative("delta", delta)
        self.threshold = checks.non_negative("threshold", threshold)
        self.alpha = checks.fraction("alpha", alpha)
        self._mode = checks.drift_mode(mode)
        self.mode = mode
        layout.allocate(self, n_meters)

    def _step(self, i: int, x: float) -> bool:
        if self.drifts[i]:
            self.counts[i] = self.means[i] = self.sums_inc[i] = self.sums_dec[i] = 0.0
            self.mins_inc[i], self.maxs_dec[i], self.drifts[i] = math.inf, -1.0, 0
        n = float(self.counts[i]) + 1.0
        mean = float(self.means[i])
        mean = mean + (1.0 / n) * (x - mean)
        dev = x - mean
        up_sum = self.alpha * float(self.sums_inc[i]) + dev - self.delta
        down_sum = self.alpha * float(self.sums_dec[i]) + dev + self.delta
        low = min(float(self.mins_inc[i]), up_sum)
        high = max(float(self.maxs_dec[i]), down_sum)
        self.counts[i], self.means[i] = n, mean
        self.sums_inc[i], self.sums_dec[i] = up_sum, down_sum
        self.mins_inc[i], self.maxs_dec[i] = low, high
        if n < self.min_instances:
            return False
        up, down = up_sum - low, high - down_sum
        if self._mode == 0:
            drift = up > self.threshold or down > self.threshold
        elif self._mode == 1:
            drift = up > self.threshold
        else:
            drift = down > self.threshold
        self.drifts[i] = drift
        return drift

    def update(self, i: int, x: float) -> bool:
        """Fold one reading of meter `i` in; True when a drift is detected now."""
        self._check(i)
        return False if math.isnan(x) else self._step(i, float(x))

    def update_many(self, x: object) -> np.ndarray:
        """Fold one reading per meter in; returns a bool array of meters drifting now."""
        out = np.zeros(self.n_meters, np.bool_)
        for i, value in enumerate(checks.readings("x", x, self.n_meters).tolist()):
            if not math.isnan(value):
                out[i] = self._step(i, value)
        return out

    def statistics(self) -> np.ndarray:
        """The larger of the increase and decrease test statistics, per meter."""
        return np.maximum(self.sums_inc - self.mins_inc, self.maxs_dec - self.sums_dec)


class Cusum(PureBank):
    """Two-sided tabular CUSUM per meter on a standardised residual z.

    >>> bank = Cusum(1, k=0.5, h=2.0)
    >>> [bank.update(0, z) for z in [-1.5, -1.5, -1.5, 0.0]]
    [0, 0, -1, 0]
    """

    _ARRAYS = (("highs", "f8", (), 0.0), ("lows", "f8", (), 0.0))
    _PARAMS = ("k", "h")

    def __init__(self, n_meters: int, k: float = 0.5, h: float = 5.0) -> None:
        self.k = checks.non_negative("k", k)
        self.h = checks.non_negative("h", h)
        layout.allocate(self, n_meters)

    def _step(self, i: int, z: float) -> int:
        hi = float(self.highs[i]) + z - self.k
        lo = float(self.lows[i]) - z - self.k
        hi = hi if hi > 0.0 else 0.0
        lo = lo if lo > 0.0 else 0.0
        alarm = 0
        if hi > self.h:
            alarm, hi = 1, 0.0
        if lo > self.h:
            alarm, lo = -1, 0.0
        self.highs[i], self.lows[i] = hi, lo
        return alarm

    def update(self, i: int, z: float) -> int:
        """Fold one residual of meter `i` in; +1 / -1 on an upward / downward alarm, else 0."""
        self._check(i)
        return 0 if math.isnan(z) else self._step(i, float(z))

    def update_many(self, z: object) -> np.ndarray:
        """Fold one residual per meter in; returns an int8 array of alarms (+1, -1, 0)."""
        out = np.zeros(self.n_meters, np.int8)
        for i, value in enumerate(checks.readings("z", z, self.n_meters).tolist()):
            if not math.isnan(value):
                out[i] = self._step(i, value)
        return out
