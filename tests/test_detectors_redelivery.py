"""A batch our transport delivered twice is skipped; a duplicate meter reading is reported."""

from __future__ import annotations

import json

from gridwatch.config import DetectorSettings
from gridwatch.detectors.redelivery import batch_id
from gridwatch.detectors.stage import DetectionStage
from gridwatch.detectors.state import AreaState
from gridwatch.devstack.processes import batch
from gridwatch.vocabulary.kinds import DQ_DUPLICATE
from gridwatch.vocabulary.schema import parse_batch

T0 = 1_767_650_400.0


def upload(step: int, sent_late_s: float = 0.0) -> bytes:
    record = batch("F1-A1", "F1", T0 + 900 * step, [221.0, 222.0, 223.0])
    record["sent_at"] += sent_late_s
    return json.dumps(record).encode()


def run(payloads: list[bytes]) -> tuple[list[str], list[bool], AreaState]:
    stage, state = DetectionStage(DetectorSettings()), AreaState()
    kinds, skipped = [], []
    for payload in payloads:
        result = stage.process(parse_batch(payload), state, 0.0, 0, batch_id(payload))
        kinds += [f.kind for f in result.findings]
        skipped.append(result.redelivered)
    return kinds, skipped, state


def test_the_same_upload_again_is_skipped_not_a_duplicate() -> None:
    payloads = [upload(0), upload(1), upload(1), upload(2)]
    kinds, skipped, state = run(payloads)
    assert DQ_DUPLICATE not in kinds
    assert skipped == [False, False, True, False]
    _, _, once = run([upload(0), upload(1), upload(2)])
    assert state.meters.col["energy"].tolist() == once.meters.col["energy"].tolist()


def test_a_meter_sending_the_same_readings_in_a_new_upload_is_still_a_duplicate() -> None:
    kinds, skipped, _ = run([upload(0), upload(1), upload(1, sent_late_s=120.0), upload(2)])
    assert skipped == [False, False, False, False]
    assert DQ_DUPLICATE in kinds


def test_without_ids_every_batch_is_screened() -> None:
    stage, state = DetectionStage(DetectorSettings()), AreaState()
    kinds = []
    for payload in [upload(0), upload(1), upload(1)]:
        kinds += [f.kind for f in stage.process(parse_batch(payload), state, 0.0).findings]
    assert DQ_DUPLICATE in kinds
