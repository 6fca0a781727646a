"""Pure-Python twin of `_seasonal.pyx`: robust seasonal baseline per meter and slot."""

from __future__ import annotations

import math

import numpy as np

from . import checks, layout
from .pure_bank import PureBank

# Mean absolute deviation of a normal variable is sigma * sqrt(2 / pi).
MAD_TO_SIGMA = 1.2533141373155003


class SeasonalBaseline(PureBank):
    """Per meter and slot: EW level and EW absolute deviation, with winsorised updates.

    `update(i, slot, x)` returns the robust z-score of x against the baseline
    before folding x in (NaN while the slot has fewer than `warmup` readings).

    >>> base = SeasonalBaseline(1, n_slots=2, fading_factor=0.5, warmup=2)
    >>> [round(base.update(0, 0, x), 2) for x in [10.0, 12.0, 11.0, 30.0]]
    [nan, nan, 0.0, 15.15]
    >>> round(float(base.levels[0, 0]), 3)  # 30 was winsorised to 11 + 3 * scale
    12.881
    """

    _ARRAYS = (("levels", "f8", ("n_slots",), 0.0), ("spreads", "f8", ("n_slots",), 0.0),
               ("counts", "u1", ("n_slots",), 0))
    _PARAMS = ("n_slots", "fading_factor", "clip", "warmup", "min_scale")

    def __init__(self, n_meters: int, n_slots: int = 24, fading_factor: float = 0.1,
                 clip: float = 3.0, warmup: int = 4, min_scale: float = 1e-3) -> None:
        self.n_slots = checks.positive_int("n_slots", n_slots)
        self.fading_factor = checks.fraction("fading_factor", fading_factor)
        self.clip = checks.non_negative("clip", clip)
        self.warmup = checks.positive_int("warmup", warmup)
        if self.warmup > 255:
            raise ValueError(f"warmup must be <= 255 (slot counts are 8-bit), got {warmup}")
        self.min_scale = checks.non_negative("min_scale", min_scale)
        layout.allocate(self, n_meters)

    def _step(self, i: int, s: int, x: float) -> float:
        c = int(self.counts[i, s])
        if c == 0:
            self.levels[i, s], self.counts[i, s] = x, 1
            return math.nan
        a = self.fading_factor
        level, spread = float(self.levels[i, s]), float(self.spreads[i, s])
        z, xe = math.nan, x
        if c >= self.warmup:
            scale = spread * MAD_TO_SIGMA + self.min_scale
            z = (x - level) / scale
            if self.clip > 0.0:
                bound = self.clip * scale
                if x - level > bound:
                    xe = level + bound
                elif level - x > bound:
                    xe = level - bound
        self.levels[i, s] = a * xe + (1.0 - a) * level
        deviation = abs(xe - level)
        self.spreads[i, s] = deviation if c == 1 else a * deviation + (1.0 - a) * spread
        self.counts[i, s] = min(c + 1, 255)
        return z

    def update(self, i: int, slot: int, x: float) -> float:
        """Score then fold one reading of meter `i` at `slot`; NaN readings are ignored."""
        self._check(i)
        checks.slot_index(slot, self.n_slots)
        return math.nan if math.isnan(x) else self._step(i, slot, float(x))

    def update_many(self, slot: int, x: object) -> np.ndarray:
        """Score then fold one reading per meter, all at `slot`; returns the z-scores."""
        checks.slot_index(slot, self.n_slots)
        out = np.full(self.n_meters, np.nan)
        for i, value in enumerate(checks.readings("x", x, self.n_meters).tolist()):
            if not math.isnan(value):
                out[i] = self._step(i, slot, value)
        return out

    def expected(self, slot: int) -> np.ndarray:
        """Baseline level of every meter at `slot` (NaN where the slot is still warming up)."""
        checks.slot_index(slot, self.n_slots)
        return np.where(self.counts[:, slot] >= self.warmup, self.levels[:, slot], np.nan)
