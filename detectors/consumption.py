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

MIN_SIGMA_KWH = 0.02
REL_SIGMA_FLOOR = 0.15


def peer_factor(values: np.ndarray, mean: np.ndarray, usable: np.ndarray,
                min_peers: int = 3) -> float:
    """Median ratio of consumption to baseline across usable meters, clipped to [0.5, 2].

    >>> peer_factor(np.array([2.0, 4.0, 1.1]), np.array([1.0, 2.0, 1.0]), np.ones(3, bool))
    2.0
    """
    ok = usable & (mean > MIN_SIGMA_KWH) & np.isfinite(mean)
    if ok.sum() < min_peers:
        return 1.0
    return float(np.clip(np.median(values[ok] / mean[ok]), 0.5, 2.0))


def expected(mean: np.ndarray, var: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Expected value and its standard deviation, scaled by the peer factor."""
    mu = factor * np.nan_to_num(mean, nan=0.0)
    sigma = np.sqrt(np.nan_to_num(var, nan=0.0)) * factor
    return mu, np.maximum(sigma, np.maximum(MIN_SIGMA_KWH, REL_SIGMA_FLOOR * mu))


def learn(mean: np.ndarray, var: np.ndarray, count: np.ndarray, values: np.ndarray,
          mask: np.ndarray, fading: float) -> None:
    """EW update, in place, of the rows selected by `mask`.

    >>> m, v, n = np.full(1, np.nan), np.full(1, np.nan), np.zeros(1, np.int16)
    >>> for x in (1.0, 3.0):
    ...     learn(m, v, n, np.array([x]), np.ones(1, bool), 0.1)
    >>> float(m[0]), float(v[0]), int(n[0])
    (2.0, 1.0, 2)
    """
    if not mask.any():
        return
    n = count[mask].astype(np.float64) + 1
    alpha = np.maximum(fading, 1.0 / n)
    old_mean = np.nan_to_num(mean[mask], nan=0.0)
    old_var = np.nan_to_num(var[mask], nan=0.0)
    x = values[mask]
    diff = x - old_mean
    new_mean = old_mean + alpha * diff
    mean[mask] = new_mean
    var[mask] = (1 - alpha) * (old_var + alpha * diff * diff)
    count[mask] = np.minimum(n, 30_000)


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
        self.mean = np.full((meters, slots), np.nan)
        self.var = np.full((meters, slots), np.nan)
        self.count = np.zeros((meters, slots), np.int16)
        self.cusum = np.zeros(meters)
        self.peak = np.zeros(meters)
        self.fading, self.warmup = fading, warmup
        self.allowance, self.scale, self.learn_z = allowance, scale, learn_z

    def step(self, values: np.ndarray, slot: int, present: np.ndarray) -> np.ndarray:
        """Feed one period (NaN or `present` False = missing); return each meter's z deficit."""
        mean, var, count = self.mean[:, slot], self.var[:, slot], self.count[:, slot]
        present = present & np.isfinite(values)
        x = np.where(present, values, 0.0)
        warm = count >= self.warmup
        factor = peer_factor(x, mean, present & warm)
        mu, sigma = expected(mean, var, factor)
        z = np.where(present & warm, (mu - x) / sigma, 0.0)
        self.cusum = np.where(present & warm,
                              np.maximum(0.0, self.cusum + np.minimum(z, 6.0) - self.allowance),
                              self.cusum)
        self.peak = np.maximum(self.peak, self.cusum)
        calm = present & ((~warm) | (z < self.learn_z))
        learn(mean, var, count, x / factor, calm, self.fading)
        self.mean[:, slot], self.var[:, slot], self.count[:, slot] = mean, var, count
        return z

    def risk(self) -> np.ndarray:
        """Each meter's risk in [0, 1] from the largest evidence seen so far."""
        return 1.0 - np.exp(-self.peak / self.scale)
