"""A short simulated grid, run through the detectors into the real stores the views read.

Why the real path: the report and the work-order page must read what the
worker writes, so the points go through `MetricsWriter` (influxdb-client's
batched writes) into a real VictoriaMetrics, and the findings become alerts
in a real SQLite alert store, exactly as the dispatcher stores them. The
only stand-in is routing: teams are given by feeder instead of by a policy.
"""

from __future__ import annotations

import functools
import json
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gridwatch.alerts.model import Alert, alert_from_finding
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.config import DetectorSettings, MetricsSettings
from gridwatch.detectors.pipeline import AreaPipeline, AreaState, MetricPoint
from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import load_scenario
from gridwatch.sensors.stream import iter_batches
from gridwatch.streams.metrics import MetricsWriter
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.schema import SchemaError, parse_batch_obj

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "ci.yaml"
SEED = 5
DAYS = 10
TEAMS = ("north", "south", "east")


@dataclass
class GridRun:
    """Every point and finding of the run, and which team each feeder belongs to."""

    points: list[MetricPoint]
    findings: list[Finding]
    teams: dict[str, str]
    start: float


@functools.cache
def grid_run() -> GridRun:
    """Simulate `DAYS` days of the CI scenario through `AreaPipeline` (once per process)."""
    run = scenario_run(load_scenario(SCENARIO), SEED, DAYS)
    pipeline = AreaPipeline(DetectorSettings())
    states: dict[str, AreaState] = {}
    points: list[MetricPoint] = []
    findings: list[Finding] = []
    for day in run.days_iter():
        for raw in iter_batches(day.rows):
            try:
                batch = parse_batch_obj(raw.to_dict())
            except SchemaError:
                continue
            state = states.setdefault(batch.area, AreaState.loads(None))
            result = pipeline.process(batch, state)
            points += result.points
            findings += result.findings
    feeders = sorted({p.tags["feeder"] for p in points if "feeder" in p.tags})
    teams = {f: TEAMS[i % len(TEAMS)] for i, f in enumerate(feeders)}
    return GridRun(points, findings, teams, run.scenario.start)


def _series_count(url: str, metric: str) -> int:
    query = urllib.parse.urlencode({"query": f"count({metric})", "time": f"{time.time():.0f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
        result = json.loads(response.read())["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


@functools.cache
def write_metrics(url: str) -> GridRun:
    """The run's points written to the store at `url` and searchable (once per store)."""
    data = grid_run()
    writer = MetricsWriter(MetricsSettings(url=url, flush_interval_ms=200))
    writer.write(data.points)
    writer.close()
    assert writer.failed == 0, f"{writer.failed} points failed to write"
    areas = len({p.tags["area"] for p in data.points})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        urllib.request.urlopen(f"{url}/internal/force_flush", timeout=5).close()
        if _series_count(url, "last_over_time(gridwatch_area_readings[1000d])") >= areas:
            return data
        time.sleep(0.3)
    raise AssertionError("VictoriaMetrics did not show the written points within 30 s")


def alerts_of(data: GridRun) -> list[Alert]:
    """The findings as the dispatcher stores them, each with its feeder's team."""
    alerts = []
    for finding in data.findings:
        alert = alert_from_finding(finding.to_dict(), received_at=finding.at + 60)
        alert.team = data.teams.get(alert.feeder, TEAMS[0])
        alerts.append(alert)
    return alerts


def fill_store(path: Path, data: GridRun) -> SqliteAlertStore:
    store = SqliteAlertStore(path)
    store.upsert_alerts(alerts_of(data))
    return store
