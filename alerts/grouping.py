"""Aggregation groups and the decision "does this integration need a notification now?".

Why groups: a feeder fault makes forty areas alarm within a minute; an
inspection team wants one message listing them, not forty. Alerts that take
the same route and agree on the route's ``group_by`` labels form a group.
A new group waits ``group_wait`` to collect its siblings; afterwards it is
re-examined every ``group_interval``; an unchanged firing group is repeated
every ``repeat_interval``.

The decision uses what each integration last received (`NotifyRecord`, kept
in the store), so a dispatcher restarted mid-way neither repeats a
notification nor forgets one it owed. All times here are wall-clock seconds
passed in by the caller, which keeps this module pure and testable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from ..vocabulary.findings import FIRING, RESOLVED
from .model import Alert
from .policy import Route
from .store import NotifyRecord


@dataclass
class AlertGroup:
    """Alerts of one route sharing the values of its ``group_by`` labels, with what each
    integration was last told (`records`) and which deliveries are under way."""

    key: str
    route: Route
    labels: dict[str, str]
    alerts: dict[str, Alert] = field(default_factory=dict)
    next_flush: float = 0.0
    records: dict[str, NotifyRecord] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    muted: set[str] = field(default_factory=set)
    failures: dict[str, int] = field(default_factory=dict)


def group_key(route: Route, labels: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Stable key of the group an alert with `labels` joins on `route`.

    >>> from gridwatch.alerts.policy import Route
    >>> root = Route("route", [], "default", "", ["area"], 0, 60, 3600)
    >>> group_key(root, {"area": "F01-A01", "kind": "theft"})
    ('route{area="F01-A01"}', {'area': 'F01-A01'})
    """
    values = {name: labels.get(name, "") for name in route.group_by}
    body = ",".join(f'{k}="{v}"' for k, v in values.items())
    return f"{route.path}{{{body}}}", values


@dataclass
class Decision:
    """What to send to one integration for one group at one flush."""

    firing: list[Alert]
    resolved: list[Alert]


def owes_resolution(alert_id: str, record: NotifyRecord | None, muted: set[str]) -> bool:
    """Whether an integration must still hear that this resolved alert resolved.

    Those told it fired are owed its end; so is one never told anything about
    it (it fired and resolved before a flush, or while the receiver was down),
    unless it is muted: the notification then says both, start and end.
    """
    if record is None:
        return alert_id not in muted
    return alert_id in record.firing or (alert_id not in record.resolved
                                         and alert_id not in muted)


def decide(group: AlertGroup, muted: set[str], record: NotifyRecord | None,
           now: float) -> Decision | None:
    """Alertmanager's rule, per integration, or None when nothing is owed.

    Notify when the set of firing (unmuted) alerts differs from the set last
    sent, or when a resolution is owed (see `owes_resolution`), or when the
    same firing set was last sent ``repeat_interval`` ago.
    """
    firing = sorted((a for a in group.alerts.values() if a.status == FIRING
                     and a.id not in muted), key=lambda a: (a.started_at, a.id))
    told = set(record.firing) if record else set()
    resolved = sorted((a for a in group.alerts.values() if a.status == RESOLVED
                       and owes_resolution(a.id, record, muted)),
                      key=lambda a: (a.started_at, a.id))
    if not firing and not resolved:
        return None
    changed = {a.id for a in firing} != told
    repeat_due = record is None or now - record.sent_at >= group.route.repeat_interval_s
    if changed or resolved or repeat_due:
        return Decision(firing, resolved)
    return None


def notification_id(group_key_: str, integration: str, decision: Decision) -> str:
    """Deterministic id of a notification: a receiver can drop a second delivery by it."""
    body = json.dumps([group_key_, integration, [a.id for a in decision.firing],
                       [a.id for a in decision.resolved]])
    return "ntf-" + hashlib.sha256(body.encode()).hexdigest()[:20]


def removable(group: AlertGroup, integrations: list[str]) -> list[str]:
    """Resolved alerts no integration is still owed news of: they can leave the group."""
    return [a.id for a in group.alerts.values() if a.status == RESOLVED and not any(
        owes_resolution(a.id, group.records.get(name), group.muted) for name in integrations)]
