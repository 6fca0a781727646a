"""Half-Space Trees: identical scores to River on randomised streams, on both implementations.

Streams have missing features (the l_mass tie rule), features unseen at tree
construction (ignored), small windows (so the reference-window swap happens
many times) and random seeds, sizes and limits.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import anomaly, compose, preprocessing

from gridwatch.ext import fallback

FEATURES = ["a", "b", "c"]
few = settings(max_examples=25, deadline=None)
unit = st.floats(min_value=-0.2, max_value=1.2, allow_nan=False)
samples = st.fixed_dictionaries({}, optional={"a": unit, "b": unit, "c": unit, "new": unit})
models = st.fixed_dictionaries({
    "n_trees": st.integers(1, 6), "height": st.integers(0, 6), "window_size": st.integers(1, 12),
    "seed": st.integers(0, 10_000),
    "limits": st.one_of(st.none(), st.just({"a": (-1.0, 2.0), "c": (0.0, 0.5)}))})


@pytest.fixture(params=["cython", "python"], scope="module")
def impl(request):
    """The compiled kernels and the pure-Python fallback, one test run each."""
    if request.param == "python":
        return fallback
    from gridwatch.ext import compiled
    return compiled


@given(params=models, first=st.fixed_dictionaries({"a": unit, "b": unit}),
       stream=st.lists(samples, min_size=1, max_size=80))
@few
def test_learn_one_score_one_match_river(impl, params, first, stream):
    ours, river = impl.HalfSpaceTrees(**params), anomaly.HalfSpaceTrees(**params)
    assert ours.score_one(first) == river.score_one(first) == 0
    for x in [first, *stream]:
        assert abs(ours.score_one(x) - river.score_one(x)) <= 1e-12
        ours.learn_one(x)
        river.learn_one(x)
        assert abs(ours.score_one(x) - river.score_one(x)) <= 1e-12
    assert ours.counter == river.counter and ours._first_window == river._first_window


def as_rows(stream: list[dict]) -> np.ndarray:
    return np.array([[x.get(f, np.nan) for f in FEATURES] for x in stream]).reshape(-1, 3)


@given(params=models, stream=st.lists(samples, min_size=2, max_size=60),
       cut=st.integers(1, 59))
@few
def test_batch_methods_match_river_loops(impl, params, stream, cut):
    stream = [{"a": 0.5, "b": 0.5, "c": 0.5}, *stream]
    rows = as_rows(stream)
    head, tail = rows[:cut], rows[cut:]
    river = anomaly.HalfSpaceTrees(**params)
    fused = impl.HalfSpaceTrees(**params)
    expected = []
    for x in stream[:cut]:
        expected.append(river.score_one(x))
        river.learn_one(x)
    np.testing.assert_allclose(fused.score_learn_many(head, FEATURES), expected, rtol=0,
                               atol=1e-12)
    split = impl.HalfSpaceTrees(**params)
    split.learn_many(head, FEATURES)
    frozen = [river.score_one(x) for x in stream[cut:]]
    np.testing.assert_allclose(split.score_many(tail), frozen, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fused.score_many(tail), frozen, rtol=0, atol=1e-12)


def test_drop_in_inside_a_river_pipeline(impl):
    rng = np.random.default_rng(2)
    ours = compose.Pipeline(preprocessing.MinMaxScaler(), impl.HalfSpaceTrees(seed=42))
    theirs = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=42))
    for row in rng.normal(size=(600, 4)):
        x = dict(enumerate(row.tolist()))
        assert ours.score_one(x) == pytest.approx(theirs.score_one(x), abs=1e-12)
        ours.learn_one(x)
        theirs.learn_one(x)
    fresh = ours.clone()
    assert fresh["HalfSpaceTrees"].counter == 0 and fresh["HalfSpaceTrees"].seed == 42


def test_batch_inputs_are_checked(impl):
    hst = impl.HalfSpaceTrees(seed=1)
    with pytest.raises(ValueError, match="2-D array"):
        hst.learn_many(np.zeros(3))
    with pytest.raises(ValueError, match="3 columns but 2 feature names"):
        hst.learn_many(np.zeros((4, 3)), features=["a", "b"])
    with pytest.raises(ValueError, match="2\\*\\*53"):
        impl.HalfSpaceTrees(height=24, window_size=2**30)
    hst.learn_many(np.full((2, 2), 0.5))
    assert hst.features == [0, 1] and hst.state_bytes == 10 * 511 * (4 + 8 + 4 + 4)


def test_pickled_model_continues_exactly_like_the_original(impl):
    import copy
    import pickle
    rng = np.random.default_rng(9)
    model = impl.HalfSpaceTrees(n_trees=4, height=5, window_size=20, seed=3)
    unbuilt = pickle.loads(pickle.dumps(model))
    rows = rng.random((130, 2))
    model.learn_many(rows[:47])
    unbuilt.learn_many(rows[:47])
    twins = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model), unbuilt]
    expected = model.score_learn_many(rows[47:])
    for twin in twins:
        assert type(twin) is type(model)
        np.testing.assert_array_equal(twin.score_learn_many(rows[47:]), expected)
