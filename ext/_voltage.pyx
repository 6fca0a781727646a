# cython: language_level=3, initializedcheck=False
"""Compiled voltage qualification accumulators per monitoring point.

Voltage qualification rate (GB/T 12325 practice) = intervals within limits /
monitored intervals. Each point keeps its counts for the current period
(the caller resets at a day or month boundary), its current run of
consecutive under-limit intervals (what makes a low-voltage zone) and its
lowest voltage seen. Limits are per point, so one area mixes 220 V and
380 V meters. Twin: `pure_voltage.py`.
"""

import numpy as np

from libc.math cimport isnan

from gridwatch.ext import checks, layout, pure_voltage

include "_bank.pxi"

cdef enum Interval:
    _QUALIFIED = 0
    _BELOW = 1
    _ABOVE = 2
    _UNMONITORED = 3

QUALIFIED, BELOW, ABOVE, UNMONITORED = _QUALIFIED, _BELOW, _ABOVE, _UNMONITORED


cdef class VoltageQualification(_Bank):
    """Counts of monitored / below / above intervals, low runs and minimum voltage per point.

    A reading that is NaN or under `dead_v` is not monitored (an outage is a
    fault, not a voltage-quality interval).
    """

    _ARRAYS = pure_voltage.VoltageQualification._ARRAYS
    _PARAMS = pure_voltage.VoltageQualification._PARAMS
    cdef readonly double lower_v, upper_v, dead_v
    cdef readonly object lowers, uppers, monitored, below, above, low_runs, minimums
    cdef double[::1] _lower, _upper, _min
    cdef unsigned int[::1] _mon, _below, _above
    cdef unsigned short[::1] _run

    def __init__(self, Py_ssize_t n_meters, double lower_v=198.0, double upper_v=235.4,
                 double dead_v=50.0):
        self.lower_v, self.upper_v = checks.voltage_limits(lower_v, upper_v)
        self.dead_v = checks.non_negative("dead_v", dead_v)
        layout.allocate(self, n_meters)

    def _bind(self, lowers, uppers, monitored, below, above, low_runs, minimums):
        self.lowers, self.uppers, self.monitored = lowers, uppers, monitored
        self.below, self.above, self.low_runs, self.minimums = below, above, low_runs, minimums
        self._lower, self._upper, self._mon = lowers, uppers, monitored
        self._below, self._above, self._run, self._min = below, above, low_runs, minimums
        self.n_meters = lowers.shape[0]

    def set_limits(self, Py_ssize_t i, double lower_v, double upper_v):
        """Give point `i` its own limits (e.g. a three-phase 380 V meter)."""
        checks.meter_index(i, self.n_meters)
        self.lowers[i], self.uppers[i] = checks.voltage_limits(lower_v, upper_v)

    cdef inline int _step(self, Py_ssize_t i, double v) noexcept:
        if isnan(v) or v < self.dead_v:
            return _UNMONITORED
        self._mon[i] += 1
        if v < self._min[i]:
            self._min[i] = v
        if v < self._lower[i]:
            self._below[i] += 1
            if self._run[i] < 65535:
                self._run[i] += 1
            return _BELOW
        self._run[i] = 0
        if v > self._upper[i]:
            self._above[i] += 1
            return _ABOVE
        return _QUALIFIED

    def update(self, Py_ssize_t i, double v):
        """Account one interval of point `i`; returns QUALIFIED, BELOW, ABOVE or UNMONITORED."""
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        return self._step(i, v)

    def update_many(self, v):
        """Account one interval of every point; returns a uint8 array of classes."""
        cdef const double[::1] vs = checks.readings("v", v, self.n_meters)
        out = np.empty(self.n_meters, np.uint8)
        cdef unsigned char[::1] classes = out
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            classes[i] = self._step(i, vs[i])
        return out

    def rates(self):
        """Qualification rate per point for the period (NaN where nothing was monitored)."""
        good = self.monitored.astype(np.float64) - self.below - self.above
        return np.divide(good, self.monitored, out=np.full(self.n_meters, np.nan),
                         where=self.monitored > 0)

    def area_rate(self):
        """Qualification rate of all points together, or NaN before any monitored interval."""
        total = int(self.monitored.sum())
        if total == 0:
            return float("nan")
        return (total - int(self.below.sum()) - int(self.above.sum())) / total

    def reset(self):
        """Start a new period (day or month); limits and low runs are kept."""
        self.monitored[:] = 0
        self.below[:] = 0
        self.above[:] = 0
        self.minimums[:] = np.inf

