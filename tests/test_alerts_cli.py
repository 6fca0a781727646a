"""`gridwatch alerts ...` end to end on a store file: work orders, labels, policy and silences."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml

from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.cli import main
from gridwatch.vocabulary.labels import read_labels

T0 = 1_767_571_200.0


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = SqliteAlertStore(tmp_path / "alerts.sqlite")
    alert = alert_from_finding({"kind": "theft_meter_stopped", "entity": "F01-A01-M004",
                                "entity_type": "meter", "area": "F01-A01", "feeder": "F01",
                                "started_at": T0, "at": T0 + 900}, received_at=T0)
    store.upsert_alerts([alert])
    store.close()
    path = tmp_path / "gridwatch.yaml"
    path.write_text(yaml.safe_dump({"alerts": {"store_path": str(tmp_path / "alerts.sqlite")}}))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_work_order_from_the_shell_ends_as_a_label(config: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-c", str(config), "alerts", "list", "--json")
    (alert,) = json.loads(out)
    aid = alert["id"]
    for argv in (["ack", aid, "--note", "seen"], ["assign", aid, "li"], ["start", aid],
                 ["comment", aid, "register frozen since March"],
                 ["close", aid, "repaired", "--note", "meter replaced"]):
        code, out, err = run(capsys, "-c", str(config), "alerts", "--as", "wang", *argv)
        assert code == 0, err
    assert out.strip() == f"{aid}: closed (repaired), assigned to li"
    code, out, err = run(capsys, "-c", str(config), "alerts", "ack", aid)
    assert code == 1 and "is closed; reopen it first" in err
    _, out, _ = run(capsys, "-c", str(config), "alerts", "show", aid, "--json")
    shown = json.loads(out)
    assert [(e["actor"], e["action"]) for e in shown["audit"]] == [
        ("wang", "acknowledge"), ("wang", "assign"), ("wang", "start"), ("wang", "comment"),
        ("wang", "close")]
    labels_path, csv_path = tmp_path / "labels.json", tmp_path / "closed.csv"
    code, out, _ = run(capsys, "-c", str(config), "alerts", "export-labels", str(labels_path),
                       "--csv", str(csv_path), "--json")
    assert code == 0 and json.loads(out)["labels"] == 1
    (label,) = read_labels(labels_path)
    closed_at = shown["alert"]["closed_at"]
    assert (label.kind, label.entity, label.start, label.end) == (
        "theft_meter_stopped", "F01-A01-M004", T0, closed_at)
    assert "repaired" in csv_path.read_text()


def test_bad_policy_and_bad_silence_are_refused_with_the_reason(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({"route": {"routes": [{"matchers": ["kind=~theft_("]}]}}))
    code, _, err = run(capsys, "-c", str(config), "alerts", "check-policy", str(policy))
    assert code == 2 and "route.routes[0].matchers[0]" in err and "regular expression" in err
    policy.write_text(yaml.safe_dump({"route": {"routes": [{"matchers": ["feeder=F01"],
                                                            "group_wait_s": 0}]}}))
    code, out, _ = run(capsys, "-c", str(config), "alerts", "check-policy", str(policy))
    assert code == 0 and 'feeder="F01" -> default' in out
    code, _, err = run(capsys, "-c", str(config), "alerts", "silence", "add", "-m", "zone=F01",
                       "--duration", "2h", "--comment", "x")
    assert code == 1 and "unknown label 'zone'" in err
    code, out, _ = run(capsys, "-c", str(config), "alerts", "silence", "add", "-m", "feeder=F01",
                       "--duration", "2h", "--comment", "switching", "--json")
    silence = json.loads(out)
    assert code == 0 and silence["ends_at"] - silence["starts_at"] == pytest.approx(7200)
    code, out, _ = run(capsys, "-c", str(config), "alerts", "silence", "expire", silence["id"])
    assert code == 0
    _, out, _ = run(capsys, "-c", str(config), "alerts", "silence", "list", "--json")
    assert json.loads(out) == []


def test_tokens_are_printed_once_and_never_logged(config: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, _ = run(capsys, "-c", str(config), "alerts", "token", "add", "li", "--role",
                       "inspector", "--team", "north")
    secret = out.strip()
    assert code == 0 and secret.startswith("gw_")
    _, out, _ = run(capsys, "-c", str(config), "alerts", "token", "list", "--json")
    assert json.loads(out) == [{"name": "li", "role": "inspector", "team": "north"}]
    assert secret not in caplog.text
    store = SqliteAlertStore(yaml.safe_load(config.read_text())["alerts"]["store_path"])
    assert secret not in json.dumps([t.__dict__ for t in store.list_tokens()])
