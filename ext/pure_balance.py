"""Pure-Python twin of `_balance.pyx`: energy-balance attribution for one area."""

from __future__ import annotations

import math

import numpy as np

from . import checks, layout
from .pure_bank import PureBank


class LossAttribution(PureBank):
    """Shares an area's loss increase among meters whose consumption dropped.

    >>> bank = LossAttribution(3, fading_factor=1.0)
    >>> shares, unexplained = bank.update_many(3.0, [5.0, 5.0, 5.0], [1.0, 3.0, 6.0])
    >>> shares.tolist(), unexplained
    ([2.0, 1.0, 0.0], 0.0)
    """

    _ARRAYS = (("suspicion", "f8", (), 0.0),)
    _PARAMS = ("fading_factor",)

    def __init__(self, n_meters: int, fading_factor: float = 0.1) -> None:
        self.fading_factor = checks.fraction("fading_factor", fading_factor)
        layout.allocate(self, n_meters)

    def update_many(self, loss_increase: float, expected: object,
                    actual: object) -> tuple[np.ndarray, float]:
        """Attribute one interval's loss increase; returns (attributed kWh per meter, unexplained).

        A meter with a NaN expected or actual value has no drop; a negative or
        NaN loss increase attributes nothing and leaves nothing unexplained.
        """
        exp = checks.readings("expected", expected, self.n_meters).tolist()
        act = checks.readings("actual", actual, self.n_meters).tolist()
        loss = float(loss_increase)
        drops = [e - a if e - a > 0.0 else 0.0 for e, a in zip(exp, act, strict=True)]
        total = 0.0
        for drop in drops:
            total += drop
        explained = 0.0 if math.isnan(loss) or loss <= 0.0 else min(loss, total)
        a = self.fading_factor
        out = np.zeros(self.n_meters)
        for i, drop in enumerate(drops):
            share = explained * (drop / total) if explained > 0.0 else 0.0
            out[i] = share
            self.suspicion[i] = a * share + (1.0 - a) * float(self.suspicion[i])
        if explained == 0.0:
            return out, (loss if loss > 0.0 else 0.0)
        return out, loss - explained
