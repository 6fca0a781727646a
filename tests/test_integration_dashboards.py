"""Every dashboard query, both flavours, executed against real stores (what Grafana would do).

Grafana cannot be installed here, so this test does its part: a short
simulated stream goes through the detection stage; its metric points, and
the work-order totals the dispatcher computes from a real alert store, are
written to a real VictoriaMetrics (InfluxDB line protocol, as the worker
writes) and to a real InfluxDB 1.x (its v1 ``/write``). Then every target,
template variable and annotation of every built dashboard is run with
Grafana's macros filled in the way Grafana fills them (``All`` = ``.*``).
A query that returns nothing, or series labelled otherwise than its legend
says, fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridwatch.alerts.access import Actor
from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.order_metrics import OrderMetrics
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.config import KpiSettings, OrganisationSettings, Settings
from gridwatch.dashboards.provisioning import INFLUX_DATABASE, dashboard_documents
from gridwatch.detectors.stage import DetectionStage
from gridwatch.detectors.state import AreaState
from gridwatch.devstack.stack import free_port, port_open
from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import parse_scenario
from gridwatch.sensors.stream import iter_batches
from gridwatch.streams.metrics import to_influx_point
from gridwatch.vocabulary.measurements import MetricPoint

SCENARIO = {"days": 3, "warmup_days": 1,
            "grid": {"substations": 1, "feeders_per_substation": 2, "areas_per_feeder": 2,
                     "meters_per_area": 10, "meters_spread": 0.3},
            "events": [{"kind": "outage_area"}, {"kind": "theft_tamper_event"},
                       {"kind": "low_voltage_zone"}, {"kind": "theft_reverse_energy"}]}
STEP = "1h"
TEAMS = ("north", "south")
INFLUX_CONFIG = """reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
"""


@pytest.fixture(scope="module")
def influx_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real InfluxDB 1.x (Debian ``influxd``) on free ports with its own directories."""
    binary = shutil.which("influxd")
    if binary is None:
        pytest.fail("influxd not found: apt-get install influxdb")
    root = tmp_path_factory.mktemp("influxdb")
    http = free_port()
    (root / "influxdb.conf").write_text(INFLUX_CONFIG.format(root=root, http=http,
                                                             rpc=free_port()))
    log = (root / "influxd.log").open("wb")
    process = subprocess.Popen([binary, "-config", str(root / "influxdb.conf")], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", http):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"influxd did not start: {(root / 'influxd.log').read_text()[-2000:]}")
            time.sleep(0.2)
        _post(f"{url}/query", {"q": f"CREATE DATABASE {INFLUX_DATABASE}"})
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _post(url: str, form: dict[str, str], body: bytes | None = None) -> bytes:
    if body is None:
        body = urllib.parse.urlencode(form).encode()
    else:
        url = f"{url}?{urllib.parse.urlencode(form)}"
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as answer:
        return answer.read()


def _get(url: str, params: dict[str, str]) -> Any:
    with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(params)}", timeout=30) as answer:
        return json.loads(answer.read())


def organisation() -> OrganisationSettings:
    """Two supply stations in two counties of one city, two substations."""
    return OrganisationSettings(
        substations={"F01": "S-east", "F02": "S-west"},
        supply_stations={"F01-A01": "station-1", "F01-A02": "station-1",
                         "F02-A01": "station-2", "F02-A02": "station-2"},
        counties={"station-1": "county-a", "station-2": "county-b"},
        cities={"county-a": "city-x", "county-b": "city-x"}, provinces={"city-x": "prov"})


def simulate(store_path: Path) -> tuple[list[MetricPoint], float, float]:
    """The stream through the stage, plus work-order totals before and after the field's work."""
    kpis = KpiSettings(organisation=organisation())
    stage = DetectionStage(Settings().detectors, kpis=kpis)
    states: dict[str, Any] = {}
    points, findings = [], []
    run = scenario_run(parse_scenario(SCENARIO), seed=4)
    for day in run.days_iter():
        for batch in iter_batches(day.rows):
            state = states.setdefault(batch.area, AreaState())
            result = stage.process(batch, state, seen_at=batch.sent_at)
            points += result.points
            findings += result.findings
    stamps = [p.ts for p in points]
    start, end = min(stamps), max(stamps)
    store = SqliteAlertStore(store_path)
    fired = [f for f in findings if f.status == "firing"]
    assert fired, "the scenario raised no alert"
    alerts = []
    for i, finding in enumerate(fired):
        alert = alert_from_finding(finding.to_dict(), received_at=finding.at)
        alert.team = TEAMS[i % 2]
        alerts.append(alert)
    store.upsert_alerts(alerts)
    metrics = OrderMetrics(store, kpis.organisation)
    points += metrics.points(start + 3600)
    admin = Actor("test", "admin")
    for i, alert in enumerate(alerts):
        clock = alert.received_at + 1800
        orders = WorkOrders(store, clock=lambda c=clock: c)
        orders.acknowledge(admin, alert.id)
        if i % 3 != 2:
            WorkOrders(store, clock=lambda c=clock + 7200: c).close(admin, alert.id, "confirmed")
    points += metrics.points(end)
    store.close()
    return points, start, end


@pytest.fixture(scope="module")
def loaded(metrics_url: str, influx_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[float, float]:
    points, start, end = simulate(tmp_path_factory.mktemp("alerts") / "alerts.db")
    lines = "\n".join(to_influx_point(p).to_line_protocol() for p in points).encode()
    _post(f"{metrics_url}/api/v2/write", {"bucket": "gridwatch"}, lines)
    _post(f"{influx_url}/write", {"db": INFLUX_DATABASE, "precision": "ms"}, lines)
    urllib.request.urlopen(f"{metrics_url}/internal/force_flush", timeout=30).read()
    return start, end


def _labels(legend: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, legend))


def _prom_fill(expr: str, start: float, end: float, step: str = STEP) -> str:
    expr = expr.replace("$__range", f"{int(end - start) + 3600}s").replace("$__interval", step)
    return re.sub(r"\$([a-z_]+)", ".*", expr)


def _influx_fill(query: str, start: float, end: float, step: str = STEP) -> str:
    query = query.replace("$timeFilter", f"time >= {int(start) - 3600}s AND time <= {int(end)}s")
    query = query.replace("$__interval", step)
    return re.sub(r"\$([a-z_]+)", ".*", query)


def _documents(flavour: str) -> list[dict[str, Any]]:
    settings = Settings()
    return [d for uid, d in dashboard_documents(settings).items() if uid.endswith(flavour)]


def test_every_promql_target_returns_series_labelled_as_its_legend(
        loaded: tuple[float, float], metrics_url: str) -> None:
    start, end = loaded
    checked = 0
    for document in _documents("prometheus"):
        for panel in document["panels"]:
            step = panel.get("interval", STEP)   # Grafana's least $__interval of the panel
            for target in panel["targets"]:
                expr = _prom_fill(target["expr"], start, end, step)
                if target["range"]:
                    answer = _get(f"{metrics_url}/api/v1/query_range",
                                  {"query": expr, "start": str(start), "end": str(end),
                                   "step": step})
                else:
                    answer = _get(f"{metrics_url}/api/v1/query",
                                  {"query": expr, "time": str(end + 60)})
                where = f"{document['uid']} / {panel['title']}: {expr}"
                series = answer["data"]["result"]
                assert series, f"no data: {where}"
                expected = _labels(target["legendFormat"], r"\{\{(\w+)\}\}")
                for one in series:
                    assert set(one["metric"]) - {"__name__"} == expected, where
                checked += 1
        annotation = document["annotations"]["list"][0]
        answer = _get(f"{metrics_url}/api/v1/query_range",
                      {"query": _prom_fill(annotation["expr"], start, end), "start": str(start),
                       "end": str(end), "step": annotation["step"]})
        assert answer["data"]["result"], f"no alert annotations in {document['uid']}"
        for variable in document["templating"]["list"]:
            name, match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]).group(2,
                                                                                              1)
            values = _get(f"{metrics_url}/api/v1/label/{name}/values",
                          {"match[]": _prom_fill(match, start, end), "start": str(start),
                           "end": str(end)})["data"]
            assert any(v != "unassigned" for v in values), f"variable {name}: {values}"
    assert checked >= 27


def test_every_influxql_target_returns_series_labelled_as_its_alias(
        loaded: tuple[float, float], influx_url: str) -> None:
    start, end = loaded
    checked = 0
    for document in _documents("influxdb"):
        queries = [(panel["title"], target["query"], target["alias"], panel.get("interval", STEP))
                   for panel in document["panels"] for target in panel["targets"]]
        queries.append(("annotation", document["annotations"]["list"][0]["query"], "", STEP))
        queries += [(v["name"], v["query"], "", STEP) for v in document["templating"]["list"]]
        for title, query, alias, step in queries:
            text = _influx_fill(query, start, end, step)
            answer = _get(f"{influx_url}/query", {"db": INFLUX_DATABASE, "q": text,
                                                  "epoch": "s"})
            result = answer["results"][0]
            where = f"{document['uid']} / {title}: {text}"
            assert "error" not in result, f"{result.get('error')}: {where}"
            assert result.get("series"), f"no data: {where}"
            if query.startswith("SELECT"):
                expected = _labels(alias, r"\$tag_(\w+)")
                for one in result["series"]:
                    assert set(one.get("tags", {})) == expected, where
                    assert any(v is not None for row in one["values"] for v in row[1:]), where
            checked += 1
    assert checked >= 27 + 3 * 9
