"""The detector contract and the registries: a made-up kind is one new module, nothing else.

`tests/made_up_detector.py` registers a kind and an area detector; these
tests show that the detection stage runs it, the alert policy mutes it under
an outage, labels may carry it and the evaluation scores it, with no other
file of the package touched.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from gridwatch.alerts.policy import default_inhibit_rules
from gridwatch.config import DetectorSettings
from gridwatch.detectors.feeder import FeederOutages
from gridwatch.detectors.registry import AREA_DETECTORS
from gridwatch.detectors.stage import DetectionStage
from gridwatch.detectors.state import AreaState
from gridwatch.evaluation.matching import score
from gridwatch.vocabulary import kinds
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.labels import Label, read_labels, write_labels
from tests.detector_streams import AREA, DAY, FEEDER, START, STEP, Interval, area_batches

MODULE = "tests.made_up_detector"
HUM_FROM, HUM_TO = START + DAY, START + DAY + 4 * STEP


@pytest.fixture
def made_up() -> Iterator[ModuleType]:
    """Import the made-up detector's module; take its registrations back afterwards."""
    module = importlib.import_module(MODULE)
    yield module
    del kinds.KINDS[module.HUM]
    AREA_DETECTORS.remove(module.HumDetector)
    del sys.modules[MODULE]


def hum(t: int, ts: float, interval: Interval) -> None:
    if HUM_FROM < ts <= HUM_TO:
        interval.events[3] = ["hum"]


def run_stage(days: int = 3) -> list[Finding]:
    """Every finding the detection stage publishes, driven as the evaluator drives it."""
    stage, feeders = DetectionStage(DetectorSettings()), FeederOutages()
    blob: bytes | None = None
    published: list[Finding] = []
    for batch in area_batches(days, hum):
        state = AreaState.loads(blob)
        result = stage.process(batch, state, seen_at=max(r.ts for r in batch.readings))
        published += result.immediate() + stage.judge_feeder(feeders, result.feeder_report())
        blob = state.dumps()
    return published


def test_the_stage_runs_a_registered_detector(made_up: ModuleType) -> None:
    hums = [f for f in run_stage() if f.kind == made_up.HUM]
    assert [(f.status, f.entity, f.severity, f.detector) for f in hums] == [
        ("firing", AREA, "info", "hum"), ("resolved", AREA, "info", "hum")]
    assert (hums[0].at, hums[1].at) == (HUM_FROM + STEP, HUM_TO + STEP)


def test_without_the_module_nothing_hears_the_hum() -> None:
    assert "transformer_hum" not in kinds.KINDS
    assert not [f for f in run_stage() if f.kind == "transformer_hum"]


def test_an_outage_mutes_the_made_up_kind(made_up: ModuleType) -> None:
    rules = {rule.source[0].value: rule for rule in default_inhibit_rules()}
    alert = {"kind": made_up.HUM, "area": AREA, "feeder": FEEDER}
    for outage in (kinds.OUTAGE_AREA, kinds.OUTAGE_FEEDER):
        assert all(m.matches(alert) for m in rules[outage].target)
    assert not all(m.matches(alert) for m in rules[kinds.OUTAGE_AREA].source)


def test_labels_carry_it_and_the_evaluation_scores_it(made_up: ModuleType,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    write_labels([Label(made_up.HUM, AREA, "area", AREA, FEEDER, HUM_FROM, HUM_TO)], path)
    evaluation = score(read_labels(path), run_stage())
    hum_score = evaluation.kinds[made_up.HUM]
    assert (hum_score.events, hum_score.found, hum_score.false_alerts) == (1, 1, [])


def test_a_kind_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(kinds.ProblemKind(kinds.OUTAGE_AREA, kinds.AREA, kinds.FAULT, "faults"))
