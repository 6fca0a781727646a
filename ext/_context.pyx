# cython: language_level=3
"""Compiled kernel of `gridwatch score`'s default scorer (contextual surprise + likelihood).

The per-row arithmetic (binning, surprise, likelihood, quantile steps) runs
in C; the context counts stay in Python dicts keyed by bin tuples, exactly as
in the twin `pure_context.py`, so both give bit-identical scores. Regridding
(rare) reuses the twin's helper.
"""

from libc.math cimport erfc, floor, log, sqrt

from gridwatch.ext.pure_context import (
    BIN_LIMIT,
    LOG_TAIL_FLOOR,
    TINY_TAIL,
    _remap_keys,
    double_bin,
    floor_half,
)

cdef double C_BIN_LIMIT = BIN_LIMIT
cdef double C_LOG_TAIL_FLOOR = LOG_TAIL_FLOOR
cdef double C_TINY_TAIL = TINY_TAIL


cdef inline double _log_tail(double z) noexcept:
    """Twin of `pure_context.log_tail`."""
    cdef double tail = max(0.5 * erfc(z / sqrt(2.0)), C_TINY_TAIL)
    cdef double result = log(tail) / C_LOG_TAIL_FLOOR
    return result if result < 1.0 else 1.0


cdef class ContextCore:
    """Contextual surprise of each value, turned into an anomaly likelihood; see the scorer."""

    cdef public int levels, short, long, warm, probation, rest
    cdef public double quantile, quantile_rate, sd_floor, alarm, quiet_factor
    cdef public long long n, learned, quiet_left, prev1, prev2
    cdef public int history
    cdef public double origin, width, q_lo, q_hi, mean, var, alarm_z
    cdef public dict seen, after1, from1, after2, from2
    cdef public list recent

    def __init__(self, int levels=8, double quantile=0.02, double quantile_rate=0.01,
                 int short=10, int long=300, double sd_floor=0.05, int warm=30,
                 int probation=100, double alarm=0.5, int rest=100,
                 double quiet_factor=0.25):
        self.levels, self.quantile, self.quantile_rate = levels, quantile, quantile_rate
        self.short, self.long, self.sd_floor = short, long, sd_floor
        self.warm, self.probation = warm, probation
        self.alarm, self.rest, self.quiet_factor = alarm, rest, quiet_factor
        self.n = 0
        self.origin = 0.0
        self.width = 0.0
        self.q_lo = float("inf")
        self.q_hi = float("-inf")
        self.history = 0
        self.prev1 = 0
        self.prev2 = 0
        self.seen, self.after1, self.from1, self.after2, self.from2 = {}, {}, {}, {}, {}
        self.recent = [0.0] * max(short - 1, 0)
        self.mean = 0.0
        self.var = 0.0
        self.learned = 0
        self.quiet_left = 0
        self.alarm_z = 0.0

    cdef long long _bin(self, double x):
        cdef double v = floor((x - self.origin) / self.width)
        if v < -C_BIN_LIMIT:
            v = -C_BIN_LIMIT
        elif v > C_BIN_LIMIT:
            v = C_BIN_LIMIT
        return <long long>v

    cdef double _surprise(self, long long b) except? -1.0:
        cdef double s0 = 1.0 / (1.0 + <double>self.seen.get(b, 0))
        cdef double s1 = s0
        cdef double s2 = s0
        if self.history >= 1:
            s1 = 1.0 - <double>self.after1.get((self.prev1, b), 0) / (
                <double>self.from1.get(self.prev1, 0) + 1.0)
        if self.history >= 2:
            s2 = 1.0 - <double>self.after2.get((self.prev2, self.prev1, b), 0) / (
                <double>self.from2.get((self.prev2, self.prev1), 0) + 1.0)
        return (s0 + s1 + s2) / 3.0

    cdef double _level(self, double surprise) except? -1e300:
        cdef double total = surprise
        cdef double value, sd, point, window
        for value in self.recent:
            total += value
        sd = sqrt(max(self.var, self.sd_floor * self.sd_floor))
        point = (surprise - self.mean) / sd
        window = (total / self.short - self.mean) / (sd / sqrt(<double>self.short))
        return max(point, window)

    cdef bint _stronger(self, double z) noexcept:
        return self.quiet_left == 0 or z > self.alarm_z * self.quiet_left / self.rest

    cpdef double score(self, double x) except? -1.0:
        """Score of `x` in [0, 1] given everything learned so far; changes no state."""
        cdef double z, final
        if self.n < self.probation or self.n < self.warm:
            return 0.0
        z = self._level(self._surprise(self._bin(x)))
        final = _log_tail(z)
        return final * self.quiet_factor if self.quiet_left > 0 and not self._stronger(z) else final

    cpdef learn(self, double x):
        """Fold `x` in: quiet period, surprise statistics, context counts, grid."""
        cdef long long b
        cdef double surprise, z
        if self.n < self.warm:
            self._warm_up(x)
            return
        b = self._bin(x)
        surprise = self._surprise(b)
        z = self._level(surprise)
        if self.n >= self.probation and self._stronger(z) and _log_tail(z) >= self.alarm:
            self.quiet_left, self.alarm_z = self.rest, z
        elif self.quiet_left > 0:
            self.quiet_left -= 1
        self._learn_surprise(surprise)
        self._count(b)
        self._track_range(x)
        self.n += 1

    cdef void _warm_up(self, double x):
        self.q_lo = min(self.q_lo, x)
        self.q_hi = max(self.q_hi, x)
        self.n += 1
        if self.n == self.warm:
            self.origin = self.q_lo
            self.width = max((self.q_hi - self.q_lo) / self.levels,
                             1e-9 * max(abs(self.origin), 1.0))

    cdef void _learn_surprise(self, double surprise):
        cdef double alpha, diff
        if self.short > 1:
            self.recent = [*self.recent[1:], surprise]
        self.learned += 1
        alpha = max(1.0 / self.learned, 1.0 / self.long)
        diff = surprise - self.mean
        self.mean += alpha * diff
        self.var = (1.0 - alpha) * (self.var + alpha * diff * diff)

    cdef _count(self, long long b):
        cdef tuple key, ctx
        self.seen[b] = self.seen.get(b, 0) + 1
        if self.history >= 1:
            key = (self.prev1, b)
            self.after1[key] = self.after1.get(key, 0) + 1
            self.from1[self.prev1] = self.from1.get(self.prev1, 0) + 1
        if self.history >= 2:
            key = (self.prev2, self.prev1, b)
            ctx = (self.prev2, self.prev1)
            self.after2[key] = self.after2.get(key, 0) + 1
            self.from2[ctx] = self.from2.get(ctx, 0) + 1
        self.prev2, self.prev1 = self.prev1, b
        self.history = min(self.history + 1, 2)

    cdef _track_range(self, double x):
        cdef double step = self.quantile_rate * max(self.q_hi - self.q_lo, self.width)
        cdef double p = self.quantile
        cdef double span
        self.q_lo += -step * (1.0 - p) if x < self.q_lo else step * p
        self.q_hi += step * (1.0 - p) if x > self.q_hi else -step * p
        span = self.q_hi - self.q_lo
        while span > 2.0 * self.levels * self.width:
            self._regrid(2.0, floor_half)
        while span * 4.0 < self.levels * self.width and self.width > 1e-9 * max(
                abs(self.origin), 1.0):
            self._regrid(0.5, double_bin)

    cdef _regrid(self, double factor, step):
        self.width *= factor
        self.seen = _remap_keys(self.seen, step)
        self.after1 = _remap_keys(self.after1, step)
        self.from1 = _remap_keys(self.from1, step)
        self.after2 = _remap_keys(self.after2, step)
        self.from2 = _remap_keys(self.from2, step)
        self.prev1, self.prev2 = step(self.prev1), step(self.prev2)
