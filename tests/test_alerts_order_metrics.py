"""Work-order and theft totals from a real (SQLite) alert store."""

from __future__ import annotations

from pathlib import Path

from gridwatch.alerts.access import Actor
from gridwatch.alerts.model import Alert, alert_from_finding
from gridwatch.alerts.order_metrics import OrderMetrics
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.config import OrganisationSettings
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.kinds import OUTAGE_AREA, THEFT, kinds_where
from gridwatch.vocabulary.measurements import THEFT_CASES, WORK_ORDERS

THEFT_KIND = sorted(kinds_where(problem_class=THEFT))[0]
HOUR = 3600.0
DAY = 86_400.0


def _alert(kind: str, entity: str, at: float, team: str, loss: float | None = None) -> Alert:
    finding = Finding(kind=kind, entity=entity, entity_type="meter", area="A1", feeder="F1",
                      started_at=at, at=at, detector="test", reason="test",
                      estimated_loss_kwh_per_day=loss)
    alert = alert_from_finding(finding.to_dict(), received_at=at)
    alert.team = team
    return alert


def test_totals_per_team_and_theft_recovered_per_area(tmp_path: Path) -> None:
    store = SqliteAlertStore(tmp_path / "alerts.db")
    theft = _alert(THEFT_KIND, "A1-M1", 0.0, "north", loss=12.0)
    outage = _alert(OUTAGE_AREA, "A1", 0.0, "north")
    other = _alert(OUTAGE_AREA, "A1-x", 0.0, "south")
    store.upsert_alerts([theft, outage, other])
    admin = Actor("t", "admin")
    WorkOrders(store, clock=lambda: 2 * HOUR).acknowledge(admin, theft.id)
    WorkOrders(store, clock=lambda: 2 * DAY).close(admin, theft.id, "confirmed")
    WorkOrders(store, clock=lambda: 4 * HOUR).acknowledge(admin, outage.id)
    points = OrderMetrics(store, OrganisationSettings(substations={"F1": "S1"})).points(3 * DAY)
    teams = {p.tags["team"]: p.fields for p in points if p.measurement == WORK_ORDERS}
    assert teams["north"] == {"open": 1.0, "opened_total": 2.0, "acknowledged_total": 2.0,
                              "closed_total": 1.0, "hours_to_acknowledge_total": 6.0,
                              "hours_to_close_total": 48.0}
    assert teams["south"]["open"] == 1.0 and teams["south"]["acknowledged_total"] == 0.0
    (case,) = [p for p in points if p.measurement == THEFT_CASES]
    assert case.tags["substation"] == "S1" and case.tags["province"] == "unassigned"
    assert case.fields == {"found_total": 1.0, "confirmed_total": 1.0,
                           "kwh_recovered_total": 24.0}
    store.close()
