"""NAB scoring math on hand-made windows and detections (gridwatch.evaluation.nab)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from gridwatch.evaluation.nab import (
    PROFILES,
    SweepResult,
    label_rows,
    load_windows,
    probation_rows,
    scaled_sigmoid,
    score_at,
    sweep,
)

STANDARD = PROFILES["standard"]
T0 = datetime(2021, 3, 1)


def stamps(n: int) -> list[datetime]:
    return [T0 + timedelta(minutes=5 * i) for i in range(n)]


def one_window_file(n: int = 200, first: int = 100, last: int = 119):
    ts = stamps(n)
    return label_rows("cat/f.csv", ts, [(ts[first], ts[last])])


def detections(n: int, rows: list[int]) -> np.ndarray:
    s = np.zeros(n)
    s[rows] = 1.0
    return s


def test_detection_at_window_start_scores_about_plus_one():
    f = one_window_file()
    r = score_at([f], [detections(200, [100])], STANDARD, 0.5)
    assert (r.tp, r.fp, r.fn) == (1, 0, 0)
    assert r.raw == pytest.approx(scaled_sigmoid(-1.0)) and r.raw > 0.98


def test_later_detection_in_window_scores_less():
    f = one_window_file()
    early = score_at([f], [detections(200, [101])], STANDARD, 0.5).raw
    late = score_at([f], [detections(200, [119])], STANDARD, 0.5).raw
    assert 0.0 < late < 0.3 < early


def test_only_the_first_detection_of_a_window_counts():
    f = one_window_file()
    once = score_at([f], [detections(200, [105])], STANDARD, 0.5)
    many = score_at([f], [detections(200, [105, 106, 110, 119])], STANDARD, 0.5)
    assert many.raw == pytest.approx(once.raw)
    assert many.fp == 0


@pytest.mark.parametrize("profile_name", list(PROFILES))
def test_false_positive_far_from_windows_costs_a_fp(profile_name):
    profile = PROFILES[profile_name]
    f = one_window_file()
    with_fp = score_at([f], [detections(200, [100, 60])], profile, 0.5)
    without = score_at([f], [detections(200, [100])], profile, 0.5)
    assert with_fp.fp == 1
    assert without.raw - with_fp.raw == pytest.approx(profile.a_fp)


def test_false_positive_just_after_a_window_costs_little_and_far_after_costs_a_fp():
    f = one_window_file(n=400)
    base = score_at([f], [detections(400, [100])], STANDARD, 0.5).raw
    near = base - score_at([f], [detections(400, [100, 120])], STANDARD, 0.5).raw
    far = base - score_at([f], [detections(400, [100, 119 + 20 * 4])], STANDARD, 0.5).raw
    assert 0.0 < near < 0.2 * STANDARD.a_fp
    assert far == pytest.approx(STANDARD.a_fp)


@pytest.mark.parametrize("profile_name", list(PROFILES))
def test_missed_window_costs_a_fn(profile_name):
    profile = PROFILES[profile_name]
    ts = stamps(300)
    f = label_rows("cat/f.csv", ts, [(ts[100], ts[109]), (ts[200], ts[209])])
    r = score_at([f], [np.zeros(300)], profile, 0.5)
    assert r.fn == 2 and r.raw == pytest.approx(-2 * profile.a_fn)
    one_hit = score_at([f], [detections(300, [100])], profile, 0.5)
    assert one_hit.raw - r.raw == pytest.approx(profile.a_fn + profile.a_tp * scaled_sigmoid(-1))


def test_probation_rows_are_not_scored():
    ts = stamps(1000)
    f = label_rows("cat/f.csv", ts, [(ts[100], ts[119])])
    assert probation_rows(1000) == 150
    r = score_at([f], [detections(1000, [100, 10])], STANDARD, 0.5)
    assert (r.tp, r.fp, r.fn) == (0, 0, 1)


@pytest.mark.parametrize("profile_name", list(PROFILES))
def test_null_normalises_to_zero_and_perfect_to_hundred(profile_name):
    profile = PROFILES[profile_name]
    ts = stamps(300)
    windows = [(ts[100], ts[109]), (ts[200], ts[209])]
    f = label_rows("cat/f.csv", ts, windows)
    null = sweep([f], [np.zeros(300)], profile)
    assert null.normalised == pytest.approx(0.0) and null.threshold == math.inf
    full_credit = SweepResult(0.5, profile.a_tp * 2, null.raw, null.perfect, 2, 0, 0)
    assert full_credit.normalised == pytest.approx(100.0)
    perfect = sweep([f], [detections(300, [100, 200])], profile)
    assert 99.0 < perfect.normalised < 100.0


def test_sweep_finds_the_best_fixed_threshold():
    rng = np.random.default_rng(3)
    ts = stamps(400)
    files = [label_rows("a/x.csv", ts, [(ts[150], ts[179])]),
             label_rows("a/y.csv", ts, [(ts[100], ts[119]), (ts[300], ts[339])])]
    scores = [rng.random(400) ** 4 for _ in files]
    scores[0][155] = 0.97
    for profile in PROFILES.values():
        best = sweep(files, scores, profile)
        candidates = np.unique(np.concatenate(scores))
        brute = max(score_at(files, scores, profile, t).raw for t in candidates)
        assert best.raw == pytest.approx(max(brute, best.null))
        again = score_at(files, scores, profile, best.threshold)
        assert again.raw == pytest.approx(best.raw)


def test_window_holding_no_row_is_an_error():
    ts = stamps(50)
    with pytest.raises(ValueError, match="holds no row"):
        label_rows("cat/f.csv", ts, [(T0 - timedelta(days=3), T0 - timedelta(days=2))])


def test_load_windows_reads_nab_format_and_rejects_bad_pairs(tmp_path):
    good = tmp_path / "w.json"
    good.write_text(json.dumps({"c/f.csv": [["2014-03-14 03:31:00.000000",
                                             "2014-03-14 14:41:00.000000"]], "c/g.csv": []}))
    windows = load_windows(good)
    assert windows["c/f.csv"] == [(datetime(2014, 3, 14, 3, 31), datetime(2014, 3, 14, 14, 41))]
    assert windows["c/g.csv"] == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"c/f.csv": [["2014-03-14"]]}))
    with pytest.raises(ValueError, match="c/f.csv"):
        load_windows(bad)


def test_bench_runner_scores_a_nab_layout_directory(tmp_path):
    ts = stamps(600)
    rng = np.random.default_rng(5)
    values = 10 + rng.normal(0, 0.5, 600)
    values[400:410] += 15.0
    for cat in ("realA", "realB"):
        folder = tmp_path / "data" / cat
        folder.mkdir(parents=True)
        (folder / "f.csv").write_text("timestamp,value\n" + "".join(
            f"{t:%Y-%m-%d %H:%M:%S},{v:.3f}\n" for t, v in zip(ts, values, strict=True)))
    (tmp_path / "labels").mkdir()
    window = [f"{ts[395]:%Y-%m-%d %H:%M:%S}.000000", f"{ts[420]:%Y-%m-%d %H:%M:%S}.000000"]
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(
        {"realA/f.csv": [window], "realB/f.csv": [window], "realC/missing.csv": []}))
    run = subprocess.run(
        [sys.executable, "-m", "bench.nab", "--data", str(tmp_path),
         "--detectors", "robust-likelihood,null,random", "--dev", "realA", "--json"],
        cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [f["name"] for f in report["files"]] == ["realA/f.csv", "realB/f.csv"]
    detectors = report["detectors"]
    assert detectors["null"]["corpus"]["standard"]["score"] == 0.0
    assert detectors["robust-likelihood"]["corpus"]["standard"]["score"] > 90.0
    assert detectors["robust-likelihood"]["test_at_dev_threshold"]["standard"]["tp"] == 1
