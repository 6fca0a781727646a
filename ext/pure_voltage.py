"""Pure-Python twin of `_voltage.pyx`: voltage qualification accumulators per point."""

from __future__ import annotations

import math

import numpy as np

from . import checks, layout
from .pure_bank import PureBank

QUALIFIED, BELOW, ABOVE, UNMONITORED = 0, 1, 2, 3


class VoltageQualification(PureBank):
    """Counts of monitored / below / above intervals, low runs and minimum voltage per point.

    >>> vq = VoltageQualification(3)
    >>> vq.update_many([190.0, 220.0, 240.0]).tolist()
    [1, 0, 2]
    >>> vq.area_rate()
    0.3333333333333333
    """

    _ARRAYS = (("lowers", "f8", (), "lower_v"), ("uppers", "f8", (), "upper_v"),
               ("monitored", "u4", (), 0), ("below", "u4", (), 0), ("above", "u4", (), 0),
               ("low_runs", "u2", (), 0), ("minimums", "f8", (), math.inf))
    _PARAMS = ("lower_v", "upper_v", "dead_v")

    def __init__(self, n_meters: int, lower_v: float = 198.0, upper_v: float = 235.4,
                 dead_v: float = 50.0) -> None:
        self.lower_v, self.upper_v = checks.voltage_limits(lower_v, upper_v)
        self.dead_v = checks.non_negative("dead_v", dead_v)
        layout.allocate(self, n_meters)

    def set_limits(self, i: int, lower_v: float, upper_v: float) -> None:
        """Give point `i` its own limits (e.g. a three-phase 380 V meter)."""
        checks.meter_index(i, self.n_meters)
        self.lowers[i], self.uppers[i] = checks.voltage_limits(lower_v, upper_v)

    def _step(self, i: int, v: float) -> int:
        if math.isnan(v) or v < self.dead_v:
            return UNMONITORED
        self.monitored[i] += 1
        if v < self.minimums[i]:
            self.minimums[i] = v
        if v < self.lowers[i]:
            self.below[i] += 1
            self.low_runs[i] = min(int(self.low_runs[i]) + 1, 65535)
            return BELOW
        self.low_runs[i] = 0
        if v > self.uppers[i]:
            self.above[i] += 1
            return ABOVE
        return QUALIFIED

    def update(self, i: int, v: float) -> int:
        """Account one interval of point `i`; returns QUALIFIED, BELOW, ABOVE or UNMONITORED."""
        self._check(i)
        return self._step(i, float(v))

    def update_many(self, v: object) -> np.ndarray:
        """Account one interval of every point; returns a uint8 array of classes."""
        values = checks.readings("v", v, self.n_meters).tolist()
        return np.array([self._step(i, value) for i, value in enumerate(values)], np.uint8)

    def rates(self) -> np.ndarray:
        """Qualification rate per point for the period (NaN where nothing was monitored)."""
        good = self.monitored.astype(np.float64) - self.below - self.above
        return np.divide(good, self.monitored, out=np.full(self.n_meters, np.nan),
                         where=self.monitored > 0)

    def area_rate(self) -> float:
        """Qualification rate of all points together, or NaN before any monitored interval."""
        total = int(self.monitored.sum())
        if total == 0:
            return math.nan
        return (total - int(self.below.sum()) - int(self.above.sum())) / total

    def reset(self) -> None:
        """Start a new period (day or month); limits and low runs are kept."""
        self.monitored[:] = 0
        self.below[:] = 0
        self.above[:] = 0
        self.minimums[:] = math.inf
