"""`gridwatch evaluate` end to end on a tiny scenario: the real pipeline, the JSON, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gridwatch.cli import main
from gridwatch.config import Settings
from gridwatch.evaluation.harness import evaluate, write_outputs
from gridwatch.sensors.offline import scenario_run, write_parquet
from gridwatch.sensors.scenarios import load_scenario

KEYS = {"events", "alerts", "precision", "recall", "f1", "delay_median_s", "delay_p95_s"}
TINY = {
    "name": "tiny", "days": 3, "warmup_days": 1,
    "grid": {"substations": 1, "feeders_per_substation": 2, "areas_per_feeder": 3,
             "meters_per_area": 8},
    "events": [{"kind": "outage_area", "entity": "F02-A01", "start_h": 40, "duration_h": 3},
               {"kind": "meter_power_loss", "count": 1}],
}


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_evaluate_runs_the_pipeline_over_every_reading(tiny: Path, tmp_path: Path) -> None:
    outcome = evaluate(tiny, seed=3, days=None, settings=Settings().detectors, progress=False)
    run = scenario_run(load_scenario(tiny), 3)
    expected = sum(day.rows.num_rows for day in run.days_iter())
    assert outcome.run.readings == outcome.meta["readings"] == expected
    assert outcome.run.areas == 6 and not outcome.run.dead_letters
    kinds = outcome.summary()["kinds"]
    assert {"outage_area", "meter_power_loss"} <= set(kinds)
    assert all(set(entry) == KEYS for entry in kinds.values())
    # an area with every voltage at zero for three hours is unmistakable
    assert kinds["outage_area"]["events"] == 1 and kinds["outage_area"]["recall"] == 1.0
    assert 0 < kinds["outage_area"]["delay_median_s"] <= 3600

    html_path, json_path = write_outputs(outcome, tmp_path / "r" / "report.html")
    html = html_path.read_text()
    assert html.count("<img src='data:image/png;base64,") == len(kinds)
    assert "Missed labels" in html and "False alerts" in html
    details = json.loads(json_path.read_text())
    assert details["meta"]["scenario"] == "tiny" and "missed" in details["kinds"]["outage_area"]


def test_a_stream_file_scores_like_the_scenario_it_came_from(tiny: Path, tmp_path: Path) -> None:
    path = tmp_path / "tiny.parquet"
    write_parquet(scenario_run(load_scenario(tiny), 4), path)
    from_file = evaluate(path, seed=0, days=None, settings=Settings().detectors, progress=False)
    generated = evaluate(tiny, seed=4, days=None, settings=Settings().detectors, progress=False)
    assert from_file.summary() == generated.summary()


def test_cli_prints_one_json_object(tiny: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--scenario", str(tiny), "--seed", "2", "--days", "2", "--json",
                 "--report", str(tmp_path / "cli.html")])
    out = capsys.readouterr().out
    assert code == 0
    result = json.loads(out)
    assert list(result) == ["kinds"] and (tmp_path / "cli.html").exists()


def test_cli_names_a_bad_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("events: [{kind: teleport}]\n")
    assert main(["evaluate", "--scenario", str(bad)]) == 2
    assert "events[0].kind" in capsys.readouterr().err


def test_cli_pools_several_seeds(tiny: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", "--scenario", str(tiny), "--seed", "2", "5", "--json",
                 "--report", str(tmp_path / "multi.html")])
    pooled = json.loads(capsys.readouterr().out)["kinds"]
    assert code == 0
    assert pooled["outage_area"]["events"] == 2 and pooled["meter_power_loss"]["events"] == 2
    assert (tmp_path / "multi-seed2.html").exists() and (tmp_path / "multi-seed5.html").exists()
