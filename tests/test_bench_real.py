"""The quick real-data report runs end to end and its figures hold: the scorer beats null and
random, the theft ranking ranks, the healthy real streams raise no alert."""

from __future__ import annotations

import json

import pytest

from bench.detectors import DATA
from bench.real import print_report, run

pytestmark = pytest.mark.skipif(not (DATA / "sgcc_dev.csv").is_file(),
                                reason="the shared real data folder is not on this host")


@pytest.fixture(scope="module")
def report() -> dict:
    """What `python -m bench.real --quick --json` prints, as JSON would give it back."""
    return json.loads(json.dumps(run(quick=True)))


def test_quick_report_figures_hold(report: dict):
    assert set(report) == {"quick", "scorers", "theft", "false_alarms"}
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


def test_tables_name_every_section(report: dict, capsys):
    print_report(report)
    out = capsys.readouterr().out
    assert "pooled" in out and "Theft ranking on real customers" in out and "False alarms" in out
