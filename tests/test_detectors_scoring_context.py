"""`gridwatch score`'s default scorer on hand-made streams, and its two kernels agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridwatch.detectors.scoring import DEFAULT_SCORER, ContextSurprise, make_scorer
from gridwatch.ext import compiled, fallback


def run(values: list[float], **params: float) -> np.ndarray:
    det = ContextSurprise(**params)
    out = []
    for x in values:
        out.append(det.score_one(x))
        det.learn_one(x)
    return np.array(out)


def high_runs(scores: np.ndarray, level: float) -> list[int]:
    """Lengths of the runs of consecutive scores at or above `level`."""
    runs, length = [], 0
    for s in scores.tolist():
        if s >= level:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs + ([length] if length else [])


def quantised(n: int, seed: int = 1) -> list[float]:
    """A CPU-like stream: a noisy level rounded to 0.5 steps."""
    rng = np.random.default_rng(seed)
    return (np.round((10 + rng.normal(0, 1.0, n)) * 2) / 2).tolist()


def test_it_is_the_default():
    assert DEFAULT_SCORER == "context-surprise"
    assert isinstance(make_scorer(DEFAULT_SCORER, {}), ContextSurprise)


def test_quantised_stream_with_one_spike_gives_one_short_burst():
    x = quantised(4000)
    x[3000] = 40.0
    scores = run(x)
    assert scores[3000] >= 0.9
    assert scores[3000] == scores[1000:].max()
    after = high_runs(scores[2990:3200], 0.5)
    assert after and max(after) <= 3
    assert (scores[1000:2990] >= 0.9).sum() <= 3


def test_sustained_level_shift_gives_a_short_burst_then_settles():
    rng = np.random.default_rng(2)
    x = (10 + rng.normal(0, 1, 6000)).tolist()
    x[3000:] = [v + 15 for v in x[3000:]]
    scores = run(x)
    assert scores[3000:3010].max() >= 0.9
    assert (scores[3000:3300] >= 0.5).sum() <= 10
    assert scores[3500:].max() < 0.5


def test_constant_with_spikes_gives_no_runs_of_one():
    x = [3.0] * 6000
    for t in range(400, 6000, 250):
        x[t] = 9.0
    scores = run(x)
    assert max(high_runs(scores, 1.0), default=0) <= 1
    assert max(high_runs(scores, 0.5), default=0) <= 1


def test_discrete_stream_of_a_few_integers_settles():
    rng = np.random.default_rng(3)
    x = rng.choice([0.0, 1.0, 2.0, 5.0], size=5000, p=[0.6, 0.2, 0.15, 0.05]).tolist()
    scores = run(x)
    assert (scores[1000:] >= 0.9).sum() <= 5


@pytest.mark.parametrize("make", [
    lambda rng: rng.normal(0, 1, 3000),
    lambda rng: np.cumsum(rng.normal(0, 1, 3000)) * 1e6,
    lambda rng: np.round(rng.exponential(1e-4, 3000), 6),
    lambda rng: np.where(rng.random(3000) < 0.01, 1e9, 0.0),
])
def test_scores_lie_in_unit_interval(make):
    scores = run(make(np.random.default_rng(4)).tolist())
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert np.all(np.isfinite(scores))


def test_scale_free():
    rng = np.random.default_rng(5)
    x = np.sin(np.arange(4000) / 15) + rng.normal(0, 0.1, 4000)
    x[3100] += 3
    a = run(x.tolist())
    b = run((x * 1000 + 5e4).tolist())
    assert np.corrcoef(a, b)[0, 1] > 0.95


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="levels"):
        ContextSurprise(levels=1)
    with pytest.raises(ValueError, match="quantile"):
        ContextSurprise(quantile=0.7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cython_and_pure_python_give_identical_scores(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, 1500), rng.normal(30, 5, 500),   # grid doubles
                        np.round(rng.normal(0, 0.01, 2000), 3)])          # and halves
    x[[900, 2500, 3500]] += [8, -60, 0.5]
    compiled_core, pure_core = compiled.ContextCore(), fallback.ContextCore()
    for value in x.tolist():
        a, b = compiled_core.score(value), pure_core.score(value)
        assert a == b or (math.isnan(a) and math.isnan(b))
        compiled_core.learn(value)
        pure_core.learn(value)
    assert compiled_core.width == pure_core.width
    assert compiled_core.seen == pure_core.seen
