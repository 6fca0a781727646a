"""Seasonal baseline, CUSUM, voltage qualification and loss attribution, on both implementations.

Where River has an equivalent (the seasonal level and spread with clipping
off are per-slot `stats.EWMean`s) the test asserts parity; elsewhere it
asserts the defining property of the kernel and byte-identical state
between the compiled and the pure-Python paths.
"""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from river import stats

from gridwatch.ext import fallback

few = settings(max_examples=30, deadline=None)
values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)


@pytest.fixture(params=["cython", "python"], scope="module")
def impl(request):
    """The compiled kernels and the pure-Python fallback, one test run each."""
    if request.param == "python":
        return fallback
    from gridwatch.ext import compiled
    return compiled


@given(readings=st.lists(st.tuples(st.integers(0, 3), values), min_size=1, max_size=150),
       fading=st.floats(0.01, 1.0))
@few
def test_seasonal_without_clipping_is_river_ewmean_per_slot(impl, readings, fading):
    base = impl.SeasonalBaseline(2, n_slots=4, fading_factor=fading, clip=0.0)
    levels = [stats.EWMean(fading) for _ in range(4)]
    spreads = [stats.EWMean(fading) for _ in range(4)]
    seen = [0] * 4
    for slot, x in readings:
        base.update(1, slot, x)
        if seen[slot]:
            spreads[slot].update(abs(x - levels[slot].get()))
        levels[slot].update(x)
        seen[slot] += 1
        assert abs(base.levels[1, slot] - levels[slot].get()) <= 1e-12 * max(1, abs(x))
        assert abs(base.spreads[1, slot] - spreads[slot].get()) <= 1e-9 * max(1, abs(x))
    assert np.all(base.counts[0] == 0)


def test_seasonal_baseline_resists_a_theft_drop_and_scores_it(impl):
    rng = np.random.default_rng(3)
    base = impl.SeasonalBaseline(1, n_slots=24, fading_factor=0.05, clip=3.0)
    for _day in range(40):
        for hour in range(24):
            base.update(0, hour, 1.0 + 0.5 * math.sin(hour / 4) + rng.normal(0, 0.05))
    before = base.expected(12)[0]
    zs = [base.update(0, 12, 0.2 * before) for _ in range(3)]
    assert all(z < -5 for z in zs)
    assert base.expected(12)[0] > 0.8 * before  # winsorised: the drop barely moves the level


def test_seasonal_scores_are_nan_while_warming_up(impl):
    base = impl.SeasonalBaseline(1, n_slots=2, warmup=3)
    assert [math.isnan(base.update(0, 0, 5.0)) for _ in range(4)] == [True, True, True, False]
    assert math.isnan(base.expected(1)[0])


def test_cusum_alarms_on_a_sustained_shift_not_on_noise(impl):
    rng = np.random.default_rng(11)
    cusum = impl.Cusum(50, k=0.5, h=5.0)
    noise_alarms = sum(int(np.count_nonzero(cusum.update_many(rng.normal(size=50))))
                       for _ in range(100))
    shifted = rng.normal(size=50)
    shifted[7] = -3.0
    first_alarms = [cusum.update_many(shifted - np.where(np.arange(50) == 7, 0, 0))
                    for _ in range(4)]
    assert noise_alarms <= 10
    assert any(alarms[7] == -1 for alarms in first_alarms)


def test_voltage_qualification_counts_rates_and_runs(impl):
    vq = impl.VoltageQualification(4, lower_v=198.0, upper_v=235.4, dead_v=50.0)
    vq.set_limits(3, 353.4, 406.6)
    intervals = [[190.0, 220.0, 240.0, 380.0], [191.0, 221.0, np.nan, 340.0],
                 [230.0, 0.0, 236.0, 400.0]]
    classes = [vq.update_many(row).tolist() for row in intervals]
    assert classes == [[1, 0, 2, 0], [1, 0, 3, 1], [0, 3, 2, 0]]
    assert vq.monitored.tolist() == [3, 2, 2, 3]
    np.testing.assert_allclose(vq.rates(), [1 / 3, 1.0, 0.0, 2 / 3])
    assert vq.area_rate() == pytest.approx(5 / 10)
    assert vq.low_runs.tolist() == [0, 0, 0, 0] and vq.minimums[0] == 190.0
    vq.reset()
    assert math.isnan(vq.area_rate())


@given(loss=st.floats(-5, 50), expected=st.lists(st.floats(0, 10), min_size=1, max_size=30),
       fraction=st.floats(0, 1.5))
@few
def test_loss_attribution_conserves_energy(impl, loss, expected, fraction):
    n = len(expected)
    actual = [e * fraction for e in expected]
    bank = impl.LossAttribution(n, fading_factor=1.0)
    shares, unexplained = bank.update_many(loss, expected, actual)
    drops = np.maximum(np.array(expected) - np.array(actual), 0.0)
    assert np.all(shares >= 0) and np.all(shares <= drops + 1e-9)
    assert shares.sum() + unexplained == pytest.approx(max(loss, 0.0), abs=1e-9)
    np.testing.assert_array_equal(bank.suspicion, shares)


def test_all_banks_round_trip_bytes_and_grow(impl):
    banks = [impl.EWStats(3), impl.MeanVar(3), impl.RollingMeanVar(3, window=4),
             impl.PageHinkley(3), impl.Cusum(3), impl.VoltageQualification(3),
             impl.SeasonalBaseline(3, n_slots=6), impl.LossAttribution(3)]
    row = np.array([210.0, np.nan, 236.0])
    for bank in banks:
        if isinstance(bank, impl.SeasonalBaseline):
            bank.update_many(2, row)
        elif isinstance(bank, impl.LossAttribution):
            bank.update_many(4.0, row, row - 1)
        else:
            bank.update_many(row)
        clone = type(bank).from_bytes(bank.to_bytes())
        assert clone.to_bytes() == bank.to_bytes()
        assert pickle.loads(pickle.dumps(bank)).to_bytes() == bank.to_bytes()
        assert copy.deepcopy(bank).to_bytes() == bank.to_bytes()
        bank.grow(5)
        assert bank.n_meters == 5 and type(bank).from_bytes(bank.to_bytes()).n_meters == 5
    assert sum(bank.state_bytes for bank in banks) <= 1024


def test_bad_inputs_raise_clear_errors(impl):
    bank = impl.EWStats(2)
    with pytest.raises(IndexError, match="meter index 2 out of range"):
        bank.update(2, 1.0)
    with pytest.raises(ValueError, match="1-D array of 2 readings"):
        bank.update_many([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="fading_factor"):
        impl.EWStats(2, fading_factor=1.5)
    with pytest.raises(ValueError, match="Invalid 'mode'"):
        impl.PageHinkley(2, mode="sideways")
    with pytest.raises(IndexError, match="slot 24 out of range"):
        impl.SeasonalBaseline(1).update(0, 24, 1.0)
    with pytest.raises(ValueError, match="lower_v < upper_v"):
        impl.VoltageQualification(1, lower_v=240.0, upper_v=200.0)
    with pytest.raises(ValueError, match="bad magic"):
        impl.Cusum.from_bytes(b"nonsense")
    with pytest.raises(ValueError, match="holds a EWStats, not a Cusum"):
        impl.Cusum.from_bytes(bank.to_bytes())


def test_compiled_and_fallback_agree_on_every_bank():
    from gridwatch.ext import compiled
    rng = np.random.default_rng(5)
    rows = rng.normal(1.0, 0.4, size=(300, 12))
    rows[rng.random(rows.shape) < 0.05] = np.nan
    pairs = [(m.SeasonalBaseline(12, n_slots=8, fading_factor=0.3), m.Cusum(12, h=3.0),
              m.VoltageQualification(12, lower_v=0.8, upper_v=1.2, dead_v=0.1),
              m.LossAttribution(12)) for m in (compiled, fallback)]
    outputs = []
    for seasonal, cusum, volts, attribution in pairs:
        out = []
        for t, row in enumerate(rows):
            z = seasonal.update_many(t % 8, row)
            out.append((z.tobytes(), cusum.update_many(np.nan_to_num(z)).tobytes(),
                        volts.update_many(row).tobytes(),
                        attribution.update_many(float(t % 5), np.ones(12), row)[0].tobytes()))
        out.append(tuple(b.to_bytes() for b in (seasonal, cusum, volts, attribution)))
        outputs.append(out)
    assert outputs[0] == outputs[1]
