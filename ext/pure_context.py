"""Pure-Python twin of `_context.pyx`: the kernel of `gridwatch score`'s default scorer.

Same state, the same floating-point operations in the same order, so both
give bit-identical scores; see `gridwatch.detectors.scoring.ContextSurprise`
for what the kernel measures and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

BIN_LIMIT = 1_000_000_000          # bins further than this many grid steps away are clipped
LOG_TAIL_FLOOR = math.log(1e-10)   # a tail probability this small scores 1.0
TINY_TAIL = 1e-300                 # keeps log() finite when erfc underflows


def log_tail(z: float) -> float:
    """Score of a level z: log of its Gaussian upper tail, 1.0 from a tail of 1e-10 on."""
    tail = max(0.5 * math.erfc(z / math.sqrt(2.0)), TINY_TAIL)
    return min(math.log(tail) / LOG_TAIL_FLOOR, 1.0)


def floor_half(b: int) -> int:
    """floor(b / 2) for any integer: the bin of the same value on a grid twice as wide."""
    return b // 2


def double_bin(b: int) -> int:
    """A bin of the same value on a grid half as wide (its lower half: approximate)."""
    return 2 * b


def _remap_keys(table: dict, step: Callable[[int], int]) -> dict:
    """The table with every bin in its keys mapped by `step`; counts of merged keys add up."""
    out: dict = {}
    for key, count in table.items():
        new = tuple(step(b) for b in key) if isinstance(key, tuple) else step(key)
        out[new] = out.get(new, 0) + count
    return out


class ContextCore:
    """Contextual surprise of each value, turned into an anomaly likelihood; see the scorer."""

    def __init__(self, levels: int = 8, quantile: float = 0.02, quantile_rate: float = 0.01,
                 short: int = 10, long: int = 300, sd_floor: float = 0.05,
                 warm: int = 30, probation: int = 100, alarm: float = 0.5, rest: int = 100,
                 quiet_factor: float = 0.25) -> None:
        self.levels, self.quantile, self.quantile_rate = levels, quantile, quantile_rate
        self.short, self.long, self.sd_floor = short, long, sd_floor
        self.warm, self.probation = warm, probation
        self.alarm, self.rest, self.quiet_factor = alarm, rest, quiet_factor
        self.n = 0
        self.origin = 0.0
        self.width = 0.0
        self.q_lo = math.inf
        self.q_hi = -math.inf
        self.history = 0            # bins seen since warm-up, capped at 2 (for the contexts)
        self.prev1 = 0
        self.prev2 = 0
        self.seen: dict = {}        # bin -> count
        self.after1: dict = {}      # (previous bin, bin) -> count
        self.from1: dict = {}       # previous bin -> count
        self.after2: dict = {}      # (bin two back, previous bin, bin) -> count
        self.from2: dict = {}       # (bin two back, previous bin) -> count
        self.recent = [0.0] * max(short - 1, 0)
        self.mean = 0.0
        self.var = 0.0
        self.learned = 0            # surprises folded into mean/var
        self.quiet_left = 0
        self.alarm_z = 0.0          # the level that started the current rest

    # ---- scoring -------------------------------------------------------------------------

    def _bin(self, x: float) -> int:
        v = math.floor((x - self.origin) / self.width)
        return int(min(max(v, -BIN_LIMIT), BIN_LIMIT))

    def _surprise(self, b: int) -> float:
        """Mean of: novelty of the bin, and how unexpected it is after the last one and two."""
        s0 = 1.0 / (1.0 + self.seen.get(b, 0))
        s1 = s0
        s2 = s0
        if self.history >= 1:
            s1 = 1.0 - self.after1.get((self.prev1, b), 0) / (self.from1.get(self.prev1, 0) + 1.0)
        if self.history >= 2:
            ctx = (self.prev2, self.prev1)
            s2 = 1.0 - self.after2.get((*ctx, b), 0) / (self.from2.get(ctx, 0) + 1.0)
        return (s0 + s1 + s2) / 3.0

    def _level(self, surprise: float) -> float:
        """z of this surprise, or of the mean of the last `short` ones, whichever is larger.

        Both against the long-run mean and deviation of surprise; the window's
        deviation is that of a mean of `short` values.
        """
        total = surprise
        for value in self.recent:
            total += value
        sd = math.sqrt(max(self.var, self.sd_floor * self.sd_floor))
        point = (surprise - self.mean) / sd
        window = (total / self.short - self.mean) / (sd / math.sqrt(self.short))
        return max(point, window)

    def _stronger(self, z: float) -> bool:
        """Outside a rest, or above the bar of the alarm that started it, which falls over it."""
        return self.quiet_left == 0 or z > self.alarm_z * self.quiet_left / self.rest

    def score(self, x: float) -> float:
        """Score of `x` in [0, 1] given everything learned so far; changes no state."""
        if self.n < self.probation or self.n < self.warm:
            return 0.0
        z = self._level(self._surprise(self._bin(x)))
        final = log_tail(z)
        return final * self.quiet_factor if self.quiet_left > 0 and not self._stronger(z) else final

    # ---- learning ------------------------------------------------------------------------

    def learn(self, x: float) -> None:
        """Fold `x` in: quiet period, surprise statistics, context counts, grid."""
        if self.n < self.warm:
            self._warm_up(x)
            return
        b = self._bin(x)
        surprise = self._surprise(b)
        z = self._level(surprise)
        if self.n >= self.probation and self._stronger(z) and log_tail(z) >= self.alarm:
            self.quiet_left, self.alarm_z = self.rest, z
        elif self.quiet_left > 0:
            self.quiet_left -= 1
        self._learn_surprise(surprise)
        self._count(b)
        self._track_range(x)
        self.n += 1

    def _warm_up(self, x: float) -> None:
        self.q_lo = min(self.q_lo, x)
        self.q_hi = max(self.q_hi, x)
        self.n += 1
        if self.n == self.warm:
            self.origin = self.q_lo
            self.width = max((self.q_hi - self.q_lo) / self.levels,
                             1e-9 * max(abs(self.origin), 1.0))

    def _learn_surprise(self, surprise: float) -> None:
        if self.short > 1:
            self.recent = [*self.recent[1:], surprise]
        self.learned += 1
        alpha = max(1.0 / self.learned, 1.0 / self.long)
        diff = surprise - self.mean
        self.mean += alpha * diff
        self.var = (1.0 - alpha) * (self.var + alpha * diff * diff)

    def _count(self, b: int) -> None:
        self.seen[b] = self.seen.get(b, 0) + 1
        if self.history >= 1:
            self.after1[(self.prev1, b)] = self.after1.get((self.prev1, b), 0) + 1
            self.from1[self.prev1] = self.from1.get(self.prev1, 0) + 1
        if self.history >= 2:
            ctx = (self.prev2, self.prev1)
            self.after2[(*ctx, b)] = self.after2.get((*ctx, b), 0) + 1
            self.from2[ctx] = self.from2.get(ctx, 0) + 1
        self.prev2, self.prev1 = self.prev1, b
        self.history = min(self.history + 1, 2)

    def _track_range(self, x: float) -> None:
        """Robust range by stochastic quantile steps; regrid when it outgrows the grid."""
        step = self.quantile_rate * max(self.q_hi - self.q_lo, self.width)
        p = self.quantile
        self.q_lo += -step * (1.0 - p) if x < self.q_lo else step * p
        self.q_hi += step * (1.0 - p) if x > self.q_hi else -step * p
        span = self.q_hi - self.q_lo
        while span > 2.0 * self.levels * self.width:
            self._regrid(2.0, floor_half)
        while span * 4.0 < self.levels * self.width and self.width > 1e-9 * max(
                abs(self.origin), 1.0):
            self._regrid(0.5, double_bin)

    def _regrid(self, factor: float, step: Callable[[int], int]) -> None:
        self.width *= factor
        self.seen = _remap_keys(self.seen, step)
        self.after1 = _remap_keys(self.after1, step)
        self.from1 = _remap_keys(self.from1, step)
        self.after2 = _remap_keys(self.after2, step)
        self.from2 = _remap_keys(self.from2, step)
        self.prev1, self.prev2 = step(self.prev1), step(self.prev2)
