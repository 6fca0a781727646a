"""The compiled forecaster core equals its pure-Python twin, state bytes included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridwatch.ext import fallback

compiled = pytest.importorskip("gridwatch.ext.compiled")

ARRAYS = fallback.ForecastCore._ARRAYS


def drive(core, steps: int, seed: int = 4) -> list[tuple[np.ndarray, ...]]:
    """A noisy daily load with gaps and a temperature feed; forecasts every 7th step."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        x = 40.0 + 15.0 * math.sin(2 * math.pi * t / 24) + rng.normal(0.0, 2.0)
        if 200 <= t < 230 or rng.random() < 0.02:
            x = math.nan
        temp = 10.0 + rng.normal() if t % 3 else math.nan
        core.learn(t % 168, x, temp)
        if t % 7 == 0:
            out.append(core.forecast(np.arange(t + 1, t + 1 + core.n_horizons) % 168))
    return out


@pytest.mark.parametrize("params", [{}, {"period": 24, "n_horizons": 6, "alpha_level": 0.2,
                                         "forgetting": 0.99, "ridge": 0.0}])
def test_compiled_core_matches_the_pure_twin(params):
    pure, fast = fallback.ForecastCore(**params), compiled.ForecastCore(**params)
    runs = [drive(core, 24 * 21) for core in (pure, fast)]
    for a, b in zip(*runs, strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6, equal_nan=True)
    assert not np.isnan(runs[0][-1][0]).any()
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(pure, name).astype(float),
                                   getattr(fast, name).astype(float), rtol=1e-6, atol=1e-6,
                                   equal_nan=True)


def test_each_implementation_reads_the_others_bytes():
    pure = fallback.ForecastCore()
    drive(pure, 24 * 9)
    fast = compiled.ForecastCore.from_bytes(pure.to_bytes())
    slots = np.arange(24)
    np.testing.assert_array_equal(np.array(fast.forecast(slots)), np.array(pure.forecast(slots)))
    back = fallback.ForecastCore.from_bytes(fast.to_bytes())
    assert back.to_bytes() == pure.to_bytes()


@pytest.mark.parametrize("core", [fallback.ForecastCore, compiled.ForecastCore])
def test_bad_parameters_and_slots_are_refused_alike(core):
    with pytest.raises(ValueError, match="n_horizons must be <= period"):
        core(period=24, n_horizons=25)
    with pytest.raises(ValueError, match="forgetting"):
        core(forgetting=1.5)
    with pytest.raises(IndexError, match="slot 168"):
        core().learn(168, 1.0, math.nan)
