"""Graded theft risk from theft features, without labels: the mean of per-feature percentiles.

Why percentiles among peers and a plain mean: the features live on
different scales with heavy tails, and 86 labelled customers are far too few
to fit weights that would carry to another utility. A meter's percentile in
each feature (ties share their average rank) is scale free; their mean
ranks a meter high only when several independent signs agree, and never
reaches 1.0, so the risk keeps ranking where a saturating score would tie.
"""

from __future__ import annotations

import numpy as np

from gridwatch.detectors.theft_features import SIGNED_FEATURES


def percentiles(values: np.ndarray) -> np.ndarray:
    """Mid-rank of each value among all of them, in (0, 1); equal values share their rank.

    >>> percentiles(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [0.75, 0.125, 0.75, 0.375]
    """
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("percentiles: NaN among the values")
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (below[inverse] + counts[inverse] / 2.0) / len(values)


def feature_percentiles(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every feature as percentiles among the meters given."""
    return {name: percentiles(values) for name, values in features.items()}


def unsupervised_risk(features: dict[str, np.ndarray],
                      names: tuple[str, ...] = SIGNED_FEATURES) -> np.ndarray:
    """Mean percentile of the features whose direction is known (higher = riskier).

    >>> f = {"drop": np.array([0.1, 0.5, 0.0]), "zero_runs": np.array([0.0, 0.2, 0.1])}
    >>> unsupervised_risk(f, ("drop", "zero_runs")).round(3).tolist()
    [0.333, 0.833, 0.333]
    """
    missing = [n for n in names if n not in features]
    if missing:
        raise ValueError(f"unsupervised_risk: features missing: {', '.join(missing)}")
    return np.mean([percentiles(features[n]) for n in names], axis=0)


def strongest_signs(pct: dict[str, np.ndarray], meter: int, top: int = 3,
                    names: tuple[str, ...] = SIGNED_FEATURES) -> list[tuple[str, float]]:
    """The `top` features in which `meter` stands highest among its peers: the evidence
    an inspector reads ("drop: higher than 95 % of peers").

    >>> pct = {"drop": np.array([0.9, 0.1]), "zero_runs": np.array([0.5, 0.5])}
    >>> strongest_signs(pct, 0, names=("drop", "zero_runs"))
    [('drop', 0.9), ('zero_runs', 0.5)]
    """
    ranked = sorted(names, key=lambda n: -pct[n][meter])
    return [(n, round(float(pct[n][meter]), 3)) for n in ranked[:top]]
