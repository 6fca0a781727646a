"""`gridwatch evaluate` end to end: stream in, production detectors over it, scores out.

Why a scenario *or* a file: generating in memory is the quick loop for tuning
(no file to manage, any seed), while a recorded stream file (from `gridwatch
simulate --out`) pins the exact bytes a result was obtained on.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import DetectorSettings
from ..sensors.offline import StreamFile, scenario_run
from ..sensors.scenarios import load_scenario
from ..sensors.stream import iter_batches
from ..vocabulary.labels import Label, read_labels
from ..vocabulary.schema import Batch
from .matching import Evaluation, score
from .onsets import event_onsets
from .report import write_report
from .runner import RunResult, run_pipeline


@dataclass
class Outcome:
    """Scores, the raw run and what was evaluated."""

    evaluation: Evaluation
    run: RunResult
    labels: list[Label]
    meta: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The `--json` object: exactly ``{"kinds": {...}}``."""
        return self.evaluation.to_dict()

    def details(self) -> dict[str, Any]:
        """Everything, for the JSON file written beside the report."""
        kinds = self.evaluation.to_dict()["kinds"]
        for kind, s in self.evaluation.kinds.items():
            kinds[kind]["explained_alerts"] = s.explained_alerts
            kinds[kind]["missed"] = [lb.to_dict() for lb in s.missed]
            kinds[kind]["false_alerts"] = [f.to_dict() for f in s.false_alerts]
            if s.leads_s:
                kinds[kind]["leads_h"] = [round(lead / 3600, 2) for lead in s.leads_s]
        return {"meta": self.meta, "kinds": kinds,
                "dead_letters": self.run.dead_letters}


def _stream_file_batches(stream: StreamFile) -> Iterator[Batch]:
    for table in stream.tables():
        yield from iter_batches(table)


def _settings_for(settings: DetectorSettings, interval_s: int) -> DetectorSettings:
    """The configured detector settings, with the stream's reading interval."""
    tuned = copy.deepcopy(settings)
    quality = getattr(tuned, "data_quality", None)
    if quality is not None and hasattr(quality, "interval_s"):
        quality.interval_s = interval_s
    return tuned


def evaluate(source: str | Path, seed: int, days: int | None, settings: DetectorSettings,
             progress: bool = True, labels_path: str | Path | None = None) -> Outcome:
    """Evaluate the detectors on a scenario file (generated with ``seed``) or a stream file.

    ``labels_path`` replaces the run's own labels with a labels file (for instance
    field-confirmed work orders exported by the alerts service).
    """
    source = Path(source)
    started = time.perf_counter()
    if source.suffix == ".parquet":
        if days is not None:
            raise ValueError(f"{source}: --days applies to scenarios; a stream file has its "
                             f"own days")
        stream = StreamFile.open(source)
        meta = {k: v for k, v in stream.metadata.items() if k != "labels"}
        labels = stream.labels
        batches: Iterator[Batch] = _stream_file_batches(stream)
        total = stream.num_rows
    else:
        run = scenario_run(load_scenario(source), seed, days)
        meta = {k: v for k, v in run.metadata().items() if k != "labels"}
        labels = run.labels
        batches = (batch for day in run.days_iter() for batch in iter_batches(day.rows))
        total = run.expected_readings()
    if labels_path is not None:
        labels = read_labels(labels_path)
        meta["labels_file"] = str(labels_path)
    detector_settings = _settings_for(settings, int(meta["interval_s"]))
    result = run_pipeline(batches, detector_settings, total, progress)
    wall = time.perf_counter() - started
    meta |= {"source": str(source), "readings": result.readings, "batches": result.batches,
             "wall_s": round(wall, 2), "readings_per_s": round(result.readings / max(wall, 1e-9))}
    onsets = event_onsets(labels, result, detector_settings.faults.overload_ratio)
    return Outcome(score(labels, result.findings, onsets), result, labels, meta)


def write_outputs(outcome: Outcome, report: str | Path) -> tuple[Path, Path]:
    """The HTML report and, beside it, the detailed JSON."""
    html_path = write_report(report, outcome.evaluation, outcome.labels, outcome.run,
                             outcome.meta)
    json_path = html_path.with_suffix(".json")
    json_path.write_text(json.dumps(outcome.details(), indent=1, default=str) + "\n")
    return html_path, json_path
