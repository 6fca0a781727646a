"""The theft watch: daily theft features in the pipeline, the risk in theft findings' evidence,
and the area's ranking learning from closed inspections."""

from __future__ import annotations

import numpy as np

from gridwatch.config import DetectorSettings
from gridwatch.detectors.pipeline import AreaPipeline
from gridwatch.detectors.stage import DetectionStage
from gridwatch.detectors.state import AreaState
from gridwatch.detectors.theft_features import FEATURES
from gridwatch.detectors.theft_watch import DAY_S, TheftWatch
from gridwatch.vocabulary.inspections import InspectionOutcome
from tests.detector_streams import area_batches, day_of, firing

THEFT = ("theft_bypass", "theft_night_bypass", "theft_meter_stopped")


def test_a_bypass_alert_carries_the_meters_risk_and_signs_and_tops_the_suspects_days_later():
    def bypass(t, ts, iv):
        if day_of(ts) > 17:
            iv.share[3] = 0.4

    pipeline = AreaPipeline(DetectorSettings())
    state = AreaState()
    found = []
    for batch in area_batches(21, bypass):
        state = AreaState.loads(state.dumps())
        found += [f for f in firing(pipeline.process(batch, state).findings) if f.kind in THEFT]
    assert [f.entity for f in found] == ["M03"]
    evidence = found[0].evidence
    assert 0.0 < evidence["theft_risk"] < 1.0 and evidence["theft_rank"].endswith(" of 12")
    assert {name for name, _ in evidence["theft_signs"]} <= set(FEATURES)
    watch = next(d for d in pipeline.detectors if isinstance(d, TheftWatch))
    suspects = watch.rank(state)                   # three days into the theft
    assert suspects[0].meter == "M03" and suspects[0].risk > suspects[1].risk
    assert suspects[0].signs[0][1] >= 2.0           # its strongest sign stands out


def test_a_day_is_the_register_advance_since_midnight_and_silent_meters_are_missing():
    watch = TheftWatch.from_settings(DetectorSettings())
    state = AreaState()
    col = state.meters.col
    state.meters.index_of(["m1", "m2", "m3"])
    col["energy"][:] = [100.0, 50.0, 70.0]
    col["last_ts"][:] = -900.0
    watch.roll_day(state, 0)
    col["energy"][:] = [112.0, 50.0, 60.0]          # m3's register went back: replaced
    col["last_ts"][:] = [DAY_S - 900.0, -900.0, DAY_S - 900.0]   # m2 silent all day
    watch.roll_day(state, 1)
    assert col["theft_present"].tolist() == [1.0, 0.0, 0.0]
    assert col["theft_days"].tolist() == [1.0, 1.0, 1.0]
    assert np.isnan(col["theft_day_start"][1])      # m2's register is stale: no day from it
    col["energy"][0], col["last_ts"][0] = 120.0, 2 * DAY_S - 900.0
    watch.roll_day(state, 5)                        # day 1 closes; the area was silent 2..4
    assert col["theft_days"].tolist() == [5.0, 5.0, 5.0]
    assert col["theft_present"].tolist() == [2.0, 0.0, 0.0]
    assert col["theft_missing_run"].tolist() == [3.0, 5.0, 5.0]


def area_with_decoys(days: int = 120, seed: int = 4):
    """30 meters; thieves are big consumers whose use halves, decoys small ones whose use
    drops deeper (a long absence): the unsupervised risk cannot tell them apart."""
    rng = np.random.default_rng(seed)
    meters = [f"m{i:02d}" for i in range(30)]
    level = np.where(np.arange(30) < 10, 20.0, 6.0)      # m00..m09 big, m10.. small
    thieves, decoys = list(range(0, 8)), list(range(10, 18))
    state = AreaState()
    state.meters.index_of(meters)
    watch = TheftWatch.from_settings(DetectorSettings())
    for day in range(days):
        use = level * rng.lognormal(0.0, 0.15, 30)
        if day >= 80:
            use[thieves] *= 0.5
            use[decoys] *= 0.3
        watch.learn_day(state.meters, use, day % 7)
    for i in thieves + decoys:
        state.scalars.setdefault("episodes", {})[f"theft_bypass|{meters[i]}"] = {}
    return state, meters, thieves, decoys


def auc(suspects, thieves: set[str]) -> float:
    risk = {s.meter: s.risk for s in suspects}
    pos = [risk[m] for m in risk if m in thieves]
    neg = [risk[m] for m in risk if m not in thieves]
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def test_closed_inspections_re_rank_the_open_suspects_and_say_why():
    state, meters, thieves, decoys = area_with_decoys()
    stage = DetectionStage(DetectorSettings())
    watch = next(d for d in stage.pipeline.detectors if isinstance(d, TheftWatch))
    inspected = thieves[:4] + decoys[:4]
    still_open = {meters[i] for i in thieves[4:] + decoys[4:]}
    thief_ids = {meters[i] for i in thieves}

    def open_ones(suspects):
        return [s for s in suspects if s.meter in still_open]

    before = auc(open_ones(watch.suspects(state)), thief_ids)
    suspects = None
    for n, i in enumerate(inspected):
        finding = "confirmed" if i in thieves else "false_alarm"
        outcome = InspectionOutcome("A1", meters[i], "theft_bypass", finding, f"tb-{i}", n)
        suspects = stage.apply_inspection(state, outcome)
        assert stage.apply_inspection(state, outcome) is None     # a replayed record
    after = auc(open_ones(suspects), thief_ids)
    assert before <= 0.6 and after >= 0.9, (before, after)
    assert suspects[0].reasons and suspects[0].reasons[0][0] in (*FEATURES, "unsupervised")
    assert watch.rank(state)[0].meter in thief_ids     # not an honest meter unlike any inspected
    restored = AreaState.loads(state.dumps())                   # the findings live in the state
    assert auc(open_ones(watch.suspects(restored)), thief_ids) == after


def test_an_outcome_without_a_theft_verdict_or_for_an_unknown_meter_teaches_nothing():
    state, meters, _, _ = area_with_decoys(days=30)
    stage = DetectionStage(DetectorSettings())
    repaired = InspectionOutcome("A1", meters[0], "theft_bypass", "repaired", "tb-1", 1.0)
    stranger = InspectionOutcome("A1", "nobody", "theft_bypass", "confirmed", "tb-2", 1.0)
    assert stage.apply_inspection(state, repaired) is None
    assert stage.apply_inspection(state, stranger) is None
    assert not state.scalars.get("theft_inspections")


def test_a_reopened_and_reclosed_order_replaces_its_verdict():
    state, meters, _, _ = area_with_decoys(days=30)
    stage = DetectionStage(DetectorSettings())
    first = InspectionOutcome("A1", meters[0], "theft_bypass", "confirmed", "tb-1", 1.0)
    second = InspectionOutcome("A1", meters[0], "theft_bypass", "not_confirmed", "tb-1", 2.0)
    assert stage.apply_inspection(state, first) is not None
    assert stage.apply_inspection(state, second) is not None
    assert [v[1] for v in state.scalars["theft_inspections"].values()] == [False]
