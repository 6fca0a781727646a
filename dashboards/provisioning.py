"""`gridwatch dashboards build`: the dashboards' JSON plus Grafana provisioning files.

Why provisioning files as well as JSON: a Grafana the utility runs itself
picks the dashboards and both datasources up at start from
``provisioning/`` with no clicking, and the same JSON can be pushed to a
Grafana the team does not own (`push.py`).

Layout of ``--out DIR``::

    DIR/dashboards/<uid>.json                      one per dashboard and flavour
    DIR/provisioning/datasources/gridwatch.yaml    VictoriaMetrics and InfluxDB
    DIR/provisioning/dashboards/gridwatch.yaml     a file provider reading DIR/dashboards
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..config import Settings
from .grafana import FLAVOURS, INFLUXDB, PROMETHEUS
from .views import dashboards

FOLDER = "GridWatch"
INFLUX_DATABASE = "gridwatch"


def dashboard_documents(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every dashboard in every flavour, by uid."""
    out = {}
    for dashboard in dashboards(settings.kpis):
        for flavour in FLAVOURS:
            document = dashboard.to_json(flavour)
            out[document["uid"]] = document
    return out


def datasources(settings: Settings, influx_url: str) -> dict[str, Any]:
    """Both datasources, with the uids the dashboards refer to."""
    return {"apiVersion": 1, "datasources": [
        {"name": "GridWatch VictoriaMetrics", "type": PROMETHEUS.plugin, "uid": PROMETHEUS.uid,
         "access": "proxy", "url": settings.metrics.url, "isDefault": True},
        {"name": "GridWatch InfluxDB", "type": INFLUXDB.plugin, "uid": INFLUXDB.uid,
         "access": "proxy", "url": influx_url, "jsonData": {"dbName": INFLUX_DATABASE,
                                                             "httpMode": "GET"}},
    ]}


def providers(dashboards_dir: Path) -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [
        {"name": "gridwatch", "folder": FOLDER, "type": "file", "disableDeletion": False,
         "updateIntervalSeconds": 60, "allowUiUpdates": False,
         "options": {"path": str(dashboards_dir.resolve())}}]}


def build(settings: Settings, out: Path, influx_url: str = "http://127.0.0.1:8086") -> list[Path]:
    """Write the dashboards and provisioning files under `out`; return the files written."""
    board_dir = out / "dashboards"
    board_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for uid, document in dashboard_documents(settings).items():
        path = board_dir / f"{uid}.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    for kind, body in (("datasources", datasources(settings, influx_url)),
                       ("dashboards", providers(board_dir))):
        path = out / "provisioning" / kind / "gridwatch.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        written.append(path)
    return written
