# cython: language_level=3, initializedcheck=False
"""Compiled change detection per meter: Page-Hinkley (River parity) and two-sided CUSUM.

Why both: Page-Hinkley tracks drift of a meter's own running mean (no
baseline needed, River's semantics); CUSUM accumulates an already
standardised residual (from the seasonal baseline) and reacts within a few
readings to a step such as consumption dropping to a fraction.
Twin: `pure_change.py`.
"""

import numpy as np

from libc.math cimport INFINITY, isnan

from gridwatch.ext import checks, layout, pure_change

include "_bank.pxi"

cdef class PageHinkley(_Bank):
    """Page-Hinkley test per meter, bit-identical to `river.drift.PageHinkley`."""

    _ARRAYS, _PARAMS = pure_change.PageHinkley._ARRAYS, pure_change.PageHinkley._PARAMS

    cdef readonly int min_instances
    cdef readonly double delta, threshold, alpha
    cdef readonly str mode
    cdef int _mode
    cdef readonly object counts, means, sums_inc, sums_dec, mins_inc, maxs_dec, drifts
    cdef double[::1] _n, _m, _si, _sd, _mi, _md
    cdef unsigned char[::1] _drift

    def __init__(self, Py_ssize_t n_meters, int min_instances=30, double delta=0.005,
                 double threshold=50.0, double alpha=1 - 0.0001, str mode="both"):
        self.min_instances = checks.positive_int("min_instances", min_instances, minimum=0)
        self.delta = checks.non_negative("delta", delta)
        self.threshold = checks.non_negative("threshold", threshold)
        self.alpha = checks.fraction("alpha", alpha)
        self._mode = checks.drift_mode(mode)
        self.mode = mode
        layout.allocate(self, n_meters)

    def _bind(self, counts, means, sums_inc, sums_dec, mins_inc, maxs_dec, drifts):
        self.counts, self.means, self.sums_inc, self.sums_dec = counts, means, sums_inc, sums_dec
        self.mins_inc, self.maxs_dec, self.drifts = mins_inc, maxs_dec, drifts
        self._n, self._m, self._si, self._sd = counts, means, sums_inc, sums_dec
        self._mi, self._md, self._drift = mins_inc, maxs_dec, drifts
        self.n_meters = counts.shape[0]

    cdef inline bint _step(self, Py_ssize_t i, double x) noexcept:
        cdef double dev, up, down
        cdef bint drift = False
        if self._drift[i]:
            self._n[i] = 0.0
            self._m[i] = 0.0
            self._si[i] = 0.0
            self._sd[i] = 0.0
            self._mi[i] = INFINITY
            self._md[i] = -1.0
            self._drift[i] = 0
        self._n[i] += 1.0
        self._m[i] = self._m[i] + (1.0 / self._n[i]) * (x - self._m[i])
        dev = x - self._m[i]
        self._si[i] = self.alpha * self._si[i] + dev - self.delta
        self._sd[i] = self.alpha * self._sd[i] + dev + self.delta
        if self._si[i] < self._mi[i]:
            self._mi[i] = self._si[i]
        if self._sd[i] > self._md[i]:
            self._md[i] = self._sd[i]
        if self._n[i] >= self.min_instances:
            up = self._si[i] - self._mi[i]
            down = self._md[i] - self._sd[i]
            if self._mode == 0:
                drift = up > self.threshold or down > self.threshold
            elif self._mode == 1:
                drift = up > self.threshold
            else:
                drift = down > self.threshold
            self._drift[i] = drift
        return drift

    def update(self, Py_ssize_t i, double x):
        """Fold one reading of meter `i` in; True when a drift is detected now."""
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        if isnan(x):
            return False
        return self._step(i, x)

    def update_many(self, x):
        """Fold one reading per meter in; returns a bool array of meters drifting now."""
        cdef const double[::1] xs = checks.readings("x", x, self.n_meters)
        out = np.zeros(self.n_meters, np.bool_)
        cdef unsigned char[::1] flags = out.view(np.uint8)
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            if not isnan(xs[i]):
                flags[i] = self._step(i, xs[i])
        return out

    def statistics(self):
        """The larger of the increase and decrease test statistics, per meter."""
        return np.maximum(self.sums_inc - self.mins_inc, self.maxs_dec - self.sums_dec)


cdef class Cusum(_Bank):
    """Two-sided tabular CUSUM per meter on a standardised residual z.

    s_hi = max(0, s_hi + z - k), s_lo = max(0, s_lo - z - k); an alarm (+1 up,
    -1 down) fires when a side exceeds h and that side restarts from 0.
    """

    _ARRAYS, _PARAMS = pure_change.Cusum._ARRAYS, pure_change.Cusum._PARAMS

    cdef readonly double k, h
    cdef readonly object highs, lows
    cdef double[::1] _hi, _lo

    def __init__(self, Py_ssize_t n_meters, double k=0.5, double h=5.0):
        self.k = checks.non_negative("k", k)
        self.h = checks.non_negative("h", h)
        layout.allocate(self, n_meters)

    def _bind(self, highs, lows):
        self.highs, self.lows = highs, lows
        self._hi, self._lo = highs, lows
        self.n_meters = highs.shape[0]

    cdef inline int _step(self, Py_ssize_t i, double z) noexcept:
        cdef double hi = self._hi[i] + z - self.k
        cdef double lo = self._lo[i] - z - self.k
        cdef int alarm = 0
        hi = hi if hi > 0.0 else 0.0
        lo = lo if lo > 0.0 else 0.0
        if hi > self.h:
            alarm = 1
            hi = 0.0
        if lo > self.h:
            alarm = -1
            lo = 0.0
        self._hi[i] = hi
        self._lo[i] = lo
        return alarm

    def update(self, Py_ssize_t i, double z):
        """Fold one residual of meter `i` in; +1 / -1 on an upward / downward alarm, else 0."""
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        if isnan(z):
            return 0
        return self._step(i, z)

    def update_many(self, z):
        """Fold one residual per meter in; returns an int8 array of alarms (+1, -1, 0)."""
        cdef const double[::1] zs = checks.readings("z", z, self.n_meters)
        out = np.zeros(self.n_meters, np.int8)
        cdef signed char[::1] alarms = out
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            if not isnan(zs[i]):
                alarms[i] = self._step(i, zs[i])
        return out
