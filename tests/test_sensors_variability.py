"""Customer variability: the committed table matches the real data, and each part shows up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from gridwatch.sensors.calibrate import SGCC_FILE, sgcc_variability, variability_from_daily
from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import ScenarioError, parse_scenario
from gridwatch.sensors.variability import (
    CALIBRATED,
    STANDBY_SHARE,
    CustomerVariability,
    VariabilityTable,
    window_cvs,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
QUIET = VariabilityTable(sigma_log_mean=np.log(0.1), sigma_log_sd=0.0,
                         missing_rate_q=(0.0, 0.0), vacancy_rate_q=(0.0, 0.0),
                         vacancy_days_q=(2.0, 2.0), burst_rate_q=(0.0, 0.0),
                         burst_factor_q=(3.0, 3.0))


@pytest.mark.skipif(not (DATA / SGCC_FILE).is_file(), reason=f"{DATA / SGCC_FILE} absent")
def test_committed_table_is_what_the_real_customers_give() -> None:
    assert sgcc_variability(DATA) == {
        name: (list(value) if isinstance(value, tuple) else value)
        for name, value in dataclasses.asdict(CALIBRATED).items()}


def _days(table: VariabilityTable, days: int, customers: int = 200) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    everyone = np.ones((1, customers), bool)
    model = CustomerVariability(everyone, everyone, table, np.random.default_rng(1))
    drawn = [model.day(np.random.default_rng([2, d])) for d in range(days)]
    return (np.stack([f[0] for f, _ in drawn], axis=1),
            np.stack([m[0] for _, m in drawn], axis=1))


def test_vacancies_are_runs_of_standby_days_of_the_drawn_length() -> None:
    table = dataclasses.replace(QUIET, vacancy_rate_q=(0.02, 0.02), vacancy_days_q=(5.0, 5.0))
    factor, _ = _days(table, 120)
    vacant = factor == STANDBY_SHARE
    assert vacant.any()
    for row in vacant:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        lengths = np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]
        ends_inside = np.nonzero(edges == -1)[0] < row.size
        # back-to-back runs merge, so a run is a multiple of 5 days unless the run ends it
        assert all(n % 5 == 0 for n in lengths[ends_inside])


def test_bursts_and_missing_days_follow_their_rates() -> None:
    table = dataclasses.replace(QUIET, burst_rate_q=(0.05, 0.05), missing_rate_q=(0.01, 0.01))
    factor, missing = _days(table, 200)
    assert 0.04 < (factor > 2.0).mean() < 0.06
    assert 0.007 < missing.mean() < 0.013
    quiet_factor, quiet_missing = _days(QUIET, 200)
    assert (quiet_factor > 2.0).mean() < 0.001 and not quiet_missing.any()


def test_calibrated_customers_wander_more_and_miss_days() -> None:
    raw = {"days": 60, "warmup_days": 1, "events": [],
           "grid": {"feeders_per_substation": 1, "areas_per_feeder": 2, "meters_per_area": 30}}
    measured = {}
    for variability in ("legacy", "calibrated"):
        run = scenario_run(parse_scenario(raw | {"customers": {"variability": variability}}), 3)
        days = list(run.days_iter())
        daily = np.stack([d.readings.true_kw.sum(axis=1) for d in days], axis=2)
        mask = run.simulator.grid.mask
        cvs = window_cvs(daily[mask])
        rows = sum(d.rows.num_rows for d in days)
        measured[variability] = (float(np.median(cvs)), rows)
    assert measured["calibrated"][0] > 1.3 * measured["legacy"][0]
    assert measured["calibrated"][1] < measured["legacy"][1]     # unread meter-days


def test_unknown_variability_names_the_key() -> None:
    with pytest.raises(ScenarioError, match="customers.variability"):
        parse_scenario({"customers": {"variability": "wild"}}, "x.yaml")
    with pytest.raises(ScenarioError, match="customers.noise"):
        parse_scenario({"customers": {"noise": 1}}, "x.yaml")


def test_only_households_take_the_real_households_vacancies_and_bursts() -> None:
    households = np.array([[True, False] * 50])
    model = CustomerVariability(np.ones((1, 100), bool), households,
                                dataclasses.replace(QUIET, vacancy_rate_q=(0.5, 0.5),
                                                    burst_rate_q=(0.5, 0.5)),
                                np.random.default_rng(4))
    factors = np.stack([model.day(np.random.default_rng([5, d]))[0][0] for d in range(30)])
    assert (factors[:, ~households[0]] > 0.5).all() and (factors[:, ~households[0]] < 2).all()
    assert (factors[:, households[0]] == STANDBY_SHARE).any()


def test_thieves_are_customers_who_are_mostly_at_home() -> None:
    raw = {"days": 40, "warmup_days": 2, "customers": {"variability": "calibrated"},
           "grid": {"feeders_per_substation": 2, "areas_per_feeder": 4, "meters_per_area": 20},
           "events": [{"kind": "theft_bypass", "count": 8, "duration_days": [3, 5]}]}
    run = scenario_run(parse_scenario(raw), 8)
    away = run.simulator.variability.away_share()
    assert (away >= 0.5).any()                   # some homes are empty most days...
    for label in run.labels:                     # ...and none of them hosts a thief
        area, slot = run.simulator.grid.meter_position(label.entity)
        assert away[area, slot] < 0.5


def test_bursts_of_near_empty_homes_do_not_size_the_bursts() -> None:
    rng = np.random.default_rng(6)
    lived_in = rng.lognormal(np.log(6.0), 0.1, size=(10, 120))
    lived_in[:, ::20] *= 2.5                        # a 2.5x appliance day every 20 days
    near_empty = rng.lognormal(np.log(0.3), 0.1, size=(10, 120))
    near_empty[:, ::20] = 6.0                       # 20x 'bursts' against a 0.3 kWh usual day
    table = variability_from_daily(np.concatenate([lived_in, near_empty]))
    assert max(table["burst_factor_q"]) < 3.0
    assert table["burst_rate_q"][-1] > 0.04
