# cython: language_level=3, initializedcheck=False
"""Compiled running statistics per meter: EW mean/variance, Welford mean/variance, rolling.

Each bank keeps one area's meters in typed arrays so a whole concentrator
batch is one call; the single-reading methods exist for parity with River
and for callers that see one meter at a time. Arithmetic follows River's
operation order exactly, so results are bit-identical to `river.stats`.
Twin: `pure_stats.py`.
"""

import numpy as np

from libc.math cimport isnan

from gridwatch.ext import checks, layout, pure_stats

include "_bank.pxi"


cdef class _ReadingBank(_Bank):
    """Index checks and the NaN-skipping loops shared by the banks of this module.

    A subclass supplies `_step`, the arithmetic for one reading of one meter.
    """


    cdef void _step(self, Py_ssize_t i, double x) noexcept:
        """One reading of meter `i`; every subclass overrides it with its own update."""

    def update(self, Py_ssize_t i, double x):
        """Fold one reading of meter `i` in (NaN = missing, ignored)."""
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        if not isnan(x):
            self._step(i, x)

    def update_many(self, x):
        """Fold one reading per meter in, in one call."""
        cdef const double[::1] xs = checks.readings("x", x, self.n_meters)
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            if not isnan(xs[i]):
                self._step(i, xs[i])


cdef class EWStats(_ReadingBank):
    """Exponentially weighted mean and variance per meter (River `stats.EWMean`/`EWVar`)."""

    _ARRAYS, _PARAMS = pure_stats.EWStats._ARRAYS, pure_stats.EWStats._PARAMS
    cdef readonly double fading_factor
    cdef readonly object means, squares, seen
    cdef double[::1] _m, _s
    cdef unsigned char[::1] _seen

    def __init__(self, Py_ssize_t n_meters, double fading_factor=0.5):
        self.fading_factor = checks.fraction("fading_factor", fading_factor, allow_zero=True)
        layout.allocate(self, n_meters)

    def _bind(self, means, squares, seen):
        self.means, self.squares, self.seen = means, squares, seen
        self._m, self._s, self._seen = means, squares, seen
        self.n_meters = means.shape[0]

    cdef void _step(self, Py_ssize_t i, double x) noexcept:
        cdef double a = self.fading_factor
        if self._seen[i]:
            self._m[i] = a * x + (1.0 - a) * self._m[i]
            self._s[i] = a * (x * x) + (1.0 - a) * self._s[i]
        else:
            self._m[i] = x
            self._s[i] = x * x
            self._seen[i] = 1

    def mean(self, Py_ssize_t i):
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        return self._m[i]

    def var(self, Py_ssize_t i):
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        return self._s[i] - self._m[i] * self._m[i]

    def variances(self):
        """Variance of every meter as a new array."""
        return self.squares - self.means * self.means


cdef class MeanVar(_ReadingBank):
    """Running mean and variance per meter by Welford's method (River `stats.Mean`/`Var`)."""

    _ARRAYS, _PARAMS = pure_stats.MeanVar._ARRAYS, pure_stats.MeanVar._PARAMS
    cdef readonly int ddof
    cdef readonly object counts, means, sums_sq
    cdef double[::1] _n, _m, _ss

    def __init__(self, Py_ssize_t n_meters, int ddof=1):
        self.ddof = checks.positive_int("ddof", ddof, minimum=0)
        layout.allocate(self, n_meters)

    def _bind(self, counts, means, sums_sq):
        self.counts, self.means, self.sums_sq = counts, means, sums_sq
        self._n, self._m, self._ss = counts, means, sums_sq
        self.n_meters = counts.shape[0]

    cdef void _step(self, Py_ssize_t i, double x) noexcept:
        cdef double old = self._m[i]
        self._n[i] += 1.0
        self._m[i] = old + (1.0 / self._n[i]) * (x - old)
        self._ss[i] += (x - old) * (x - self._m[i])

    def mean(self, Py_ssize_t i):
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        return self._m[i]

    def var(self, Py_ssize_t i):
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        if self._n[i] > self.ddof:
            return self._ss[i] / (self._n[i] - self.ddof)
        return 0.0

    def variances(self):
        enough = self.counts > self.ddof
        return np.divide(self.sums_sq, self.counts - self.ddof, out=np.zeros(self.n_meters),
                         where=enough)


cdef class RollingMeanVar(MeanVar):
    """Mean and variance over each meter's last `window` readings.

    Parity: River `utils.Rolling(stats.Var, window_size=w, ddof=d)` (and its
    inner `stats.Mean`), i.e. revert the oldest reading then add the new one.
    """

    _ARRAYS = pure_stats.RollingMeanVar._ARRAYS
    _PARAMS = pure_stats.RollingMeanVar._PARAMS
    cdef readonly Py_ssize_t window
    cdef readonly object values, positions
    cdef double[:, ::1] _vals
    cdef int[::1] _pos

    def __init__(self, Py_ssize_t n_meters, Py_ssize_t window=8, int ddof=1):
        self.window = checks.positive_int("window", window)
        self.ddof = checks.positive_int("ddof", ddof, minimum=0)
        layout.allocate(self, n_meters)

    def _bind(self, values, positions, counts, means, sums_sq):
        self.values, self.positions = values, positions
        self._vals, self._pos = values, positions
        MeanVar._bind(self, counts, means, sums_sq)

    cdef void _step(self, Py_ssize_t i, double x) noexcept:
        cdef double old_mean, leaving
        cdef int p = self._pos[i]
        if self._n[i] == <double>self.window:
            leaving = self._vals[i, p]
            old_mean = self._m[i]
            self._n[i] -= 1.0
            if self._n[i] == 0.0:
                self._m[i] = 0.0
            else:
                self._m[i] = old_mean - (1.0 / self._n[i]) * (leaving - old_mean)
            self._ss[i] -= (leaving - old_mean) * (leaving - self._m[i])
        MeanVar._step(self, i, x)
        self._vals[i, p] = x
        self._pos[i] = p + 1 if p + 1 < self.window else 0
