"""Closed theft work orders become inspection outcomes for the worker, each sent once."""

from __future__ import annotations

from pathlib import Path

from gridwatch.alerts.access import Actor
from gridwatch.alerts.inspections import InspectionOutbox
from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.vocabulary.findings import Finding

ADMIN = Actor("root", "admin")
T0 = 1_767_571_200.0


def stored(store: SqliteAlertStore, kind: str, entity: str, entity_type: str = "meter") -> str:
    finding = Finding(kind=kind, entity=entity, entity_type=entity_type, area="A1", feeder="F1",
                      started_at=T0, at=T0, detector="test")
    return store.upsert_alerts([alert_from_finding(finding.to_dict(), T0)])[0].id


def test_theft_verdicts_are_sent_once_and_a_changed_verdict_again(tmp_path: Path):
    store = SqliteAlertStore(tmp_path / "alerts.sqlite")
    clock = iter(float(t) for t in range(100, 200))
    orders = WorkOrders(store, clock=lambda: next(clock))
    thief = stored(store, "theft_bypass", "m1")
    honest = stored(store, "theft_tamper_event", "m2")
    fixed = stored(store, "theft_meter_stopped", "m3")
    outage = stored(store, "outage_area", "A1", "area")
    for alert_id, finding in ((thief, "confirmed"), (honest, "false_alarm"),
                              (fixed, "repaired"), (outage, "confirmed")):
        orders.close(ADMIN, alert_id, finding)
    outbox = InspectionOutbox(store)
    pending = outbox.pending()
    assert [(o.meter, o.finding, o.confirmed) for o in pending] == [
        ("m1", "confirmed", True), ("m2", "false_alarm", False)]
    assert all(o.area == "A1" for o in pending)
    outbox.sent(pending[:1])
    assert [o.meter for o in outbox.pending()] == ["m2"]
    outbox.sent(outbox.pending())
    assert outbox.pending() == []
    orders.reopen(ADMIN, thief, "wrong meter inspected")
    orders.close(ADMIN, thief, "not_confirmed")
    assert [(o.meter, o.confirmed) for o in outbox.pending()] == [("m1", False)]
    store.close()
