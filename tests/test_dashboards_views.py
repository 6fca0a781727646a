"""The built dashboards: both flavours of each, names only from the registry, provisioning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from gridwatch.cli import main
from gridwatch.config import Settings
from gridwatch.dashboards.provisioning import dashboard_documents
from gridwatch.vocabulary.measurements import MEASUREMENTS, series_name

SERIES = {series_name(m.name, f) for m in MEASUREMENTS.values() for f in m.fields}


def _targets(document: dict) -> list[dict]:
    return [t for p in document["panels"] for t in p["targets"]]


def test_build_writes_three_dashboards_in_both_flavours_and_provisioning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "build", "--out", str(tmp_path), "--json"]) == 0
    written = [Path(p) for p in json.loads(capsys.readouterr().out)["written"]]
    boards = sorted(p.stem for p in written if p.suffix == ".json")
    assert boards == sorted(f"gridwatch-{view}-{flavour}"
                            for view in ("operations", "management", "decision")
                            for flavour in ("prometheus", "influxdb"))
    sources = yaml.safe_load((tmp_path / "provisioning/datasources/gridwatch.yaml").read_text())
    used = {t["datasource"]["uid"] for p in written if p.suffix == ".json"
            for t in _targets(json.loads(p.read_text()))}
    assert used == {s["uid"] for s in sources["datasources"]}
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/gridwatch.yaml").read_text())
    assert Path(provider["providers"][0]["options"]["path"]) == (tmp_path / "dashboards").resolve()


def test_every_name_in_every_query_is_declared_in_the_registry() -> None:
    for uid, document in dashboard_documents(Settings()).items():
        texts = [t.get("expr") or t["query"] for t in _targets(document)]
        texts += [a.get("expr") or a["query"] for a in document["annotations"]["list"]]
        texts += [v["query"] for v in document["templating"]["list"]]
        for text in texts:
            if uid.endswith("prometheus"):
                names = set(re.findall(r"\b(gridwatch_\w+)\{", text)) | set(
                    re.findall(r"label_values\((gridwatch_\w+)", text))
                assert names and names <= SERIES, (uid, text)
            else:
                names = set(re.findall(r'FROM "(gridwatch_\w+)"', text))
                assert names and names <= set(MEASUREMENTS), (uid, text)


def test_targets_come_from_the_configuration() -> None:
    settings = Settings()
    settings.kpis.targets.voltage_qualification_rate = 0.95
    document = dashboard_documents(settings)["gridwatch-management-prometheus"]
    steps = [s["value"] for p in document["panels"]
             for s in p["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert 0.95 in steps and 0.99 not in steps


def test_hierarchy_variables_chain_top_down() -> None:
    document = dashboard_documents(Settings())["gridwatch-operations-influxdb"]
    names = [v["name"] for v in document["templating"]["list"]]
    assert names[:7] == ["province", "city", "county", "supply_station", "substation",
                         "feeder", "area"]
    city = document["templating"]["list"][1]["query"]
    assert '"province" =~ /^$province$/' in city
