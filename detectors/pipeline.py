"""One area's detection step: the code the Faust worker and the evaluator both run.

Why a single entry point: the evaluation harness must score *exactly* what
runs in production. The worker keeps one `AreaState` per transformer area in
a Faust table and calls `AreaPipeline.process` once per Kafka record (one
area's batch); the evaluator calls the same method over a simulated stream.

Order inside a batch: the data-quality screen first (duplicates and late
readings are reported and dropped, skewed clocks re-stamped), then interval
by interval, oldest first: faults (they decide whether the area is powered
at all), theft signs, the energy balance, low-voltage zones, and finally the
meters' last values are stored for the next interval.

Hot reload: the state holds no settings, so `reconfigure` swaps the
detectors' parameters on a live pipeline and every area's state carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from gridwatch.config import DetectorSettings, settings_diff
from gridwatch.detectors.balance import THEFT_KINDS, EnergyBalance
from gridwatch.detectors.base import Finding
from gridwatch.detectors.data_quality import (
    BatchScreen,
    check_collection,
    check_gap,
    stuck_meters,
)
from gridwatch.detectors.episodes import Episodes
from gridwatch.detectors.faults import FaultDetector
from gridwatch.detectors.frame import IntervalFrame
from gridwatch.detectors.low_voltage import LowVoltageState, LowVoltageZoneDetector
from gridwatch.detectors.state import AreaState, MeterTable
from gridwatch.detectors.theft_signs import TheftSignDetector
from gridwatch.streams.schema import Batch

__all__ = ["AreaPipeline", "AreaResult", "AreaState", "MetricPoint"]

log = logging.getLogger(__name__)
DAY_S = 86_400
SIGN_KINDS = ("theft_tamper_event", "theft_phase_tamper", "theft_reverse_energy")


@dataclass(slots=True)
class MetricPoint:
    """A metrics-store point, independent of the client library that writes it."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float]
    ts: float


@dataclass
class AreaResult:
    """What one batch produced: findings to alert on and points to store."""

    findings: list[Finding]
    points: list[MetricPoint]
    readings: int


class AreaPipeline:
    """Runs every detector over one area's batch, interval by interval."""

    def __init__(self, settings: DetectorSettings) -> None:
        self._build(settings)

    def _build(self, settings: DetectorSettings) -> None:
        self.settings = settings
        interval = settings.data_quality.interval_s
        self.screen = BatchScreen(settings.data_quality)
        self.faults = FaultDetector(settings.faults)
        self.signs = TheftSignDetector(settings.theft, interval,
                                       settings.faults.dead_voltage_v)
        self.balance = EnergyBalance(settings.theft, settings.leakage, interval)
        self.low_voltage = LowVoltageZoneDetector(settings.low_voltage)
        self.lower_v = settings.low_voltage.single_phase.lower_v

    def reconfigure(self, settings: DetectorSettings) -> dict[str, tuple[object, object]]:
        """Swap in new parameters; return (and log) every changed key as (old, new)."""
        changes = settings_diff(self.settings, settings)
        for key, (before, after) in changes.items():
            log.warning("detector setting %s changed: %r -> %r", key, before, after)
        self._build(settings)
        return changes

    def process(self, batch: Batch, state: AreaState) -> AreaResult:
        """Judge one batch of one area, updating `state` in place."""
        episodes = Episodes(state.scalars.setdefault("episodes", {}), batch.area, batch.feeder)
        table = state.meters
        groups = self.screen.screen(batch, table, episodes)
        points: list[MetricPoint] = []
        tags = {"area": batch.area, "feeder": batch.feeder}
        for ts, readings in groups.items():
            frame = IntervalFrame.build(ts, readings, table)
            points += self._interval(batch, frame, state, episodes, tags)
        return AreaResult(episodes.findings, points, len(batch.readings))

    def _interval(self, batch: Batch, frame: IntervalFrame, state: AreaState,
                  episodes: Episodes, tags: dict[str, str]) -> list[MetricPoint]:
        s = self.settings
        table, scalars, col, rows, ts = state.meters, state.scalars, state.meters.col, \
            frame.rows, frame.ts
        points: list[MetricPoint] = []
        check_gap(scalars, episodes, batch.concentrator, ts, s.data_quality)
        check_collection(scalars, episodes, batch.concentrator, ts, len(rows), len(table),
                         s.data_quality)
        self._count_day(scalars, ts, len(rows) + (frame.area is not None), len(table) + 1,
                        points, tags)
        dead = s.faults.dead_voltage_v
        powered = frame.vmin >= dead
        stuck = stuck_meters(table, rows, frame.energy, frame.vmin.astype(np.float32),
                             frame.power.astype(np.float32), powered, ts, episodes,
                             s.data_quality)
        view = self.faults.observe(frame, state, episodes)
        for kind in SIGN_KINDS:
            for meter in episodes.open_entities(kind):
                if col["evidence"][table.index[meter]] >= 1.0:
                    episodes.touch(kind, meter, ts)
        self.signs.observe(frame, table, view, episodes)
        step = frame.energy - col["energy"][rows]
        zero = (step <= 0) & powered & ~stuck & np.isfinite(step)
        col["zero_run"][rows] = np.where(zero, np.minimum(col["zero_run"][rows] + 1, 30_000), 0)

        bal = scalars.setdefault("balance", {})
        bin_id = self.balance.bin_of(ts)
        if bal.get("bin") is not None and bin_id > bal["bin"]:
            closed = self.balance.close_bin(
                bal["bin"], table, bal, episodes,
                _mask(table, episodes, ("dq_stuck_meter",)),
                _mask(table, episodes, SIGN_KINDS), _mask(table, episodes, THEFT_KINDS))
            if closed is not None:
                points.append(MetricPoint("gridwatch_balance", tags, {
                    "excess_kwh": closed.excess_kwh, "excess_z": closed.z,
                    "line_loss_rate": closed.loss_rate}, ts))
        if bal.get("bin") is None or bin_id > bal["bin"]:
            bal["bin"] = bin_id
        usable = not (view.area_dark or view.phase_lost or stuck.any()
                      or episodes.open_entities("dq_stuck_meter"))
        area_energy = frame.area.energy_kwh if frame.area is not None else None
        self.balance.observe(ts, table, rows, frame.energy, area_energy, bal, usable)

        col["phases"][rows] = frame.phases
        volts = np.empty(len(table))
        volts.fill(np.nan)
        live = powered & ~stuck
        volts[rows[live]] = frame.vmin[live]
        lv_state = LowVoltageState.from_dict(scalars.get("low_voltage") or {})
        judge = not (view.area_dark or view.voltage_departure or view.heavy_load
                     or episodes.is_open("transformer_overload", batch.area))
        rate = self.low_voltage.observe(lv_state, table, episodes, ts, volts, judge)
        scalars["low_voltage"] = lv_state.to_dict()

        col["last_ts"][rows] = ts
        col["energy"][rows] = frame.energy
        col["reverse"][rows] = frame.reverse
        col["voltage"][rows] = frame.vmin
        col["power"][rows] = frame.power
        points.append(self._rollup(tags, frame, rate, view.area_dark,
                                   episodes.is_open("low_voltage_zone", batch.area)))
        return points

    def _count_day(self, scalars: dict, ts: float, received: int, expected: int,
                   points: list[MetricPoint], tags: dict[str, str]) -> None:
        """Collection success rate per area per day, written when the day ends."""
        day = int(ts // DAY_S)
        tally = scalars.setdefault("day", {"day": day, "received": 0, "expected": 0})
        if day != tally["day"]:
            intervals = DAY_S / self.settings.data_quality.interval_s
            expected_day = tally["expected"] / max(tally.get("intervals", 1), 1) * intervals
            rate = tally["received"] / expected_day if expected_day else 0.0
            points.append(MetricPoint("gridwatch_area_daily", tags,
                                      {"collection_rate": min(rate, 1.0),
                                       "readings": float(tally["received"])},
                                      float(tally["day"] + 1) * DAY_S))
            tally.update(day=day, received=0, expected=0, intervals=0)
        tally["received"] += received
        tally["expected"] += expected
        tally["intervals"] = tally.get("intervals", 0) + 1

    def _rollup(self, tags: dict[str, str], frame: IntervalFrame, rate: float | None,
                area_dark: bool, low_voltage_zone: bool) -> MetricPoint:
        volts = frame.vmin
        fields: dict[str, float] = {
            "readings": float(len(frame.readings) + (frame.area is not None)),
            "power_kw": float(np.add.reduce(frame.power)),
            "outage": 1.0 if area_dark else 0.0,
        }
        if volts.size:
            fields |= {"voltage_min_v": float(np.minimum.reduce(volts)),
                       "voltage_mean_v": float(np.add.reduce(volts)) / volts.size,
                       "voltage_max_v": float(np.maximum.reduce(volts)),
                       "low_voltage_points": float(np.count_nonzero(volts < self.lower_v))}
        if rate is not None:
            fields["voltage_qualification_rate"] = rate
        fields["low_voltage_zone"] = 1.0 if low_voltage_zone else 0.0
        return MetricPoint("gridwatch_area", tags, fields, frame.ts)


def _mask(table: MeterTable, episodes: Episodes, kinds: tuple[str, ...]) -> np.ndarray:
    """Rows of meters with an open episode of any of `kinds`."""
    mask = np.zeros(len(table), bool)
    for kind in kinds:
        for meter in episodes.open_entities(kind):
            row = table.index.get(meter)
            if row is not None:
                mask[row] = True
    return mask

