"""The quick real-data report runs end to end and its figures hold: the scorer beats null and
random, the theft ranking ranks, the healthy real streams raise no alert."""

from __future__ import annotations

import json

import pytest

from bench.detectors import DATA
from bench.real import main, run

pytestmark = pytest.mark.skipif(not (DATA / "sgcc_dev.csv").is_file(),
                                reason="the shared real data folder is not on this host")


def test_quick_report_has_every_section_and_its_figures_hold(capsys):
    report = run(quick=True)
    pooled = report["scorers"]["pooled"]
    assert pooled["ours"]["standard"] > max(pooled["random"]["standard"],
                                            pooled["null"]["standard"])
    theft = report["theft"]
    assert theft["unsupervised"]["auc"] > 0.6
    assert theft["unsupervised"]["auc"] > theft["baselines"]["random"]["auc"]
    assert theft["findings_cv"]["auc_with_findings_mean"] > 0.6
    alarms = report["false_alarms"]
    assert alarms["areas"] > 0 and alarms["days"] > 0
    assert alarms["alerts_per_area_day"] == 0.0, alarms["by_kind"]


def test_cli_prints_json_and_tables(capsys):
    assert main(["--quick", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"quick", "scorers", "theft",
                                                        "false_alarms"}
    assert main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "Theft ranking on real customers" in out and "False alarms" in out
