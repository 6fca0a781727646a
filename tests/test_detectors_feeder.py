"""The feeder judgement on event time: the same verdict whatever order the areas' reports arrive in.

After a crash and catch-up the areas of one feeder sit on partitions that
can be hours of readings apart; the feeder stage must still find the areas
dark together (issue 12: the F03 outage was missed when one area's
resolution arrived before the other areas had reached the outage).
"""

from __future__ import annotations

import random

from gridwatch.detectors.feeder import FeederOutages
from gridwatch.vocabulary.findings import FIRING, RESOLVED, Finding
from gridwatch.vocabulary.kinds import OUTAGE_AREA, OUTAGE_FEEDER

STEP = 900.0
AREAS = ("A1", "A2", "A3")


def area_reports(area: str, dark: tuple[float, float] | None, steps: int = 40
                 ) -> list[tuple[str, float, list[Finding]]]:
    """One area's reports, one per interval, with its outage firing and resolved in them."""
    reports = []
    for step in range(steps):
        ts = step * STEP
        findings = []
        if dark and ts == dark[0]:
            findings.append(Finding(OUTAGE_AREA, area, "area", area, "F1", dark[0], ts))
        if dark and ts == dark[1]:
            findings.append(Finding(OUTAGE_AREA, area, "area", area, "F1", dark[0], ts,
                                    status=RESOLVED))
        reports.append((area, ts, findings))
    return reports


def interleave(streams: list[list], rng: random.Random) -> list:
    """A random arrival order that keeps each area's own reports in order (after each area's
    first report: a feeder knows its areas once each has reported)."""
    queues = [list(s[1:]) for s in streams]
    out = [s[0] for s in streams]
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        out.append(queue.pop(0))
    return out


def judge(arrivals: list) -> list[tuple[str, str, str, float, float]]:
    feeders = FeederOutages(window_s=STEP)
    published = []
    for area, ts, findings in arrivals:
        published += feeders.observe(area, "F1", ts, findings)
    return sorted((f.kind, f.entity, f.status, f.started_at, f.at) for f in published)


def test_feeder_outage_found_when_one_area_is_over_before_the_others_reach_it() -> None:
    dark = (9 * STEP, 24 * STEP)          # 3.75 h, as F03 in the fault-injection run
    streams = [area_reports(area, dark) for area in AREAS]
    known = [s[0] for s in streams]       # each area has reported once: the feeder knows them
    first_whole_area_then_the_rest = known + streams[0][1:] + streams[2][1:] + streams[1][1:]
    assert judge(first_whole_area_then_the_rest) == [
        (OUTAGE_FEEDER, "F1", FIRING, dark[0], dark[0]),
        (OUTAGE_FEEDER, "F1", RESOLVED, dark[0], dark[1])]


def test_feeder_verdict_does_not_depend_on_arrival_order() -> None:
    rng = random.Random(12)
    cases = {
        "feeder dark": [(9 * STEP, 24 * STEP)] * 3,
        "one area a step late": [(9 * STEP, 24 * STEP), (10 * STEP, 24 * STEP),
                                 (9 * STEP, 20 * STEP)],
        "one area stays lit": [(9 * STEP, 24 * STEP), (9 * STEP, 24 * STEP), None],
        "areas dark apart": [(9 * STEP, 12 * STEP), (20 * STEP, 22 * STEP), (30 * STEP, 33 * STEP)],
    }
    verdicts = {}
    for name, darks in cases.items():
        streams = [area_reports(a, d) for a, d in zip(AREAS, darks, strict=True)]
        in_order = judge([r for step in zip(*streams, strict=True) for r in step])
        for _ in range(40):
            assert judge(interleave(streams, rng)) == in_order, name
        verdicts[name] = {kind for kind, *_ in in_order}
    assert verdicts == {"feeder dark": {OUTAGE_FEEDER}, "one area a step late": {OUTAGE_FEEDER},
                        "one area stays lit": {OUTAGE_AREA}, "areas dark apart": {OUTAGE_AREA}}
