"""Pure-Python twins of `_stats.pyx`: EW, Welford and rolling mean/variance per meter.

Same API and the same floating-point operation order as the compiled banks
(and as River), so results are bit-identical; only speed differs.
"""

from __future__ import annotations

import math

import numpy as np

from . import checks, layout
from .pure_bank import PureBank


class _SteppedBank(PureBank):
    """Banks whose update is one `_step(i, x)` (defined by each subclass) per present reading."""

    def update(self, i: int, x: float) -> None:
        """Fold one reading of meter `i` in (NaN = missing, ignored)."""
        self._check(i)
        if not math.isnan(x):
            self._step(i, float(x))

    def update_many(self, x: object) -> None:
        """Fold one reading per meter in."""
        for i, value in enumerate(checks.readings("x", x, self.n_meters).tolist()):
            if not math.isnan(value):
                self._step(i, value)


class EWStats(_SteppedBank):
    """Exponentially weighted mean and variance per meter (River `stats.EWMean`/`EWVar`).

    >>> bank = EWStats(2, fading_factor=0.5)
    >>> for x in [1, 3, 5]:
    ...     bank.update(0, x)
    >>> bank.mean(0), bank.var(0)
    (3.5, 2.75)
    """

    _ARRAYS = (("means", "f8", (), 0.0), ("squares", "f8", (), 0.0), ("seen", "u1", (), 0))
    _PARAMS = ("fading_factor",)

    def __init__(self, n_meters: int, fading_factor: float = 0.5) -> None:
        self.fading_factor = checks.fraction("fading_factor", fading_factor, allow_zero=True)
        layout.allocate(self, n_meters)

    def _step(self, i: int, x: float) -> None:
        a = self.fading_factor
        if self.seen[i]:
            self.means[i] = a * x + (1.0 - a) * self.means[i]
            self.squares[i] = a * (x * x) + (1.0 - a) * self.squares[i]
        else:
            self.means[i] = x
            self.squares[i] = x * x
            self.seen[i] = 1

    def mean(self, i: int) -> float:
        self._check(i)
        return float(self.means[i])

    def var(self, i: int) -> float:
        self._check(i)
        m = float(self.means[i])
        return float(self.squares[i]) - m * m

    def variances(self) -> np.ndarray:
        return self.squares - self.means * self.means


class _Welford(_SteppedBank):
    """Welford updates shared by MeanVar and RollingMeanVar."""

    ddof: int

    def _add(self, i: int, x: float) -> None:
        old = float(self.means[i])
        n = float(self.counts[i]) + 1.0
        new = old + (1.0 / n) * (x - old)
        self.counts[i], self.means[i] = n, new
        self.sums_sq[i] = float(self.sums_sq[i]) + (x - old) * (x - new)

    def mean(self, i: int) -> float:
        self._check(i)
        return float(self.means[i])

    def var(self, i: int) -> float:
        self._check(i)
        n = float(self.counts[i])
        return float(self.sums_sq[i]) / (n - self.ddof) if n > self.ddof else 0.0

    def variances(self) -> np.ndarray:
        return np.divide(self.sums_sq, self.counts - self.ddof, out=np.zeros(self.n_meters),
                         where=self.counts > self.ddof)

    def _step(self, i: int, x: float) -> None:
        self._add(i, x)


class MeanVar(_Welford):
    """Running mean and variance per meter (River `stats.Mean` / `stats.Var`).

    >>> bank = MeanVar(1)
    >>> for x in [3, 5, 4, 7]:
    ...     bank.update(0, x)
    >>> bank.mean(0), round(bank.var(0), 6)
    (4.75, 2.916667)
    """

    _ARRAYS = (("counts", "f8", (), 0.0), ("means", "f8", (), 0.0), ("sums_sq", "f8", (), 0.0))
    _PARAMS = ("ddof",)

    def __init__(self, n_meters: int, ddof: int = 1) -> None:
        self.ddof = checks.positive_int("ddof", ddof, minimum=0)
        layout.allocate(self, n_meters)


class RollingMeanVar(_Welford):
    """Mean and variance over each meter's last `window` readings.

    Parity: River `utils.Rolling(stats.Var, window_size=w, ddof=d)`: revert the
    oldest reading, then add the new one.

    >>> bank = RollingMeanVar(1, window=2)
    >>> for x in [1, 2, 10]:
    ...     bank.update(0, x)
    >>> bank.mean(0), bank.var(0)
    (6.0, 32.0)
    """

    _ARRAYS = (("values", "f8", ("window",), 0.0), ("positions", "i4", (), 0),
               ("counts", "f8", (), 0.0), ("means", "f8", (), 0.0), ("sums_sq", "f8", (), 0.0))
    _PARAMS = ("window", "ddof")

    def __init__(self, n_meters: int, window: int = 8, ddof: int = 1) -> None:
        self.window = checks.positive_int("window", window)
        self.ddof = checks.positive_int("ddof", ddof, minimum=0)
        layout.allocate(self, n_meters)

    def _step(self, i: int, x: float) -> None:
        p = int(self.positions[i])
        if float(self.counts[i]) == float(self.window):
            leaving = float(self.values[i, p])
            old = float(self.means[i])
            n = float(self.counts[i]) - 1.0
            new = 0.0 if n == 0.0 else old - (1.0 / n) * (leaving - old)
            self.counts[i], self.means[i] = n, new
            self.sums_sq[i] = float(self.sums_sq[i]) - (leaving - old) * (leaving - new)
        self._add(i, x)
        self.values[i, p] = x
        self.positions[i] = p + 1 if p + 1 < self.window else 0
