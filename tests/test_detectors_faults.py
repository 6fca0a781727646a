"""Fault detectors: each fires within two readings and resolves with the same start."""

from __future__ import annotations

from gridwatch.detectors.faults import FaultDetector
from gridwatch.detectors.state import AreaState
from tests.detector_streams import START, STEP, day_of, firing, run

DAY_T = 96


def window(t: int, start: int, length: int) -> bool:
    return start <= t < start + length


def episodes(findings, kind):
    """(firing, resolved) pairs of one kind."""
    fired = [f for f in findings if f.kind == kind and f.status == "firing"]
    resolved = [f for f in findings if f.kind == kind and f.status == "resolved"]
    return fired, resolved


def test_area_outage_fires_once_and_resolves_with_the_same_start():
    def outage(t, ts, iv):
        if window(t, DAY_T + 40, 8):
            iv.supplied[:] = False
            iv.tx_volts = [0.0, 0.0, 0.0]

    found = run(2, outage)
    fired, resolved = episodes(found, "outage_area")
    assert len(fired) == 1 and len(resolved) == 1
    assert fired[0].started_at == resolved[0].started_at
    assert resolved[0].at - fired[0].at == 8 * STEP
    assert firing(found, "meter_power_loss") == []


def test_one_dark_meter_is_a_power_loss_not_an_outage():
    def dark(t, ts, iv):
        if window(t, DAY_T + 40, 8):
            iv.supplied[7] = False

    found = firing(run(2, dark))
    assert [(f.kind, f.entity) for f in found] == [("meter_power_loss", "M07")]


def test_phase_loss_is_one_alert_not_many_power_losses():
    def phase(t, ts, iv):
        if window(t, DAY_T + 40, 8):
            iv.tx_volts[1] = 0.0

    found = firing(run(2, phase))
    assert [f.kind for f in found] == ["phase_loss"]


def test_sag_fires_when_the_voltage_comes_back_and_a_lasting_drop_does_not():
    def sag(t, ts, iv):
        if window(t, DAY_T + 40, 2):
            iv.tx_volts = [v * 0.82 for v in iv.tx_volts]
        if t >= DAY_T + 60:                     # a tap change: a new level, not a sag
            iv.tx_volts = [v * 0.88 for v in iv.tx_volts]

    found = firing(run(3, sag))
    assert [f.kind for f in found] == ["voltage_sag"]
    assert (found[0].at - found[0].started_at) <= 2 * STEP


def test_swell():
    def swell(t, ts, iv):
        if window(t, DAY_T + 10, 2):
            iv.tx_volts = [v * 1.12 for v in iv.tx_volts]

    assert [f.kind for f in firing(run(2, swell))] == ["voltage_swell"]


def test_overload_against_the_rating_on_the_area_meter():
    def heavy(t, ts, iv):
        if t >= DAY_T:
            iv.demand_kw *= 12.0

    found = firing(run(2, heavy, rated_kva=30.0))
    overloads = [f for f in found if f.kind == "transformer_overload"]
    assert len(overloads) == 1
    assert day_of(overloads[0].at) >= 1.0
    assert overloads[0].threshold["rated_kva"] == 30.0


def test_broad_load_rise_is_an_overload_before_the_peak_reaches_the_rating():
    onset = 4 * DAY_T + 40                      # day 4, 10:00

    def cold_snap(t, ts, iv):
        if t >= onset:
            iv.demand_kw *= 2.6

    found = [f for f in firing(run(5, cold_snap, rated_kva=27.0))
             if f.kind == "transformer_overload"]
    assert len(found) == 1
    assert found[0].observed["load_ratio"] < 1.0
    assert found[0].at - (START + (onset + 1) * STEP) <= 2 * STEP


def test_a_load_profile_kept_as_lists_is_carried_over_into_the_state_arrays():
    state = AreaState()
    state.scalars["load_profile"] = {"kva": [10.0 + h for h in range(24)], "n": [20] * 24,
                                     "peak": 40.0, "days": 5, "day": 0, "day_max": 0.0}
    hour = 6
    step, _ = FaultDetector._load_profile(hour * 3600.0 + 900.0, 17.6, state, overloaded=False)
    assert "kva" not in state.scalars["load_profile"]
    assert step == 17.6 / 16.0
    assert state.arrays["load_kva"][hour + 1] == 17.0
    assert state.arrays["load_n"][hour] == 21 and state.arrays["load_n"][hour + 1] == 20
    assert AreaState.loads(state.dumps()).arrays["load_kva"].tolist() == \
        state.arrays["load_kva"].tolist()
