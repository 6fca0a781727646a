"""Parity of the running-statistics and Page-Hinkley kernels with River, on both implementations.

Each test feeds the same randomised stream to River and to one meter of a
bank (other meters get their own streams, so cross-talk between meters
would show) and asserts equality to 1e-12 after every reading.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import drift, stats, utils

from gridwatch.ext import fallback

IMPLEMENTATIONS = ["cython", "python"]
TOL = 1e-12
values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
streams = st.lists(st.one_of(values, st.just(math.nan)), min_size=1, max_size=120)
few = settings(max_examples=40, deadline=None)


@pytest.fixture(params=IMPLEMENTATIONS, scope="module")
def impl(request):
    """The compiled kernels and the pure-Python fallback, one test run each."""
    if request.param == "python":
        return fallback
    from gridwatch.ext import compiled
    return compiled


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def feed_bank(bank, stream: list[float], meter: int) -> None:
    """Feed `stream` to meter `meter` with update_many; the other meters see noise."""
    rng = np.random.default_rng(len(stream))
    for x in stream:
        row = rng.normal(size=bank.n_meters)
        row[meter] = x
        bank.update_many(row)


@given(stream=streams, fading=st.floats(min_value=0.01, max_value=1.0))
@few
def test_ew_stats_match_river_ewmean_and_ewvar(impl, stream, fading):
    bank = impl.EWStats(3, fading_factor=fading)
    mean, var = stats.EWMean(fading), stats.EWVar(fading)
    for x in stream:
        bank.update(1, x)
        if not math.isnan(x):
            mean.update(x)
            var.update(x)
        assert close(bank.mean(1), mean.get()) and close(bank.var(1), var.get())


@given(stream=streams, ddof=st.integers(0, 2))
@few
def test_mean_var_match_river_mean_and_var(impl, stream, ddof):
    bank = impl.MeanVar(2, ddof=ddof)
    mean, var = stats.Mean(), stats.Var(ddof=ddof)
    for x in stream:
        bank.update(0, x)
        if not math.isnan(x):
            mean.update(x)
            var.update(x)
        assert close(bank.mean(0), mean.get()) and close(bank.var(0), var.get())


@given(stream=streams, window=st.integers(1, 12))
@few
def test_rolling_mean_var_match_river_rolling(impl, stream, window):
    bank = impl.RollingMeanVar(2, window=window)
    var = utils.Rolling(stats.Var, window_size=window)
    for x in stream:
        bank.update(1, x)
        if not math.isnan(x):
            var.update(x)
        assert close(bank.var(1), var.get()) and close(bank.mean(1), var.mean.get())


@given(shift=st.floats(min_value=-20, max_value=20), seed=st.integers(0, 2**16),
       mode=st.sampled_from(["both", "up", "down"]), threshold=st.floats(1.0, 60.0))
@few
def test_page_hinkley_matches_river_including_resets(impl, shift, seed, mode, threshold):
    rng = np.random.default_rng(seed)
    stream = np.concatenate([rng.normal(0, 1, 150), rng.normal(shift, 1, 150)]).tolist()
    bank = impl.PageHinkley(2, min_instances=20, threshold=threshold, mode=mode)
    river_ph = drift.PageHinkley(min_instances=20, threshold=threshold, mode=mode)
    for x in stream:
        river_ph.update(x)
        assert bank.update(0, x) == river_ph.drift_detected
        assert close(float(bank.sums_inc[0]), river_ph._sum_increase)
        assert close(float(bank.sums_dec[0]), river_ph._sum_decrease)


@given(stream=st.lists(values, min_size=1, max_size=60))
@few
def test_batch_path_equals_single_reading_path(impl, stream):
    for make in (lambda: impl.EWStats(4, 0.2), lambda: impl.MeanVar(4),
                 lambda: impl.RollingMeanVar(4, window=3), lambda: impl.PageHinkley(4, 5)):
        batch, single = make(), make()
        feed_bank(batch, stream, meter=2)
        rng = np.random.default_rng(len(stream))
        for x in stream:
            row = rng.normal(size=4)
            row[2] = x
            for i, value in enumerate(row):
                single.update(i, value)
        assert batch.to_bytes() == single.to_bytes()


def test_compiled_and_fallback_states_are_byte_identical():
    from gridwatch.ext import compiled
    rng = np.random.default_rng(7)
    rows = rng.normal(220, 30, size=(200, 16))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    for name, kwargs in [("EWStats", {"fading_factor": 0.1}), ("MeanVar", {}),
                         ("RollingMeanVar", {"window": 5}),
                         ("PageHinkley", {"min_instances": 10, "threshold": 20.0})]:
        ours, theirs = getattr(compiled, name)(16, **kwargs), getattr(fallback, name)(16, **kwargs)
        for row in rows:
            ours.update_many(row)
            theirs.update_many(row)
        assert ours.to_bytes() == theirs.to_bytes(), name
