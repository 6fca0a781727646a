"""One area's detection step: the code the Faust worker and the evaluator both run.

Why a single entry point: the evaluation harness must score *exactly* what
runs in production. The worker keeps one `AreaState` per transformer area in
a Faust table and calls `AreaPipeline.process` once per Kafka record (one
area's batch); the evaluator calls the same method over a simulated stream.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from gridwatch.config import DetectorSettings
from gridwatch.detectors.base import Finding
from gridwatch.detectors.low_voltage import LowVoltageState, LowVoltageZoneDetector
from gridwatch.streams.schema import Batch


@dataclass(slots=True)
class MetricPoint:
    """A metrics-store point, independent of the client library that writes it."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float]
    ts: float


@dataclass
class AreaState:
    """Everything the detectors remember about one area between batches."""

    low_voltage: LowVoltageState = field(default_factory=LowVoltageState)

    def dumps(self) -> bytes:
        return json.dumps({"low_voltage": self.low_voltage.to_dict()}).encode()

    @classmethod
    def loads(cls, raw: bytes | None) -> AreaState:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(low_voltage=LowVoltageState.from_dict(data["low_voltage"]))


@dataclass
class AreaResult:
    """What one batch produced: findings to alert on and points to store."""

    findings: list[Finding]
    points: list[MetricPoint]
    readings: int


class AreaPipeline:
    """Runs every detector over one area's batch, interval by interval."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.low_voltage = LowVoltageZoneDetector(settings.low_voltage)

    def process(self, batch: Batch, state: AreaState) -> AreaResult:
        by_ts: dict[float, list] = defaultdict(list)
        for reading in batch.readings:
            by_ts[reading.ts].append(reading)
        findings: list[Finding] = []
        points: list[MetricPoint] = []
        tags = {"area": batch.area, "feeder": batch.feeder}
        for ts in sorted(by_ts):
            customers = [r for r in by_ts[ts] if r.role == "customer"]
            voltages = {r.meter: min(r.voltage) for r in customers}
            phases = {r.meter: r.phases for r in customers}
            findings += self.low_voltage.observe(state.low_voltage, batch.area, batch.feeder, ts,
                                                 voltages, phases)
            points.append(self._rollup(tags, ts, by_ts[ts], state))
        return AreaResult(findings, points, len(batch.readings))

    def _rollup(self, tags: dict[str, str], ts: float, readings: list, state: AreaState
                ) -> MetricPoint:
        volts = [min(r.voltage) for r in readings if r.role == "customer"]
        fields: dict[str, float] = {
            "readings": float(len(readings)),
            "power_kw": float(sum(r.power_kw for r in readings if r.role == "customer")),
        }
        if volts:
            lower = self.settings.low_voltage.single_phase.lower_v
            fields |= {"voltage_min_v": min(volts), "voltage_mean_v": sum(volts) / len(volts),
                       "voltage_max_v": max(volts),
                       "low_voltage_points": float(sum(v < lower for v in volts))}
        rate = self.low_voltage.qualification_rate(state.low_voltage)
        if rate is not None:
            fields["voltage_qualification_rate"] = rate
        fields["low_voltage_zone"] = 1.0 if state.low_voltage.firing_since is not None else 0.0
        return MetricPoint("gridwatch_area", tags, fields, ts)

