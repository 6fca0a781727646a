"""Silence watchdog on hand-made upload sequences (pure logic, no broker)."""

from __future__ import annotations

import pytest

from gridwatch.alerts.model import alert_id
from gridwatch.config import ConfigError, DataQualitySettings, DetectorSettings, load_settings
from gridwatch.detectors.silence import KIND, SilenceWatch, StreamClock
from gridwatch.devstack.processes import batch as batch_dict
from gridwatch.evaluation.runner import run_pipeline
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.schema import Batch, Reading, parse_batch_obj

STEP = 900.0
T0 = 1_767_571_200.0   # 2026-01-05 00:00 UTC


def upload(area: str, ts: float, skew: dict[int, float] | None = None) -> Batch:
    skew = skew or {}
    return Batch(f"C-{area}", area, "F1", ts + 30,
                 [Reading(f"{area}-M{i}", ts + skew.get(i, 0.0), "customer", 1, 1.0 + ts / 1e6,
                          [220.0], [1.0]) for i in range(5)])


def watch(intervals: int = 2) -> SilenceWatch:
    return SilenceWatch(DataQualitySettings(interval_s=int(STEP), silence_intervals=intervals))


def feed(w: SilenceWatch, steps: range, areas: tuple[str, ...]) -> list[Finding]:
    """Uploads of ``areas`` for ``steps``, checking the stream clock after each interval."""
    found: list[Finding] = []
    for step in steps:
        ts = T0 + step * STEP
        for area in areas:
            found += w.note_upload(upload(area, ts), [], seen_at=ts)
        found += w.check(ts)
    return found


def test_silent_area_fires_once_while_silent_then_resolves_when_it_resumes():
    w = watch()
    found = feed(w, range(4), ("A1", "A2")) + feed(w, range(4, 12), ("A2",))
    assert [(f.kind, f.entity, f.status) for f in found] == [(KIND, "C-A1", "firing")]
    firing = found[0]
    assert firing.started_at == T0 + 4 * STEP          # the first interval that never came
    assert firing.at == T0 + 6 * STEP                  # 3 intervals after the last upload
    assert firing.observed["missing_intervals"] == 3
    resumed = feed(w, range(12, 13), ("A1", "A2"))
    assert [(f.status, f.started_at, f.at) for f in resumed] == [
        ("resolved", firing.started_at, T0 + 12 * STEP)]
    assert feed(w, range(13, 20), ("A1", "A2")) == []


def test_a_gap_shorter_than_the_setting_is_not_silence():
    w = watch(intervals=3)
    found = feed(w, range(4), ("A1", "A2")) + feed(w, range(4, 7), ("A2",))
    assert found == []                                 # 3 intervals missed, 3.5 needed
    assert [f.entity for f in feed(w, range(7, 8), ("A2",))] == ["C-A1"]


def test_the_late_check_gap_of_the_same_gap_makes_no_second_alert():
    """The production pipeline over a real gap: check_gap reports it on resumption too."""
    batches = [parse_batch_obj(batch_dict(area, "F1", T0 + step * STEP, [221.0] * 6))
               for step in range(40) for area in ("A1", "A2")
               if not (area == "A1" and 20 <= step < 30)]
    findings = [f for f in run_pipeline(batches, DetectorSettings()).findings if f.kind == KIND]
    assert [(f.entity, f.status, f.detector) for f in findings] == [
        ("C-A1", "firing", "silence"), ("C-A1", "resolved", "silence")]
    firing, resolved = findings
    assert firing.at == T0 + 22 * STEP and firing.started_at == T0 + 20 * STEP
    assert resolved.at == T0 + 30 * STEP
    assert (alert_id(KIND, firing.entity, firing.started_at)
            == alert_id(KIND, resolved.entity, resolved.started_at))


def test_without_the_watchdog_check_gap_still_reports_the_gap_on_resumption():
    """A gap the watchdog never reported (never checked) is left to check_gap."""
    w = watch()
    feed(w, range(3), ("A1",))
    gap = Finding(KIND, "C-A1", "concentrator", "A1", "F1", T0 + 3 * STEP, T0 + 9 * STEP,
                  observed={"resumed_ts": T0 + 9 * STEP})
    kept = w.note_upload(upload("A1", T0 + 9 * STEP), [gap], seen_at=T0 + 9 * STEP)
    assert kept == [gap]


def test_only_the_reported_gap_is_dropped_from_the_resuming_batch():
    w = watch()
    feed(w, range(4), ("A1", "A2"))
    feed(w, range(4, 9), ("A2",))
    resume = T0 + 9 * STEP

    def dropout(started_at: float) -> Finding:
        return Finding(KIND, "C-A1", "concentrator", "A1", "F1", started_at, resume)

    partial = dropout(resume - STEP)        # a partial drop-out, another episode
    kept = w.note_upload(upload("A1", resume), [dropout(T0 + 4 * STEP), partial], seen_at=resume)
    assert [(f.started_at, f.status, f.detector) for f in kept] == [
        (resume - STEP, "firing", ""), (T0 + 4 * STEP, "resolved", "silence")]


def test_replaying_old_data_does_not_fire():
    w = watch()
    wall = T0 + 400 * 86_400.0                          # a year later, replaying fast
    for step in range(8):
        for area in ("A1", "A2"):
            w.note_upload(upload(area, T0 + step * STEP), [], seen_at=wall + step * 0.01)
    assert w.check_shards({0}, wall + 5.0) == []
    assert len(w.check(wall)) == 2                      # what a wall clock would claim


def test_each_shard_runs_on_its_own_clock():
    """A partition still catching up on its backlog is not silence."""
    w = watch()
    w.note_upload(upload("A1", T0), [], seen_at=100.0, shard=0)
    w.note_upload(upload("A2", T0 + 20 * STEP), [], seen_at=100.0, shard=1)
    assert w.check_shards({0, 1}, 110.0) == []
    assert [f.entity for f in w.check_shards({0, 1}, 100.0 + 3 * STEP)] == ["C-A1", "C-A2"]


def test_an_open_area_outage_explains_the_silence():
    w = watch()
    feed(w, range(4), ("A1", "A2"))
    dark = Finding("outage_area", "A1", "area", "A1", "F1", T0 + 4 * STEP, T0 + 4 * STEP)
    w.note_upload(upload("A1", T0 + 4 * STEP), [dark], seen_at=T0 + 4 * STEP)
    assert feed(w, range(5, 12), ("A2",)) == []
    back = Finding("outage_area", "A1", "area", "A1", "F1", T0 + 4 * STEP, T0 + 12 * STEP,
                   status="resolved")
    w.note_upload(upload("A1", T0 + 12 * STEP), [back], seen_at=T0 + 12 * STEP)
    assert [f.entity for f in feed(w, range(13, 17), ("A2",))] == ["C-A1"]


def test_late_old_upload_neither_resolves_nor_turns_the_clock_back():
    w = watch()
    feed(w, range(4), ("A1", "A2"))
    assert len(feed(w, range(4, 8), ("A2",))) == 1
    assert w.note_upload(upload("A1", T0 + 2 * STEP), [], seen_at=T0 + 8 * STEP) == []
    assert w.areas["A1"].silent_since == T0 + 4 * STEP


def test_one_meter_clock_running_ahead_does_not_move_the_area_into_the_future():
    w = watch()
    w.note_upload(upload("A1", T0, skew={0: 3 * STEP}), [], seen_at=T0)
    assert w.areas["A1"].last_ts == T0 and w.clocks[0].newest == T0


def test_a_restarted_watch_does_not_report_the_same_silence_again_and_still_resolves_it():
    w = watch()
    feed(w, range(4), ("A1", "A2"))
    assert len(feed(w, range(4, 8), ("A2",))) == 1
    saved = [(area, w.record(area)) for area in w.take_dirty()]
    assert sorted(area for area, _ in saved) == ["A1", "A2"]
    fresh = watch()
    assert fresh.restore(saved, {0}, wall=5_000.0) == 2
    assert fresh.check_shards({0}, 5_000.0 + STEP) == []
    resumed = fresh.note_upload(upload("A1", T0 + 9 * STEP), [], seen_at=6_000.0)
    assert [(f.status, f.started_at) for f in resumed] == [("resolved", T0 + 4 * STEP)]


def test_restore_skips_other_shards_and_keep_shards_forgets_them():
    w = watch()
    w.note_upload(upload("A1", T0), [], seen_at=0.0, shard=0)
    w.note_upload(upload("A2", T0), [], seen_at=0.0, shard=1)
    saved = [(area, w.record(area)) for area in ("A1", "A2")]
    w.keep_shards({1})
    assert list(w.areas) == ["A2"] and list(w.clocks) == [1]
    assert watch().restore(saved, {0}, wall=0.0) == 1


def test_stream_clock_runs_on_between_events():
    clock = StreamClock()
    clock.see(T0, wall=10.0)
    assert clock.now(wall=70.0) == T0 + 60.0
    assert clock.now(wall=5.0) == T0                     # a wall clock stepping back is ignored


def test_silence_intervals_below_one_is_a_config_error(tmp_path):
    path = tmp_path / "gridwatch.yaml"
    path.write_text("detectors:\n  data_quality:\n    silence_intervals: 0\n")
    with pytest.raises(ConfigError, match="silence_intervals"):
        load_settings(path)


def test_every_area_of_a_partition_silent_at_once_is_an_upstream_stall():
    w = watch()
    for step in range(8):
        ts = T0 + step * STEP
        for area in ("A1", "A2", "A3") if step < 4 else ("A2", "A3"):
            w.note_upload(upload(area, ts), [], seen_at=ts)
    assert [f.entity for f in w.check_shards({0}, T0 + 7 * STEP + 10)] == ["C-A1"]
    # then nothing arrives at all: the bridge or the broker stopped, not two concentrators
    assert w.check_shards({0}, T0 + 11 * STEP) == []
    assert w.stalled_shards({0}, T0 + 11 * STEP) == [0]
