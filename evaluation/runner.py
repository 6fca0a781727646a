"""Run the production detection stage over a recorded or simulated stream.

Why it drives the worker's own object: the score must be the score of what
runs in production. Like the Faust agent, each batch is validated from its
wire dict (`parse_batch_obj`), the area's `AreaState` is loaded from its
serialised bytes, `DetectionStage.process` runs (the area pipeline and the
silence watchdog), and the state is serialised back; batches are fed in
stream order, one state per area. As in the worker, the immediate findings
are kept at once and the feeder report goes through `judge_feeder` with one
`FeederOutages` (area outages of a whole feeder become one feeder outage).
Like the worker's timer, the stage reports areas that stop uploading while
they are still silent; its clock here is the stream's own (the newest
interval delivered), checked each time it moves on. A batch the schema
rejects or the stage raises on is, as in production, a dead letter (counted
here, by reason) and its state changes are dropped. Only what the report
needs is kept: every finding, and the few metric fields plotted as score
traces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tqdm import tqdm

from ..config import DetectorSettings
from ..detectors.feeder import FeederOutages
from ..detectors.stage import DetectionStage
from ..detectors.state import AreaState
from ..vocabulary.findings import Finding
from ..vocabulary.measurements import AREA_BALANCE, AREA_FORECAST, AREA_INTERVAL
from ..vocabulary.schema import Batch, SchemaError, parse_batch_obj

TRACE_FIELDS: dict[str, tuple[str, ...]] = {
    AREA_INTERVAL: ("voltage_min_v", "voltage_mean_v", "voltage_max_v", "low_voltage_points",
                       "outage", "power_kw", "readings"),
    AREA_BALANCE: ("excess_z", "line_loss_rate"),
    AREA_FORECAST: ("load", "rated", "peak"),
}


@dataclass
class Trace:
    """One metric field of one area over time."""

    ts: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class RunResult:
    """Everything the detectors said over the stream, in the order they said it."""

    findings: list[Finding]
    traces: dict[tuple[str, str, str], Trace]   # (measurement.field, area) -> trace
    batches: int
    readings: int
    areas: int
    dead_letters: dict[str, int]          # reason -> batches rejected or failed, as dead letters
    area_feeder: dict[str, str] = field(default_factory=dict)


def run_pipeline(batches: Iterable[Batch], settings: DetectorSettings,
                 total_readings: int | None = None, progress: bool = False) -> RunResult:
    """Feed ``batches`` (stream order) through the `DetectionStage` exactly as the worker does."""
    stage = DetectionStage(settings)
    feeders = FeederOutages()
    checked_at = float("-inf")
    states: dict[str, bytes] = {}
    findings: list[Finding] = []
    errors: Counter[str] = Counter()
    area_feeder: dict[str, str] = {}
    traces: dict[tuple[str, str, str], Trace] = defaultdict(Trace)
    n_batches = n_readings = 0
    bar = tqdm(total=total_readings, unit="rd", unit_scale=True, desc="detect",
               disable=None if progress else True, mininterval=1.0, leave=False)
    with bar:
        for batch in batches:
            try:
                record = parse_batch_obj(batch.to_dict())
            except SchemaError as exc:  # the bridge and the worker dead-letter it
                errors[f"rejected by the schema: {exc}"] += 1
                bar.update(len(batch.readings))
                continue
            state = AreaState.loads(states.get(record.area))
            try:
                result = stage.process(record, state,
                                       seen_at=max(reading.ts for reading in record.readings))
            except Exception as exc:  # the worker dead-letters the batch and keeps its state
                errors[f"detector error {type(exc).__name__}: {exc}"] += 1
                bar.update(len(record.readings))
                continue
            states[record.area] = state.dumps()
            area_feeder[record.area] = record.feeder
            findings.extend(result.immediate())
            findings.extend(stage.judge_feeder(feeders, result.feeder_report()))
            stream_now = stage.silence.clocks[0].newest
            if stream_now is not None and stream_now > checked_at:
                checked_at = stream_now
                findings.extend(stage.check_silence(stream_now))
            for point in result.points:
                wanted = TRACE_FIELDS.get(point.measurement, ())
                for name in wanted:
                    if name in point.fields:
                        trace = traces[(point.measurement, name, record.area)]
                        trace.ts.append(point.ts)
                        trace.values.append(float(point.fields[name]))
            n_batches += 1
            n_readings += result.readings
            bar.update(result.readings)
    return RunResult(findings, dict(traces), n_batches, n_readings, len(states), dict(errors),
                     area_feeder)
