"""The simulator's physics hangs together: drops along branches, healthy losses, theft."""

from __future__ import annotations

import numpy as np
import pytest

from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import parse_scenario
from gridwatch.sensors.simulator import Simulator, parse_start
from gridwatch.sensors.topology import GridSpec

START = parse_start("2026-01-05T00:00:00+00:00")
SMALL = {"substations": 1, "feeders_per_substation": 2, "areas_per_feeder": 3,
         "meters_per_area": 20}


def _days(sim: Simulator, count: int) -> list:
    return [day.readings for day in sim.days(count)]


def test_voltage_falls_with_load_along_a_branch() -> None:
    sim = Simulator(GridSpec(**SMALL, weak_areas=0), seed=3, start=START, interval_s=900)
    grid = sim.grid
    (day,) = _days(sim, 1)
    k = grid.slots
    phase_of = grid.phase_weight.argmax(axis=2)
    load = day.true_kw.sum(axis=2)
    gaps: list[float] = []
    peak_extra: list[float] = []
    for a in range(grid.n_areas):
        busy, quiet = np.argsort(load[a])[-8:], np.argsort(load[a])[:8]
        # drop from the transformer's own phase voltage to each single-phase meter
        tx = day.voltage[a, :, k, :]                                        # (T, 3)
        own_tx = tx[:, phase_of[a]]                                         # (T, K)
        drop = own_tx - day.voltage[a, :, :k].sum(axis=2)
        drop_busy, drop_quiet = drop[busy].mean(axis=0), drop[quiet].mean(axis=0)
        for branch in range(grid.spec.branches_per_area):
            for phase in range(3):
                on = (grid.mask[a] & (grid.phases[a] == 1) & (grid.branch[a] == branch)
                      & (phase_of[a] == phase))
                if on.sum() < 2:
                    continue
                near, far = (np.nonzero(on)[0][np.argsort(grid.distance_m[a, on])][[0, -1]])
                gaps.append(drop_busy[far] - drop_busy[near])
                peak_extra.append(drop_busy[far] - drop_quiet[far])
    gaps_v, extra_v = np.array(gaps), np.array(peak_extra)
    assert gaps_v.size >= 6
    # the farthest meter of a branch and phase sags more than the nearest (within the
    # 0.3 V measurement noise), clearly so on average...
    assert gaps_v.min() > -0.3 and gaps_v.mean() > 0.5
    # ...and far meters sag more at the busiest intervals than at the quietest
    assert extra_v.min() > 0 and extra_v.mean() > 1.0


def test_a_healthy_area_loses_a_few_per_cent() -> None:
    sim = Simulator(GridSpec(**SMALL, weak_areas=0), seed=5, start=START, interval_s=900)
    k = sim.grid.slots
    for day in _days(sim, 4):
        area_kwh = day.power_kw[:, :, k].sum(axis=1)
        customer_kwh = day.power_kw[:, :, :k].sum(axis=(1, 2))
        loss_rate = (area_kwh - customer_kwh) / area_kwh
        assert np.all((loss_rate > 0.005) & (loss_rate < 0.07)), loss_rate


def test_healthy_grid_has_no_low_voltage_zone_but_a_weak_area_has() -> None:
    sim = Simulator(GridSpec(**SMALL, weak_areas=1), seed=2, start=START, interval_s=900)
    grid, k = sim.grid, sim.grid.slots
    low_share = []
    for day in _days(sim, 3):
        volts = np.where(day.voltage[:, :, :k] > 0, day.voltage[:, :, :k], np.inf).min(axis=3)
        low = (volts < 198.0) & grid.mask[:, None, :]
        low_share.append(low.sum(axis=2) / grid.mask.sum(axis=1)[:, None])
    worst = np.concatenate(low_share, axis=1).max(axis=1)
    assert np.all(worst[~grid.weak] < 0.2)
    assert np.all(worst[grid.weak] >= 0.2)


@pytest.mark.parametrize("kind", ["theft_bypass", "theft_meter_stopped"])
def test_theft_moves_energy_from_the_meter_into_the_area_loss(kind: str) -> None:
    raw = {"days": 4, "warmup_days": 1, "grid": SMALL}
    plain = scenario_run(parse_scenario(raw), seed=9)
    meter = plain.simulator.grid.meter_ids[1][3]
    stolen = scenario_run(parse_scenario(
        raw | {"events": [{"kind": kind, "entity": meter, "start_h": 30, "duration_h": 48}]}),
        seed=9)
    k = plain.simulator.grid.slots
    before = [d.readings for d in plain.days_iter()]
    after = [d.readings for d in stolen.days_iter()]
    metered_before = sum(d.power_kw[1, :, 3].sum() for d in before)
    metered_after = sum(d.power_kw[1, :, 3].sum() for d in after)
    loss_before = sum((d.power_kw[1, :, k] - d.power_kw[1, :, :k].sum(axis=1)).sum()
                      for d in before)
    loss_after = sum((d.power_kw[1, :, k] - d.power_kw[1, :, :k].sum(axis=1)).sum()
                     for d in after)
    hidden = metered_before - metered_after
    assert hidden > 0.1 * metered_before          # a real share of the meter's energy vanished
    assert loss_after - loss_before == pytest.approx(hidden, rel=1e-9)
    # the area meter saw the same energy: the stolen power still flowed through it
    assert sum(d.power_kw[1, :, k].sum() for d in after) == pytest.approx(
        sum(d.power_kw[1, :, k].sum() for d in before), rel=1e-12)
