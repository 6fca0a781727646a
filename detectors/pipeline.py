"""One area's detection step, inside the detection stage the worker and the evaluator drive.

Why a single entry point: the evaluation harness must score *exactly* what
runs in production. The worker keeps one `AreaState` per transformer area in
a Faust table; `DetectionStage` (``stage.py``) calls `AreaPipeline.process`
once per Kafka record (one area's batch), in the worker and over a simulated
stream alike.

Order inside a batch: the data-quality screen first (duplicates and late
readings are reported and dropped, skewed clocks re-stamped), then interval
by interval, oldest first, every registered detector (``registry.py``: data
quality, faults, theft signs, the energy balance, low-voltage zones), each
through the one call of the contract (``contract.py``), and finally the
meters' last values are stored for the next interval.

Hot reload: the state holds no settings, so `reconfigure` swaps the
detectors' parameters on a live pipeline and every area's state carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from ..config import DetectorSettings, KpiSettings, settings_diff
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import LOW_VOLTAGE_ZONE
from ..vocabulary.measurements import AREA_DAILY, AREA_INTERVAL, MetricPoint
from ..vocabulary.schema import Batch
from .contract import AreaDetector, Interval
from .data_quality import BatchScreen
from .episodes import Episodes
from .frame import IntervalFrame
from .kpis import KpiTally
from .registry import AREA_DETECTORS
from .state import AreaState

__all__ = ["AreaPipeline", "AreaResult", "AreaState"]

log = logging.getLogger(__name__)
DAY_S = 86_400


@dataclass
class AreaResult:
    """What one batch produced: findings to alert on and points to store."""

    findings: list[Finding]
    points: list[MetricPoint]
    readings: int


class PipelineState(TypedDict, total=False):
    """The pipeline's own slice of ``AreaState.scalars`` (the detectors declare theirs)."""

    episodes: dict[str, dict[str, Any]]   # the open episodes, see `Episodes`
    day: dict[str, float]                 # today's collection tally
    kpi: dict[str, float]                 # whether the area was dark last interval


class AreaPipeline:
    """Runs the registered detectors over one area's batch, interval by interval."""

    State = PipelineState

    def __init__(self, settings: DetectorSettings,
                 detectors: Sequence[type[AreaDetector]] | None = None,
                 kpis: KpiSettings | None = None) -> None:
        self.detector_types = tuple(AREA_DETECTORS if detectors is None else detectors)
        self.kpi_settings = kpis or KpiSettings()
        self._build(settings)

    def _build(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.kpis = KpiTally(self.kpi_settings, settings.low_voltage,
                             settings.data_quality.interval_s)
        self.screen = BatchScreen(settings.data_quality)
        self.detectors = [kind.from_settings(settings) for kind in self.detector_types]
        self.dead_v = settings.faults.dead_voltage_v
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
        tags = self.kpis.tags(batch.area, batch.feeder)
        last_ts = None
        for ts, readings in groups.items():
            frame = IntervalFrame.build(ts, readings, table)
            self._interval(Interval(batch, frame, state, episodes, points, tags,
                                    powered=frame.vmin >= self.dead_v))
            last_ts = ts
        if last_ts is not None:
            points += self.kpis.finding_points(episodes.findings, tags,
                                               self._open_kinds(episodes), last_ts)
        return AreaResult(episodes.findings, points, len(batch.readings))

    @staticmethod
    def _open_kinds(episodes: Episodes) -> dict[str, int]:
        """How many episodes of each kind are open in the area."""
        counts: dict[str, int] = {}
        for key in episodes.store:
            kind = key.split("|", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def _interval(self, interval: Interval) -> None:
        """Every detector in turn, then the meters' last values are stored for the next."""
        frame, table, rows = interval.frame, interval.table, interval.frame.rows
        col = table.col
        received = len(rows) + (frame.area is not None)
        self._count_day(interval.scalars, interval.ts, received, len(table) + 1,
                        interval.points, interval.tags)
        written_from = len(interval.points)
        col["phases"][rows] = frame.phases    # read by the low-voltage limits, by phase count
        for detector in self.detectors:
            detector.observe(interval)
        col["last_ts"][rows] = interval.ts
        col["energy"][rows] = frame.energy
        col["reverse"][rows] = frame.reverse
        col["voltage"][rows] = frame.vmin
        col["power"][rows] = frame.power
        interval.points.append(self._rollup(
            interval.tags, frame, interval.qualification_rate, interval.faults.area_dark,
            interval.episodes.is_open(LOW_VOLTAGE_ZONE, interval.batch.area)))
        interval.points += self.kpis.interval_points(interval, received,
                                                     interval.faults.area_dark, written_from)

    def _count_day(self, scalars: dict, ts: float, received: int, expected: int,
                   points: list[MetricPoint], tags: dict[str, str]) -> None:
        """Collection success rate per area per day, written when the day ends."""
        day = int(ts // DAY_S)
        tally = scalars.setdefault("day", {"day": day, "received": 0, "expected": 0})
        if day != tally["day"]:
            intervals = DAY_S / self.settings.data_quality.interval_s
            expected_day = tally["expected"] / max(tally.get("intervals", 1), 1) * intervals
            rate = tally["received"] / expected_day if expected_day else 0.0
            points.append(MetricPoint(AREA_DAILY, tags,
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
        fields[LOW_VOLTAGE_ZONE] = 1.0 if low_voltage_zone else 0.0
        return MetricPoint(AREA_INTERVAL, tags, fields, frame.ts)

