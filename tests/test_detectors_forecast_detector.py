"""The forecasting detector in the pipeline: forecasts as points, warnings as findings."""

from __future__ import annotations

import dataclasses

from gridwatch.config import DetectorSettings, ForecastSettings
from gridwatch.detectors.pipeline import AreaPipeline, AreaState
from gridwatch.vocabulary.kinds import FORECAST_LOW_VOLTAGE, FORECAST_OVERLOAD
from gridwatch.vocabulary.measurements import AREA_FORECAST, MetricPoint, undeclared
from tests.detector_streams import DAY, START, area_batches, firing

HOUR = 3600


def run(days: int, edit=None, settings: DetectorSettings | None = None, rated_kva: float = 100.0
        ) -> tuple[list, list[MetricPoint], list[int]]:
    """Findings, forecast points and the forecaster's state size after each day."""
    pipeline = AreaPipeline(settings or dataclasses.replace(
        DetectorSettings(), forecast=ForecastSettings(enabled=True)))
    blob, findings, points, sizes = None, [], [], []
    for batch in area_batches(days, edit, rated_kva=rated_kva):
        state = AreaState.loads(blob)
        result = pipeline.process(batch, state)
        findings += result.findings
        points += [p for p in result.points if p.measurement == AREA_FORECAST]
        blob = state.dumps()
        if batch.readings[0].ts % DAY == 0:
            sizes.append(len(blob))
    return findings, points, sizes


def test_one_forecast_point_per_hour_all_declared_and_the_state_stays_bounded() -> None:
    _, points, sizes = run(21)
    assert len(points) == 21 * 24 - 1          # every closed hour but the last (still open)
    assert [u for p in points for u in undeclared(p)] == []
    assert all(p.ts % HOUR == 0 for p in points)
    late = points[-1].fields
    assert {"load", "rated", "peak", "peak_hour", "forecast_24h", "lower_1h",
            "upper_6h"} <= set(late)
    assert late["lower_6h"] <= late["forecast_6h"] <= late["upper_6h"]
    assert 17 <= late["peak_hour"] <= 21       # the stream's evening peak
    assert max(sizes[10:]) - min(sizes[10:]) < 256   # once warm, the state no longer grows


def test_forecast_tracks_the_actual_load() -> None:
    _, points, _ = run(21)
    by_ts = {p.ts: p.fields for p in points}
    errors = [abs(by_ts[ts - 6 * HOUR]["forecast_6h"] - f["load"]) / f["load"]
              for ts, f in by_ts.items() if ts > START + 14 * DAY]
    assert sum(errors) / len(errors) < 0.15


def test_a_load_rising_towards_the_rating_is_warned_and_resolves_when_it_falls() -> None:
    _, normal, _ = run(14)
    peak = max(p.fields["load"] for p in normal)

    def grow(t: int, ts: float, iv) -> None:      # a week of 40 % more demand from day 14
        if START + 14 * DAY < ts <= START + 21 * DAY:
            iv.demand_kw *= 1.4

    findings, _, _ = run(28, grow, rated_kva=1.15 * peak)
    warnings = [f for f in findings if f.kind == FORECAST_OVERLOAD]
    fired = firing(warnings)
    assert fired and START + 14 * DAY < fired[0].at < START + 16 * DAY
    first = fired[0]
    assert first.evidence["margin"] > 0 and first.evidence["limit"] == round(1.15 * peak, 3)
    assert first.evidence["peak_at"][11:13] in {"17", "18", "19", "20", "21"}
    assert "over the transformer rating" in first.reason and first.reason.startswith("Area A1")
    resolved = [f for f in warnings if f.status == "resolved"]
    assert resolved and resolved[-1].at > START + 21 * DAY
    assert not [f for f in fired if f.at < START + 14 * DAY]    # no warning before the rise


def test_far_end_voltage_falling_under_the_limit_at_high_load_is_warned() -> None:
    def weak(t: int, ts: float, iv) -> None:       # from day 10 the far end sags with load
        if ts > START + 10 * DAY:
            iv.volts -= 5.0 + 0.3 * (iv.demand_kw.sum() * 10)

    findings, _, _ = run(16, weak)
    assert firing(findings, FORECAST_LOW_VOLTAGE)
    assert not [f for f in firing(findings, FORECAST_LOW_VOLTAGE) if f.at < START + 10 * DAY]


def test_disabled_forecasting_writes_and_warns_nothing() -> None:
    settings = dataclasses.replace(DetectorSettings(), forecast=ForecastSettings(enabled=False))
    findings, points, _ = run(3, settings=settings)
    assert points == [] and not [f for f in findings if f.detector == "forecast"]
