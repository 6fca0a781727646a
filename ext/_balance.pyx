# cython: language_level=3, initializedcheck=False
"""Compiled energy-balance attribution for one transformer area.

Why: theft shows as a meter's consumption dropping while the area's line
loss rises by a matching amount. Given the area's loss increase over an
interval (kWh above its usual loss) and each meter's drop below its
expected consumption, the explained part of the loss, min(loss, total
drop), is shared among the meters in proportion to their drops; what no
drop explains is returned as unexplained (leakage, or an unmetered load).
Each meter keeps an EW mean of the energy attributed to it, the suspicion
the theft detector ranks by. Twin: `pure_balance.py`.
"""

import numpy as np

from libc.math cimport isnan

from gridwatch.ext import checks, layout, pure_balance

include "_bank.pxi"


cdef class LossAttribution(_Bank):
    """Shares an area's loss increase among meters whose consumption dropped."""

    _ARRAYS, _PARAMS = pure_balance.LossAttribution._ARRAYS, pure_balance.LossAttribution._PARAMS

    cdef readonly double fading_factor
    cdef readonly object suspicion
    cdef double[::1] _sus

    def __init__(self, Py_ssize_t n_meters, double fading_factor=0.1):
        self.fading_factor = checks.fraction("fading_factor", fading_factor)
        layout.allocate(self, n_meters)

    def _bind(self, suspicion):
        self.suspicion = suspicion
        self._sus = suspicion
        self.n_meters = suspicion.shape[0]

    def update_many(self, double loss_increase, expected, actual):
        """Attribute one interval's loss increase; returns (attributed kWh per meter, unexplained).

        A meter with a NaN expected or actual value has no drop; a negative or
        NaN loss increase attributes nothing and leaves nothing unexplained.
        """
        cdef const double[::1] exp = checks.readings("expected", expected, self.n_meters)
        cdef const double[::1] act = checks.readings("actual", actual, self.n_meters)
        out = np.zeros(self.n_meters, np.float64)
        cdef double[::1] share = out
        cdef double total = 0.0, drop, explained, a = self.fading_factor
        cdef Py_ssize_t i
        for i in range(self.n_meters):
            drop = exp[i] - act[i]
            if drop > 0.0:
                share[i] = drop
                total += drop
        if isnan(loss_increase) or loss_increase <= 0.0:
            explained = 0.0
        else:
            explained = loss_increase if loss_increase < total else total
        for i in range(self.n_meters):
            if explained > 0.0:
                share[i] = explained * (share[i] / total)
            else:
                share[i] = 0.0
            self._sus[i] = a * share[i] + (1.0 - a) * self._sus[i]
        if explained == 0.0:
            return out, (loss_increase if loss_increase > 0.0 else 0.0)
        return out, loss_increase - explained
