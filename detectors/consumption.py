"""Per-meter seasonal consumption baseline and the drop score built on it.

Why one piece for two jobs: the worker judges every meter against its own
usual consumption for the time of day (one slot per balance bin), and
`gridwatch theft rank` judges customers of a public theft data set against
theirs (one slot per day); both use these functions on whole columns of
meters at once. The mean and variance are exponentially weighted like
River's `EWMean`/`EWVar` (weight ``fading`` on the new value), with a
``1/n`` warm-up so the first days are not dominated by the initial value.
A *peer factor* (median of each meter's consumption over its baseline,
across the area's meters) removes what all meters share (a cold day, a
holiday), so a meter is judged on what sets it apart from its peers.
"""

from __future__ import annotations

import numpy as np

from ..ext import SeasonalBaseline

MIN_SIGMA_KWH = 0.02
REL_SIGMA_FLOOR = 0.15
CLIP_SIGMAS = 3.0
MAD_TO_SIGMA = 1.2533141373155003   # sigma / mean absolute deviation of a normal variable


def peer_factor(values: np.ndarray, mean: np.ndarray, usable: np.ndarray,
                min_peers: int = 3) -> float:
    """Median ratio of consumption to baseline across usable meters, clipped to [0.5, 2].

    >>> peer_factor(np.array([2.0, 4.0, 1.1]), np.array([1.0, 2.0, 1.0]), np.ones(3, bool))
    2.0
    """
    ok = usable & np.isfinite(mean) & (np.nan_to_num(mean) > MIN_SIGMA_KWH)
    if ok.sum() < min_peers:
        return 1.0
    return float(np.clip(np.median(values[ok] / mean[ok]), 0.5, 2.0))


def baseline_params(slots: int, fading: float, warmup: int) -> dict[str, object]:
    """Parameters of the `SeasonalBaseline` kernel as the detectors use it."""
    return {"n_slots": slots, "fading_factor": fading, "clip": CLIP_SIGMAS, "warmup": warmup,
            "min_scale": MIN_SIGMA_KWH}


class MeterBaselines:
    """Seasonal baseline of a set of meters: the `gridwatch.ext.SeasonalBaseline` kernel.

    The kernel keeps, per meter and slot, an EW level and EW absolute
    deviation with winsorised updates (Cython, one call per slot for all
    meters). The worker binds it to the area state's columns
    (`gridwatch.detectors.state.bind_kernel`); `theft rank` gives it its own.

    >>> base = MeterBaselines(SeasonalBaseline(2, **baseline_params(1, 0.5, 2)))
    >>> for x in (10.0, 12.0, 11.0):
    ...     base.learn(0, np.array([x, np.nan]))
    >>> mu, sigma, warm = base.expected(0, 1.0)
    >>> warm.tolist(), round(float(mu[0]), 2)
    ([True, False], 11.0)
    """

    def __init__(self, bank: SeasonalBaseline) -> None:
        self.bank = bank

    def expected(self, slot: int, factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(expected value, its standard deviation, warmed-up mask) of every meter at `slot`,
        scaled by the peer factor."""
        warm = self.bank.counts[:, slot] >= self.bank.warmup
        mu = factor * np.where(warm, self.bank.levels[:, slot], 0.0)
        sigma = factor * self.bank.spreads[:, slot] * MAD_TO_SIGMA
        return mu, np.maximum(sigma, np.maximum(MIN_SIGMA_KWH, REL_SIGMA_FLOOR * mu)), warm

    def levels(self, slot: int) -> np.ndarray:
        """Baseline level at `slot` (NaN while warming up), for the peer factor."""
        return self.bank.expected(slot)

    def learn(self, slot: int, values: np.ndarray) -> None:
        """Fold one period in; NaN entries (missing, suspicious) are not learned."""
        self.bank.update_many(slot, np.ascontiguousarray(values, dtype=np.float64))


class ConsumptionDrop:
    """Leaky CUSUM of standardised consumption deficits against the seasonal baseline.

    One row per meter; `step` takes one period's consumption of every meter.
    Learning stops for a meter while its deficit is suspicious, so a theft
    does not become its new normal.

    >>> det = ConsumptionDrop(meters=2, slots=1)
    >>> for day in range(20):
    ...     x = np.array([10.0, 10.0 if day < 10 else 4.0]) * (1 + 0.05 * (day % 3))
    ...     _ = det.step(x, 0, np.ones(2, bool))
    >>> risk = det.risk()
    >>> bool(risk[1] > 0.9 > 0.1 > risk[0])
    True
    """

    def __init__(self, meters: int, slots: int, fading: float = 0.1, warmup: int = 5,
                 allowance: float = 1.0, scale: float = 8.0, learn_z: float = 2.0) -> None:
        self.baselines = MeterBaselines(
            SeasonalBaseline(meters, **baseline_params(slots, fading, warmup)))
        self.cusum = np.zeros(meters)
        self.peak = np.zeros(meters)
        self.allowance, self.scale, self.learn_z = allowance, scale, learn_z

    def step(self, values: np.ndarray, slot: int, present: np.ndarray) -> np.ndarray:
        """Feed one period (NaN or `present` False = missing); return each meter's z deficit."""
        present = present & np.isfinite(values)
        x = np.where(present, values, 0.0)
        factor = peer_factor(x, self.baselines.levels(slot), present)
        mu, sigma, warm = self.baselines.expected(slot, factor)
        judged = present & warm
        z = np.where(judged, (mu - x) / sigma, 0.0)
        self.cusum = np.where(judged, np.maximum(0.0, self.cusum + np.minimum(z, 6.0)
                                                 - self.allowance), self.cusum)
        self.peak = np.maximum(self.peak, self.cusum)
        calm = present & ((~warm) | (z < self.learn_z))
        self.baselines.learn(slot, np.where(calm, x / factor, np.nan))
        return z

    def risk(self) -> np.ndarray:
        """Each meter's risk in [0, 1] from the largest evidence seen so far."""
        return 1.0 - np.exp(-self.peak / self.scale)
