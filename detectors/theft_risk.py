"""Graded theft risk from theft features without labels: peer z-scores, averaged.

Why robust z-scores among peers and a plain mean: the features live on
different scales with heavy tails, and 86 labelled customers are far too few
to fit weights that would carry to another utility. Each feature is
standardised against the meters being ranked (median, and the median
absolute deviation floored at the smallest difference that means something
for that feature, so a feature most meters share at zero does not blow up),
clipped to +-3 so no single sign decides, and averaged: a meter ranks high
when several independent signs agree. The risk is the logistic of that
mean, in (0.05, 0.95): graded, never saturated, and distinct meters get
distinct risks.
"""

from __future__ import annotations

import math

import numpy as np

from .theft_features import SIGNED_FEATURES

CLIP_Z = 3.0
MAD_TO_SIGMA = 1.4826
# smallest difference that means something, per feature (its units)
SCALE_FLOORS = {"drop": 0.05, "level_shifts": 0.05, "level_wander": 0.02, "variability": 0.02,
                "rhythm_loss": 0.02, "zero_runs": 0.01, "missing_runs": 0.01, "peer_level": 0.1}


def peer_scores(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each feature as a robust z-score among the meters given, clipped to +-3.

    >>> peer_scores({"drop": np.array([0.0, 0.1, 0.1, 0.1, 2.0])})["drop"].round(2).tolist()
    [-2.0, 0.0, 0.0, 0.0, 3.0]
    """
    out = {}
    for name, values in features.items():
        if name not in SCALE_FLOORS:
            raise ValueError(f"peer_scores: unknown feature {name!r}")
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"peer_scores: {name} has NaN or infinite values")
        centre = np.median(values)
        scale = max(MAD_TO_SIGMA * float(np.median(np.abs(values - centre))), SCALE_FLOORS[name])
        out[name] = np.clip((values - centre) / scale, -CLIP_Z, CLIP_Z)
    return out


def unsupervised_risk(scores: dict[str, np.ndarray],
                      names: tuple[str, ...] = SIGNED_FEATURES) -> np.ndarray:
    """Logistic of the mean peer score of the features whose direction is known.

    >>> s = {"drop": np.array([3.0, 0.0, -1.0]), "zero_runs": np.array([1.0, 0.0, 0.0])}
    >>> unsupervised_risk(s, ("drop", "zero_runs")).round(3).tolist()
    [0.881, 0.5, 0.378]
    """
    missing = [n for n in names if n not in scores]
    if missing:
        raise ValueError(f"unsupervised_risk: features missing: {', '.join(missing)}")
    return 1.0 / (1.0 + np.exp(-np.mean([scores[n] for n in names], axis=0)))


def logit(risk: float) -> float:
    """Log-odds of a risk in (0, 1).

    >>> logit(0.5)
    0.0
    """
    if not 0.0 < risk < 1.0:
        raise ValueError(f"logit: risk {risk} outside (0, 1)")
    return math.log(risk / (1.0 - risk))


def strongest_signs(scores: dict[str, np.ndarray], meter: int, top: int = 3,
                    names: tuple[str, ...] = SIGNED_FEATURES) -> list[tuple[str, float]]:
    """The `top` features in which `meter` stands out most above its peers (peer z-score):
    the evidence an inspector reads.

    >>> s = {"drop": np.array([2.5, 0.1]), "zero_runs": np.array([0.4, 0.0])}
    >>> strongest_signs(s, 0, names=("drop", "zero_runs"))
    [('drop', 2.5), ('zero_runs', 0.4)]
    """
    ranked = sorted(names, key=lambda n: -scores[n][meter])
    return [(n, round(float(scores[n][meter]), 2)) for n in ranked[:top]]
