"""Alert model, store, work-order rules and field labels, on an in-memory SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridwatch.alerts.access import AccessDenied, Actor, authenticate, create_token
from gridwatch.alerts.field_labels import field_labels, findings_csv
from gridwatch.alerts.model import AlertParseError, alert_from_finding, parse_alert_record
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.store import AlertQuery
from gridwatch.alerts.workorders import WorkOrderConflict, WorkOrderNotFound, WorkOrders
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.labels import read_labels, write_labels

T0 = 1_767_571_200.0
ADMIN = Actor("root", "admin")
OPERATOR = Actor("desk", "operator")
NORTH = Actor("li", "inspector", "north")
SOUTH = Actor("zhao", "inspector", "south")


def finding(kind: str = "theft_bypass", entity: str = "F01-A01-M001", started: float = T0,
            status: str = "firing", at: float | None = None) -> Finding:
    return Finding(kind=kind, entity=entity, entity_type="meter", area=entity[:7],
                   feeder=entity[:3], started_at=started, at=started if at is None else at,
                   status=status, severity="critical", detector="theft",
                   estimated_loss_kwh_per_day=4.2)


def stored(store: SqliteAlertStore, f: Finding, team: str = "north") -> str:
    alert = alert_from_finding(f.to_dict(), received_at=T0)
    alert.team = team
    return store.upsert_alerts([alert])[0].id


@pytest.fixture
def store() -> SqliteAlertStore:
    return SqliteAlertStore(":memory:")


def test_replayed_or_late_records_never_make_a_second_alert_or_reopen_one(
        store: SqliteAlertStore) -> None:
    first = stored(store, finding())
    assert stored(store, finding(at=T0 + 900)) == first
    assert stored(store, finding(status="resolved", at=T0 + 1800)) == first
    stored(store, finding(at=T0 + 900))
    alert = store.get_alert(first)
    assert alert is not None and alert.status == "resolved" and alert.ended_at == T0 + 1800
    assert alert.last_seen == T0 + 1800
    assert len(store.list_alerts(AlertQuery())) == 1
    assert stored(store, finding(started=T0 + 86400)) != first


@pytest.mark.parametrize("raw, reason", [
    (b"[1, 2]", "record must be a JSON object"),
    (json.dumps({**finding().to_dict(), "status": "open"}).encode(), "field 'status'"),
    (json.dumps({**finding().to_dict(), "started_at": "yesterday"}).encode(),
     "field 'started_at' must be a finite number"),
    (json.dumps({**finding().to_dict(), "at": T0 - 1}).encode(), "is before 'started_at'"),
    (json.dumps({**finding().to_dict(), "severity": "urgent"}).encode(), "field 'severity'"),
    (b"\xff\xfe", "record is not valid JSON"),
    (None, "record has no value"),
])
def test_unparseable_records_say_why(raw: bytes | None, reason: str) -> None:
    with pytest.raises(AlertParseError, match=reason.replace("(", r"\(")):
        parse_alert_record(raw, 0.0)


def test_close_needs_a_finding_and_closed_orders_need_reopening(store: SqliteAlertStore) -> None:
    orders = WorkOrders(store, clock=lambda: T0 + 5)
    aid = stored(store, finding())
    with pytest.raises(ValueError, match="finding must be one of"):
        orders.close(NORTH, aid, "dunno")
    orders.close(NORTH, aid, "false_alarm", "customer on holiday")
    for action in (lambda: orders.acknowledge(NORTH, aid), lambda: orders.start(NORTH, aid),
                   lambda: orders.close(NORTH, aid, "confirmed")):
        with pytest.raises(WorkOrderConflict, match="reopen it first"):
            action()
    with pytest.raises(AccessDenied):
        orders.reopen(NORTH, aid, "wrong finding")
    reopened = orders.reopen(OPERATOR, aid, "meter photo shows a bypass")
    assert (reopened.work_state, reopened.finding, reopened.closed_at) == ("acknowledged", "",
                                                                            None)
    actions = [(e.actor, e.action) for e in store.audit_trail(aid)]
    assert actions == [("li", "close"), ("desk", "reopen")]


def test_inspector_is_confined_to_its_team(store: SqliteAlertStore) -> None:
    orders = WorkOrders(store)
    north, south = stored(store, finding()), stored(store, finding(entity="F02-A01-M001"),
                                                    "south")
    assert [a.id for a in orders.list(NORTH, AlertQuery())] == [north]
    with pytest.raises(WorkOrderNotFound):
        orders.comment(NORTH, south, "not mine")
    with pytest.raises(AccessDenied):
        orders.assign(NORTH, north, "li", team="south")
    orders.assign(OPERATOR, north, "zhao", team="south")
    assert orders.get(SOUTH, north).assignee == "zhao"
    with pytest.raises(WorkOrderNotFound):
        orders.get(NORTH, north)


def test_tokens_are_stored_hashed_and_resolve_to_their_role(store: SqliteAlertStore) -> None:
    secret = create_token(store, "li", "inspector", "north")
    assert secret not in json.dumps([t.__dict__ for t in store.list_tokens()])
    assert authenticate(store, f"Bearer {secret}") == NORTH
    assert authenticate(store, f"Bearer {secret}x") is None
    assert authenticate(store, secret) is None
    with pytest.raises(ValueError, match="needs a team"):
        create_token(store, "x", "inspector")
    with pytest.raises(ValueError, match="already exists"):
        create_token(store, "li", "operator")


def test_closed_findings_become_labels_gridwatch_evaluate_reads(store: SqliteAlertStore,
                                                               tmp_path: Path) -> None:
    orders = WorkOrders(store, clock=lambda: T0 + 7200)
    confirmed = stored(store, finding())
    stored(store, finding(status="resolved", at=T0 + 3600))
    repaired = stored(store, finding("theft_meter_stopped", "F01-A02-M003"))
    false_alarm = stored(store, finding(entity="F01-A01-M009"))
    odd = stored(store, finding("made_up_kind", "F01-A01-M010"))
    orders.close(ADMIN, confirmed, "confirmed")
    orders.close(ADMIN, repaired, "repaired")
    orders.close(ADMIN, false_alarm, "false_alarm")
    orders.close(ADMIN, odd, "confirmed")
    stored(store, finding(entity="F01-A01-M011"))
    export = field_labels(store.closed_alerts())
    assert export.negatives == 1 and export.unknown_kinds == {"made_up_kind": 1}
    path = tmp_path / "field-labels.json"
    write_labels(export.labels, path)
    labels = sorted(read_labels(path), key=lambda lb: lb.entity)
    assert [(lb.kind, lb.entity, lb.start, lb.end) for lb in labels] == [
        ("theft_bypass", "F01-A01-M001", T0, T0 + 3600),
        ("theft_meter_stopped", "F01-A02-M003", T0, T0 + 7200)]
    rows = findings_csv(store.closed_alerts()).splitlines()
    assert len(rows) == 5 and rows[0].startswith("id,kind,entity")
