"""`gridwatch report` against a real VictoriaMetrics and a real alert store.

The points come from a simulated run written through the worker's writer
(`tests/views_data.py`); each figure of the report is checked against the
same figure computed here directly from those points and alerts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from gridwatch.alerts.access import Actor
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.devstack.processes import write_config
from gridwatch.reporting.org import UnknownUnit
from gridwatch.reporting.period import DAY_S, day, month
from gridwatch.reporting.report import build_report
from gridwatch.streams.promql import PromQuery
from tests.views_data import GridRun, alerts_of, fill_store, write_metrics

INTERVAL_S = 900
REPORT_DAY = 8  # days after the run's start: detectors have warmed up, problems are on


def _label(epoch: float) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def _fields(data: GridRun, measurement: str, name: str, low: float, high: float
            ) -> dict[str, list[tuple[float, float]]]:
    """(ts, value) per area of one field, for low < ts <= high."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for point in data.points:
        if point.measurement == measurement and name in point.fields and low < point.ts <= high:
            out[point.tags["area"]].append((point.ts, point.fields[name]))
    return out


def _outage_day(data: GridRun) -> str:
    """The day with the most dark area-intervals, so the outage figures are not all zero."""
    dark: dict[int, float] = defaultdict(float)
    for point in data.points:
        if point.measurement == "gridwatch_area" and point.fields.get("outage"):
            dark[int((point.ts - 1) // DAY_S)] += 1
    return _label(max(dark, key=dark.__getitem__) * DAY_S)


def test_day_report_figures_match_the_points_written(metrics_url: str, tmp_path: Path) -> None:
    data = write_metrics(metrics_url)
    store = fill_store(tmp_path / "alerts.sqlite", data)
    period = day(_outage_day(data))
    report = build_report(PromQuery(metrics_url), store, period, None, INTERVAL_S)
    store.close()
    s, e = period.start, period.end
    readings = _fields(data, "gridwatch_area", "readings", s, e)
    assert {a.area for a in report.areas} == set(readings)
    loss = _fields(data, "gridwatch_balance", "line_loss_rate", s, e)
    outage = _fields(data, "gridwatch_area", "outage", s, e)
    quality = _fields(data, "gridwatch_area", "voltage_qualification_rate", s - 1, e - 1)
    collection = _fields(data, "gridwatch_area_daily", "collection_rate", s, e)
    for area in report.areas:
        assert area.customers == max(v for _, v in readings[area.area]) - 1
        if loss[area.area]:
            assert area.line_loss_rate == pytest.approx(
                statistics.fmean(v for _, v in loss[area.area]), abs=1e-9)
        else:
            assert (area.line_loss_rate, area.loss_class) == (None, "no data")
        assert area.outage_minutes == pytest.approx(
            sum(v for _, v in outage[area.area]) * INTERVAL_S / 60)
        assert area.voltage_qualification_rate == pytest.approx(max(quality[area.area])[1])
        assert area.collection_rate == pytest.approx(collection[area.area][-1][1])
    kpis = report.kpis()
    assert kpis["line_loss_rate"] == pytest.approx(
        statistics.fmean(a.line_loss_rate for a in report.areas if a.line_loss_rate is not None))
    assert sum(kpis["line_loss_classes"].values()) == len(report.areas)
    worst = report.worst(3)["line_loss_rate"]
    assert [a.line_loss_rate for a in worst] == sorted(
        (a.line_loss_rate for a in report.areas if a.line_loss_rate is not None),
        reverse=True)[:3]
    minutes = sum(a.outage_minutes * a.customers for a in report.areas)
    customers = sum(a.customers for a in report.areas)
    assert kpis["saidi_minutes"] == pytest.approx(minutes / customers, abs=0.01)
    assert kpis["outage_minutes"] > 0 and kpis["saifi"] > 0
    assert len(report.trend.ts) == 24 and report.trend.ts[0] == s
    assert sum(report.trend.outage_minutes) == pytest.approx(
        sum(a.outage_minutes for a in report.areas))


def test_month_report_counts_theft_and_team_work_orders(metrics_url: str,
                                                        tmp_path: Path) -> None:
    data = write_metrics(metrics_url)
    store = fill_store(tmp_path / "alerts.sqlite", data)
    alerts = [store.get_alert(a.id) for a in alerts_of(data)]
    thefts = sorted({a.id: a for a in alerts if a and a.kind.startswith("theft_")}.values(),
                    key=lambda a: a.id)
    assert len(thefts) >= 2, "the CI scenario plants several thefts"
    clock = {"now": 0.0}
    orders = WorkOrders(store, clock=lambda: clock["now"])
    operator = Actor("op", "operator")
    confirmed, rejected = thefts[0], thefts[1]
    for alert, finding, after_h in ((confirmed, "confirmed", 30.0), (rejected, "false_alarm", 6)):
        clock["now"] = alert.received_at + 3600
        orders.acknowledge(operator, alert.id)
        clock["now"] = alert.received_at + after_h * 3600
        orders.close(operator, alert.id, finding)
    period = month(_label(data.start)[:7])
    report = build_report(PromQuery(metrics_url), store, period, None, INTERVAL_S)
    theft = report.orders.theft
    assert theft.found == len(thefts)
    assert (theft.confirmed, theft.not_confirmed, theft.open) == (1, 1, len(thefts) - 2)
    assert theft.estimated_kwh_recovered == pytest.approx(
        (confirmed.estimated_loss_kwh_per_day or 0)
        * (confirmed.received_at + 30 * 3600 - confirmed.started_at) / DAY_S)
    stored = {a.id: a for a in alerts if a}
    teams = {t.team: t for t in report.orders.teams}
    assert sum(t.opened for t in teams.values()) == len(stored)
    team = teams[confirmed.team]
    assert team.opened == sum(1 for a in stored.values() if a.team == confirmed.team)
    assert team.closed == 1 + (rejected.team == confirmed.team)
    assert 1.0 in [round(h, 6) for h in team.hours_to_acknowledge]
    assert sorted(report.orders.alerts_by_kind.items()) == sorted(
        {k: sum(1 for a in stored.values() if a.kind == k)
         for k in {a.kind for a in stored.values()}}.items())
    store.close()


def test_org_unit_limits_the_report_and_an_unknown_unit_is_named(metrics_url: str,
                                                                 tmp_path: Path) -> None:
    data = write_metrics(metrics_url)
    store = fill_store(tmp_path / "alerts.sqlite", data)
    period = day(_label(data.start + REPORT_DAY * DAY_S))
    feeder = sorted(data.teams)[0]
    report = build_report(PromQuery(metrics_url), store, period, feeder, INTERVAL_S)
    assert report.areas and {a.feeder for a in report.areas} == {feeder}
    assert all(a.feeder == feeder for a in report.orders.outages)
    with pytest.raises(UnknownUnit, match="'NOWHERE' is neither a feeder"):
        build_report(PromQuery(metrics_url), store, period, "NOWHERE", INTERVAL_S)
    everything = build_report(PromQuery(metrics_url), store, period, None, INTERVAL_S)
    above = build_report(PromQuery(metrics_url), store, period, "unassigned", INTERVAL_S)
    assert above.unit.name == "substation unassigned"   # no organisation configured
    assert {a.area for a in above.areas} == {a.area for a in everything.areas}
    assert len(above.orders.outages) == len(everything.orders.outages)
    store.close()


def _report(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gridwatch", "-c", str(config), "report",
                           *args], capture_output=True, text=True, timeout=120)


def test_report_cli_prints_json_and_refuses_bad_input(metrics_url: str, tmp_path: Path) -> None:
    data = write_metrics(metrics_url)
    store_path = tmp_path / "alerts.sqlite"
    fill_store(store_path, data).close()
    config = write_config(tmp_path / "gw.yaml", {"metrics": {"url": metrics_url},
                                                 "alerts": {"store_path": str(store_path)}})
    label = _label(data.start + REPORT_DAY * DAY_S)
    out = tmp_path / "day.html"
    done = _report(config, "--day", label, "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["period"] == label and figures["out"] == str(out)
    assert figures["kpis"]["areas"] == len({p.tags["area"] for p in data.points})
    assert out.read_text().count("data:image/png;base64,") >= 3
    empty = _report(config, "--month", "2025-01", "--out", str(tmp_path / "empty.html"), "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout)["kpis"]["areas"] == 0
    bad = _report(config, "--day", "2026-13-01")
    assert bad.returncode == 2 and "--day must look like 2026-12-01" in bad.stderr
    both = _report(config, "--day", label, "--month", label[:7])
    assert both.returncode == 2 and "not allowed with" in both.stderr
    down = write_config(tmp_path / "down.yaml", {"metrics": {"url": "http://127.0.0.1:9"},
                                                 "alerts": {"store_path": str(store_path)}})
    unreachable = _report(down, "--day", label, "--out", str(tmp_path / "x.html"))
    assert unreachable.returncode == 1 and "unreachable" in unreachable.stderr
