# cython: language_level=3, initializedcheck=False
"""Compiled robust seasonal baseline per meter and slot (slot-of-day / day-of-week).

Why robust: a theft or a fault must not drag the baseline it is judged
against, so each reading is winsorised to level +/- clip * scale before it
updates an EW level and an EW mean absolute deviation (EW mean + MAD, a
median-like estimator that one wild reading moves by at most clip * scale *
fading_factor). With clip = 0 the level is exactly River's `stats.EWMean`
per slot and the spread River's `EWMean` of |x - level| from the second
reading on. Twin: `pure_seasonal.py`.
"""

import numpy as np

from libc.math cimport NAN, fabs, isnan

from gridwatch.ext import checks, layout, pure_seasonal

include "_bank.pxi"

# Mean absolute deviation of a normal variable is sigma * sqrt(2 / pi).
cdef double _MAD_TO_SIGMA = 1.2533141373155003
MAD_TO_SIGMA = _MAD_TO_SIGMA


cdef inline void _bad_slot(Py_ssize_t s, Py_ssize_t n) except *:
    checks.slot_index(s, n)


cdef class SeasonalBaseline(_Bank):
    """Per meter and slot: EW level and EW absolute deviation, with winsorised updates.

    `update(i, slot, x)` returns the robust z-score of x against the baseline
    *before* folding x in (NaN while the slot has fewer than `warmup` readings),
    so one call both scores and learns.
    """

    _ARRAYS = pure_seasonal.SeasonalBaseline._ARRAYS
    _PARAMS = pure_seasonal.SeasonalBaseline._PARAMS
    cdef readonly Py_ssize_t n_slots
    cdef readonly double fading_factor, clip, min_scale
    cdef readonly int warmup
    cdef readonly object levels, spreads, counts
    cdef double[:, ::1] _lv, _sp
    cdef unsigned char[:, ::1] _cnt

    def __init__(self, Py_ssize_t n_meters, Py_ssize_t n_slots=24, double fading_factor=0.1,
                 double clip=3.0, int warmup=4, double min_scale=1e-3):
        self.n_slots = checks.positive_int("n_slots", n_slots)
        self.fading_factor = checks.fraction("fading_factor", fading_factor)
        self.clip = checks.non_negative("clip", clip)
        self.warmup = checks.positive_int("warmup", warmup)
        if self.warmup > 255:
            raise ValueError(f"warmup must be <= 255 (slot counts are 8-bit), got {warmup}")
        self.min_scale = checks.non_negative("min_scale", min_scale)
        layout.allocate(self, n_meters)

    def _bind(self, levels, spreads, counts):
        self.levels, self.spreads, self.counts = levels, spreads, counts
        self._lv, self._sp, self._cnt = levels, spreads, counts
        self.n_meters = levels.shape[0]

    cdef inline double _step(self, Py_ssize_t i, Py_ssize_t s, double x) noexcept:
        cdef int c = self._cnt[i, s]
        cdef double a = self.fading_factor
        cdef double level = self._lv[i, s]
        cdef double spread = self._sp[i, s]
        cdef double scale, bound, z = NAN, xe = x
        if c == 0:
            self._lv[i, s] = x
            self._cnt[i, s] = 1
            return z
        if c >= self.warmup:
            scale = spread * _MAD_TO_SIGMA + self.min_scale
            z = (x - level) / scale
            if self.clip > 0.0:
                bound = self.clip * scale
                if x - level > bound:
                    xe = level + bound
                elif level - x > bound:
                    xe = level - bound
        self._lv[i, s] = a * xe + (1.0 - a) * level
        if c == 1:
            self._sp[i, s] = fabs(xe - level)
        else:
            self._sp[i, s] = a * fabs(xe - level) + (1.0 - a) * spread
        if c < 255:
            self._cnt[i, s] = c + 1
        return z

    def update(self, Py_ssize_t i, Py_ssize_t slot, double x):
        """Score then fold one reading of meter `i` at `slot`; NaN readings are ignored."""
        if i < 0 or i >= self.n_meters:
            _bad_index(i, self.n_meters)
        if slot < 0 or slot >= self.n_slots:
            _bad_slot(slot, self.n_slots)
        if isnan(x):
            return NAN
        return self._step(i, slot, x)

    def update_many(self, Py_ssize_t slot, x):
        """Score then fold one reading per meter, all at `slot`; returns the z-scores."""
        if slot < 0 or slot >= self.n_slots:
            _bad_slot(slot, self.n_slots)
        cdef const double[::1] xs = checks.readings("x", x, self.n_meters)
        out = np.full(self.n_meters, np.nan)
        cdef double[::1] z = out
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            if not isnan(xs[i]):
                z[i] = self._step(i, slot, xs[i])
        return out

    def expected(self, Py_ssize_t slot):
        """Baseline level of every meter at `slot` (NaN where the slot is still warming up)."""
        checks.slot_index(slot, self.n_slots)
        return np.where(self.counts[:, slot] >= self.warmup, self.levels[:, slot], np.nan)
