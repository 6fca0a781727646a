"""KPI sums of the detection stage: tagged up both hierarchies, outages counted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridwatch.config import (
    ConfigError,
    DetectorSettings,
    KpiSettings,
    OrganisationSettings,
    load_settings,
)
from gridwatch.detectors.pipeline import AreaPipeline
from gridwatch.detectors.state import AreaState
from gridwatch.vocabulary.measurements import KPI_AREA, KPI_VOLTAGE
from gridwatch.vocabulary.schema import Batch, Reading

ORG = OrganisationSettings(substations={"F1": "S1"}, supply_stations={"A1": "ST1"},
                           counties={"ST1": "C1"}, cities={"C1": "Y1"}, provinces={"Y1": "P1"})


def _batch(ts: float, volts: float) -> Batch:
    readings = [Reading(f"m{i}", ts, "customer", 1, 10.0 + ts / 3600, [volts], [1.0])
                for i in range(4)]
    return Batch("C-A1", "A1", "F1", ts, readings)


def _run(volts: list[float]) -> list:
    pipeline = AreaPipeline(DetectorSettings(), kpis=KpiSettings(organisation=ORG))
    state, points = AreaState(), []
    for k, v in enumerate(volts):
        points += pipeline.process(_batch(900.0 * (k + 1), v), state).points
    return points


def test_every_area_point_carries_both_hierarchies() -> None:
    for point in _run([230.0, 231.0]):
        if point.measurement in (KPI_AREA, KPI_VOLTAGE):
            assert {point.tags[k] for k in ("substation", "supply_station", "county", "city",
                                            "province")} == {"S1", "ST1", "C1", "Y1", "P1"}


def test_an_outage_interrupts_customers_once_and_every_dark_interval_counts_minutes() -> None:
    kpi = [p.fields for p in _run([230.0, 0.0, 0.0, 0.0, 230.0]) if p.measurement == KPI_AREA]
    dark = [f["customer_minutes_interrupted"] for f in kpi]
    assert sum(f["customer_interruptions"] for f in kpi) == 4.0   # 4 customers, one outage
    assert dark.count(4 * 15.0) == sum(1 for d in dark if d) >= 2
    assert all(f["customer_minutes"] == 4 * 15.0 for f in kpi)


def test_low_voltage_points_are_not_qualified() -> None:
    voltage = [p.fields for p in _run([230.0, 180.0]) if p.measurement == KPI_VOLTAGE]
    assert [f["qualified_points"] for f in voltage] == [4.0, 0.0]
    assert {f["points"] for f in voltage} == {4.0}


def test_loss_thresholds_must_be_ordered_and_mappings_hold_names(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("kpis: {negative_loss_below: 0.2, high_loss_above: 0.1}\n")
    with pytest.raises(ConfigError, match="kpis.negative_loss_below"):
        load_settings(path, environ={})
    path.write_text("kpis: {organisation: {substations: [F1]}}\n")
    with pytest.raises(ConfigError, match="kpis.organisation.substations"):
        load_settings(path, environ={})
