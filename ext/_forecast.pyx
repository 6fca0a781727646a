# cython: language_level=3, initializedcheck=False
"""Compiled core of the online load forecaster; twin of `pure_forecast.py` (see it for why).

Same parameters, state arrays, byte layout and results (to rounding: the
pure twin solves the small ridge systems with LAPACK, this one by Cholesky).
"""

import numpy as np

from libc.math cimport NAN, fabs, isnan, sqrt

from gridwatch.ext import checks, pure_forecast

DEF K = 8
cdef int RING_Y = 0, RING_SMOOTH = 1, RING_LEVEL = 2, RING_TAU = 3, RING_SLOT = 4
cdef int S_LEVEL = 0, S_SMOOTH = 1, S_TEMP = 2, S_STEPS = 3, S_SEEN = 4, S_SPREAD = 5
cdef double PROFILE_CLIP = pure_forecast.PROFILE_CLIP
cdef int Q_LO = 0, Q_HI = 1, Q_SCALE = 2, Q_COUNT = 3
cdef double LOWER_TAU = pure_forecast.LOWER_TAU, UPPER_TAU = pure_forecast.UPPER_TAU
cdef double SCALE_RATE = pure_forecast.SCALE_RATE
cdef int DAYS = pure_forecast.DAYS_PER_WEEK


cdef class ForecastCore:
    """One series' forecaster state; `learn(slot, x, temp)` per step, `forecast(slots)`."""

    _PARAMS = pure_forecast.ForecastCore._PARAMS
    _ARRAYS = pure_forecast.ForecastCore._ARRAYS
    cdef readonly int period, n_horizons
    cdef readonly double alpha_level, alpha_season, forgetting, ridge, quantile_rate
    cdef readonly object season, seen, daily, daily_seen, ring, gram, moment, weights
    cdef readonly object interval, scalars
    cdef double[::1] _season, _daily, _sc
    cdef unsigned char[::1] _seen, _daily_seen
    cdef double[:, ::1] _ring, _moment, _weights, _interval
    cdef double[:, :, ::1] _gram

    def __init__(self, int period=24, int n_horizons=24, double alpha_level=0.01,
                 double alpha_season=0.05, double forgetting=0.9995, double ridge=0.1,
                 double quantile_rate=0.02):
        pure_forecast.check_params(period, n_horizons, alpha_level, alpha_season, forgetting,
                                   ridge, quantile_rate)
        self.period, self.n_horizons = period, n_horizons
        self.alpha_level, self.alpha_season = alpha_level, alpha_season
        self.forgetting, self.ridge, self.quantile_rate = forgetting, ridge, quantile_rate
        twin = pure_forecast.ForecastCore(period, n_horizons)
        self._bind(*(getattr(twin, name) for name in self._ARRAYS))

    def _bind(self, season, seen, daily, daily_seen, ring, gram, moment, weights, interval,
              scalars):
        self.season, self.seen, self.ring, self.gram = season, seen, ring, gram
        self.daily, self.daily_seen, self._daily, self._daily_seen = (daily, daily_seen, daily,
                                                                      daily_seen)
        self.moment, self.weights, self.interval, self.scalars = moment, weights, interval, scalars
        self._season, self._seen, self._ring, self._gram = season, seen, ring, gram
        self._moment, self._weights, self._interval, self._sc = moment, weights, interval, scalars

    @property
    def steps(self):
        return int(self._sc[S_STEPS])

    @property
    def n_slots(self):
        return DAYS * self.period

    def to_bytes(self):
        return pure_forecast.to_bytes(self)

    @classmethod
    def from_bytes(cls, blob):
        return pure_forecast.from_bytes(cls, blob)

    def __reduce__(self):
        return type(self).from_bytes, (self.to_bytes(),)

    cdef inline double _past(self, int row, long step) noexcept:
        cdef long size = self._ring.shape[1]
        cdef long steps = <long>self._sc[S_STEPS]
        if step < 0 or step <= steps - 1 - size:
            return NAN
        return self._ring[row, step % size]

    cdef inline double _season_of(self, long slot) noexcept:
        cdef int back
        cdef long n = DAYS * self.period, s
        for back in range(DAYS):
            s = (slot - back * self.period) % n
            if s < 0:
                s += n
            if self._seen[s]:
                return self._season[s]
        return NAN

    cdef inline double _deviation(self, long step, double level, double offset) noexcept:
        cdef double x = self._past(RING_Y, step), slot = self._past(RING_SLOT, step), own
        if isnan(x) or isnan(slot):
            return offset
        own = self._season_of(<long>slot)
        return offset if isnan(own) else x - level - own + offset

    cdef inline void _features(self, long origin, long target, long slot, double level,
                               double* f) noexcept:
        cdef double weekly = self._season_of(slot)
        cdef long hour = slot % self.period
        f[0] = 1.0
        f[1] = weekly
        f[2] = self._daily[hour] if self._daily_seen[hour] else weekly
        f[3] = self._deviation(origin, level, 0.0)
        f[4] = self._past(RING_SMOOTH, origin)
        if isnan(f[4]):
            f[4] = 0.0
        f[5] = self._deviation(target - self.period, level, weekly)
        f[6] = self._deviation(target - DAYS * self.period, level, weekly)
        f[7] = self._past(RING_TAU, origin)
        if isnan(f[7]):
            f[7] = 0.0

    cdef inline double _dot(self, int i, double* f) noexcept:
        cdef double s = 0.0
        cdef int j
        for j in range(K):
            s += self._weights[i, j] * f[j]
        return s

    cdef void _solve(self) noexcept:
        cdef double a[K][K]
        cdef double z[K]
        cdef double diag_sum, jitter, s
        cdef int h, i, j, m
        for h in range(self.n_horizons):
            diag_sum = 0.0
            for i in range(K):
                diag_sum += self._gram[h, i, i]
            jitter = 1e-9 * diag_sum / K + 1e-12
            for i in range(K):
                for j in range(K):
                    a[i][j] = self._gram[h, i, j]
                a[i][i] += self.ridge * self._gram[h, i, i] + jitter
            # Cholesky: a = L L^T, L in the lower triangle
            for j in range(K):
                s = a[j][j]
                for m in range(j):
                    s -= a[j][m] * a[j][m]
                a[j][j] = sqrt(s) if s > 0.0 else 1e-300
                for i in range(j + 1, K):
                    s = a[i][j]
                    for m in range(j):
                        s -= a[i][m] * a[j][m]
                    a[i][j] = s / a[j][j]
            for i in range(K):
                s = self._moment[h, i]
                for m in range(i):
                    s -= a[i][m] * z[m]
                z[i] = s / a[i][i]
            for i in range(K - 1, -1, -1):
                s = z[i]
                for m in range(i + 1, K):
                    s -= a[m][i] * self._weights[h, m]
                self._weights[h, i] = s / a[i][i]

    cdef void _update_interval(self, int i, double error) noexcept:
        cdef double step
        if self._interval[i, Q_COUNT] == 0:
            self._interval[i, Q_LO] = -fabs(error)
            self._interval[i, Q_HI] = fabs(error)
            self._interval[i, Q_SCALE] = fabs(error)
        else:
            self._interval[i, Q_SCALE] += SCALE_RATE * (fabs(error) - self._interval[i, Q_SCALE])
            step = self.quantile_rate * self._interval[i, Q_SCALE]
            self._interval[i, Q_LO] += step * (
                LOWER_TAU - (1.0 if error < self._interval[i, Q_LO] else 0.0))
            self._interval[i, Q_HI] += step * (
                UPPER_TAU - (1.0 if error < self._interval[i, Q_HI] else 0.0))
        self._interval[i, Q_COUNT] += 1

    cdef void _learn_errors(self, long slot, double x) noexcept:
        cdef long t = <long>self._sc[S_STEPS], origin
        cdef double level, target, error
        cdef double lam = self.forgetting
        cdef double f[K]
        cdef int h, i, j
        if isnan(self._season_of(slot)):
            return
        for h in range(1, self.n_horizons + 1):
            origin = t - h
            level = self._past(RING_LEVEL, origin)
            if isnan(level):
                continue
            self._features(origin, t, slot, level, f)
            target = x - level
            error = target - self._dot(h - 1, f)
            self._update_interval(h - 1, error)
            for i in range(K):
                for j in range(K):
                    self._gram[h - 1, i, j] = lam * self._gram[h - 1, i, j] + f[i] * f[j]
                self._moment[h - 1, i] = lam * self._moment[h - 1, i] + f[i] * target

    cdef double _clipped(self, double innovation) noexcept:
        cdef double size = fabs(innovation), bound
        if isnan(self._sc[S_SPREAD]):
            self._sc[S_SPREAD] = size
            return innovation
        bound = PROFILE_CLIP * self._sc[S_SPREAD]
        self._sc[S_SPREAD] += SCALE_RATE * (size - self._sc[S_SPREAD])
        if innovation > bound:
            return bound
        if innovation < -bound:
            return -bound
        return innovation

    cdef void _update_baseline(self, long slot, double x) noexcept:
        cdef double rate, deviation
        cdef int visits = self._seen[slot]
        cdef long hour = slot % self.period
        if isnan(self._sc[S_LEVEL]):
            self._sc[S_LEVEL] = x
            self._sc[S_SMOOTH] = 0.0
        if visits == 0:
            self._season[slot] = x - self._sc[S_LEVEL]
            self._seen[slot] = 1
        else:
            deviation = x - self._sc[S_LEVEL] - self._season[slot]
            self._sc[S_SMOOTH] += 2.0 / (self.period + 1) * (deviation - self._sc[S_SMOOTH])
            self._sc[S_LEVEL] += self.alpha_level * deviation
            rate = 1.0 / (visits + 1)
            if rate < self.alpha_season:
                rate = self.alpha_season
            self._season[slot] += rate * self._clipped(
                x - self._sc[S_LEVEL] - self._season[slot])
            self._seen[slot] = visits + 1 if visits < 255 else 255
        visits = self._daily_seen[hour]
        rate = 1.0 / (visits + 1)
        if rate < self.alpha_season:
            rate = self.alpha_season
        self._daily[hour] += rate * self._clipped(x - self._sc[S_LEVEL] - self._daily[hour])
        self._daily_seen[hour] = visits + 1 if visits < 255 else 255

    def learn(self, long slot, double x, double temp):
        """One step: reading `x` (NaN = missing) at week slot `slot`, temperature `temp`."""
        if not 0 <= slot < DAYS * self.period:
            checks.slot_index(slot, DAYS * self.period)
        cdef double anomaly = NAN
        cdef long t, col
        if not isnan(x):
            self._learn_errors(slot, x)
            self._update_baseline(slot, x)
            self._sc[S_SEEN] += 1
        if not isnan(temp):
            if isnan(self._sc[S_TEMP]):
                self._sc[S_TEMP] = temp
            else:
                self._sc[S_TEMP] = self._sc[S_TEMP] + SCALE_RATE * (temp - self._sc[S_TEMP])
            anomaly = temp - self._sc[S_TEMP]
        t = <long>self._sc[S_STEPS]
        col = t % self._ring.shape[1]
        self._ring[RING_Y, col] = x
        self._ring[RING_SMOOTH, col] = self._sc[S_SMOOTH]
        self._ring[RING_LEVEL, col] = self._sc[S_LEVEL]
        self._ring[RING_TAU, col] = anomaly
        self._ring[RING_SLOT, col] = slot
        self._sc[S_STEPS] = t + 1
        if not isnan(x):
            self._solve()

    def forecast(self, slots):
        """(mean, lower, upper) for steps 1..len(slots) ahead; NaN where not ready yet."""
        cdef Py_ssize_t n = len(slots), h
        if n > self.n_horizons:
            raise ValueError(f"at most {self.n_horizons} horizons, got {n}")
        mean, lower, upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        cdef double[::1] mv = mean, lv = lower, uv = upper
        cdef long origin = <long>self._sc[S_STEPS] - 1, slot
        cdef double level = self._sc[S_LEVEL], value
        cdef double ready = pure_forecast.MIN_RESIDUALS_PER_PERIOD * self.period
        cdef double f[K]
        if self._sc[S_SEEN] < self.period or isnan(level):
            return mean, lower, upper
        for h in range(1, n + 1):
            slot = int(slots[h - 1])
            if not 0 <= slot < DAYS * self.period:
                checks.slot_index(slot, DAYS * self.period)
            if isnan(self._season_of(slot)):
                continue
            self._features(origin, origin + h, slot, level, f)
            value = level + self._dot(h - 1, f)
            mv[h - 1] = value
            if self._interval[h - 1, Q_COUNT] >= ready:
                lv[h - 1] = value + self._interval[h - 1, Q_LO]
                uv[h - 1] = value + self._interval[h - 1, Q_HI]
        return mean, lower, upper
