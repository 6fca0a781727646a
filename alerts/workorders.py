"""Work orders: the people's side of an alert, every change audited.

Why explicit transitions: "closed with a finding" is what feeds detector
tuning, so a work order cannot be closed without one, a closed order is not
silently modified (it must be reopened, which is itself audited), and an
inspector cannot act on another team's order. Each change and its audit
entry are written in one transaction.

    new -> acknowledged -> assigned -> in_progress -> closed(finding)
    (assign and start may skip ahead; reopen: closed -> acknowledged)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .access import AccessDenied, Actor
from .model import CLOSE_FINDINGS, Alert
from .store import AlertQuery, AlertStore, AuditEntry

MAX_TEXT = 4000


class WorkOrderNotFound(LookupError):
    """No such alert, or one the actor may not see (the two are not told apart)."""


class WorkOrderConflict(ValueError):
    """The action does not fit the work order's current state."""


def _text(value: str, what: str, required: bool = True) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{what} must not be empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} is longer than {MAX_TEXT} characters")
    return value


class WorkOrders:
    """Actions on work orders, checked against the actor's role and team."""

    def __init__(self, store: AlertStore, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock

    def get(self, actor: Actor, alert_id: str) -> Alert:
        actor.require("read")
        alert = self.store.get_alert(alert_id)
        if alert is None or (actor.team_bound and alert.team != actor.team):
            raise WorkOrderNotFound(f"no work order {alert_id!r}")
        return alert

    def list(self, actor: Actor, query: AlertQuery) -> list[Alert]:
        actor.require("read")
        if actor.team_bound:
            if query.team and query.team != actor.team:
                raise AccessDenied(f"inspectors of team {actor.team!r} see only their team")
            query.team = actor.team
        return self.store.list_alerts(query)

    def audit(self, actor: Actor, alert_id: str) -> list[AuditEntry]:
        self.get(actor, alert_id)
        return self.store.audit_trail(alert_id)

    def _change(self, actor: Actor, alert_id: str, permission: str, action: str,
                apply: Callable[[Alert], dict[str, Any]]) -> Alert:
        actor.require(permission)
        alert = self.get(actor, alert_id)
        before = alert.work_state
        details = apply(alert)
        details.setdefault("from", before)
        details.setdefault("to", alert.work_state)
        self.store.save_work_order(alert, AuditEntry(alert.id, self.clock(), actor.name,
                                                     action, details))
        return alert

    @staticmethod
    def _open(alert: Alert) -> None:
        if alert.work_state == "closed":
            raise WorkOrderConflict(f"work order {alert.id} is closed; reopen it first")

    def acknowledge(self, actor: Actor, alert_id: str, note: str = "") -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            self._open(alert)
            if alert.work_state != "new":
                raise WorkOrderConflict(f"work order {alert.id} is already {alert.work_state}")
            alert.work_state = "acknowledged"
            return {"note": _text(note, "note", required=False)}
        return self._change(actor, alert_id, "work", "acknowledge", apply)

    def assign(self, actor: Actor, alert_id: str, assignee: str, team: str = "") -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            self._open(alert)
            details: dict[str, Any] = {"assignee": _text(assignee, "assignee"),
                                       "previous_assignee": alert.assignee}
            if team and team != alert.team:
                actor.require("reassign_team")
                details.update(team=_text(team, "team"), previous_team=alert.team)
                alert.team = team
            alert.assignee = details["assignee"]
            if alert.work_state != "in_progress":
                alert.work_state = "assigned"
            return details
        return self._change(actor, alert_id, "work", "assign", apply)

    def start(self, actor: Actor, alert_id: str) -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            self._open(alert)
            if alert.work_state == "in_progress":
                raise WorkOrderConflict(f"work order {alert.id} is already in progress")
            alert.work_state = "in_progress"
            if not alert.assignee:
                alert.assignee = actor.name
            return {"assignee": alert.assignee}
        return self._change(actor, alert_id, "work", "start", apply)

    def comment(self, actor: Actor, alert_id: str, text: str) -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            return {"text": _text(text, "comment")}
        return self._change(actor, alert_id, "comment", "comment", apply)

    def close(self, actor: Actor, alert_id: str, finding: str, note: str = "") -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            self._open(alert)
            if finding not in CLOSE_FINDINGS:
                raise ValueError(f"finding must be one of {', '.join(CLOSE_FINDINGS)}, "
                                 f"got {finding!r}")
            alert.work_state, alert.finding, alert.closed_at = "closed", finding, self.clock()
            return {"finding": finding, "note": _text(note, "note", required=False)}
        return self._change(actor, alert_id, "work", "close", apply)

    def reopen(self, actor: Actor, alert_id: str, reason: str) -> Alert:
        def apply(alert: Alert) -> dict[str, Any]:
            if alert.work_state != "closed":
                raise WorkOrderConflict(f"work order {alert.id} is not closed")
            details = {"reason": _text(reason, "reason"), "previous_finding": alert.finding}
            alert.work_state, alert.finding, alert.closed_at = "acknowledged", "", None
            return details
        return self._change(actor, alert_id, "reopen", "reopen", apply)
