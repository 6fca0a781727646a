"""The dispatcher's brain: routing, grouping, muting and escalation, without any I/O.

Why separate from `gridwatch.alerts.dispatcher`: the rules (what to tell
whom, when) are where mistakes hide, and here they run against a clock the
caller passes in, so tests can step through group waits and silences
without sleeping. The dispatcher feeds stored alerts in, asks what is due,
delivers it, and reports back what was delivered.

Muting is decided at notification time, not at arrival, exactly so that an
alert muted by an outage, a silence or flapping comes back by itself when
the reason ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary.findings import FIRING
from .flapping import FlapDetector
from .grouping import AlertGroup, decide, group_key, notification_id, removable
from .inhibition import Inhibitor
from .model import Alert
from .notification import Notification
from .policy import AlertPolicy, Integration, Route
from .routing import match_routes
from .silences import Silencer
from .store import AlertQuery, AlertStore, NotifyRecord

RECALL_LIMIT = 100_000


@dataclass
class Pending:
    """A notification the engine wants delivered to one integration."""

    integration: Integration
    notification: Notification


class AlertEngine:
    """In-memory groups over the store's active alerts; the store keeps what must survive."""

    def __init__(self, policy: AlertPolicy, store: AlertStore, flaps: FlapDetector,
                 public_url: str = "", replay_s: float = 5.0,
                 replay_max_s: float = 300.0) -> None:
        self.policy, self.store, self.flaps = policy, store, flaps
        self.public_url = public_url
        self.replay_s, self.replay_max_s = replay_s, replay_max_s
        self.inhibitor = Inhibitor(policy.inhibit_rules)
        self.silencer = Silencer(policy.windows)
        self.groups: dict[str, AlertGroup] = {}
        self.active: dict[str, Alert] = {}
        self.memberships: dict[str, int] = {}
        self.settled: set[str] = set()
        self.unsaved: dict[tuple[str, str], NotifyRecord] = {}

    def restore(self, now: float) -> None:
        """Rebuild groups after a restart from the store's alerts and notification log."""
        self.settled = self.store.escalated_ids()
        self._recall_flapping()
        self.ingest(self.store.active_alerts(), now, include_resolved=True)
        orphans: set[str] = set()
        for record in self.store.get_notify_records():
            group = self.groups.get(record.group_key)
            if group is None:
                orphans.add(record.group_key)
                continue
            group.records[record.integration] = record
            group.next_flush = min(group.next_flush,
                                   record.sent_at + group.route.group_interval_s)
        for key in orphans:
            self.store.delete_notify_records(key)

    def _recall_flapping(self) -> None:
        """Replay the episodes of the last flapping window into the flap detector."""
        latest = self.store.list_alerts(AlertQuery(limit=1))
        if not latest:
            return
        since = latest[0].last_seen - self.flaps.window_s
        for alert in self.store.list_alerts(AlertQuery(started_since=max(since, 0.0),
                                                       limit=RECALL_LIMIT)):
            self.flaps.observe(alert)

    def ingest(self, alerts: list[Alert], now: float, include_resolved: bool = False) -> None:
        """Take stored alerts into their groups; new groups start their wait.

        A resolved alert that is in no group is taken only while unsettled (it
        fired and resolved before anyone was told); a settled one (its news
        delivered, or muted to the end) has nothing left to say, whatever
        later changes its work order. When restoring, everything comes in.
        """
        candidates = [a.id for a in alerts if a.status != FIRING and a.id not in self.memberships]
        unsettled = (set(candidates) if include_resolved
                     else self.store.unsettled_ids(candidates) if candidates else set())
        for alert in alerts:
            self.flaps.observe(alert)
            if alert.status != FIRING and alert.id not in self.memberships and (
                    alert.id not in unsettled):
                continue
            self.active[alert.id] = alert
            for route in match_routes(self.policy.route, alert.labels()):
                self._join(route, alert, now)

    def _join(self, route: Route, alert: Alert, now: float) -> None:
        key, labels = group_key(route, alert.labels())
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = AlertGroup(key, route, labels,
                                                  next_flush=now + route.group_wait_s)
        if alert.id not in group.alerts:
            self.memberships[alert.id] = self.memberships.get(alert.id, 0) + 1
        group.alerts[alert.id] = alert

    def mute_reason(self, alert: Alert, now: float) -> str:
        """Why `alert` must not be notified now ('' when it may be).

        A work order closed with a finding is not repeated: the team has
        been and judged it; its resolution is still announced.
        """
        if alert.work_state == "closed":
            return f"work order closed ({alert.finding})"
        source = self.inhibitor.inhibited_by(alert)
        if source:
            return f"inhibited by {source}"
        silence = self.silencer.silenced_by(alert.labels(), now)
        if silence:
            return f"silenced by {silence}"
        if self.flaps.is_flapping(alert.kind, alert.entity):
            return "flapping"
        return ""

    def refresh_mutes(self, now: float) -> None:
        self.inhibitor.refresh(self.active.values())
        self.silencer.refresh(self.store.list_silences(now=now))

    def due(self, now: float) -> list[Pending]:
        """Notifications owed by groups whose timer has expired."""
        due_groups = [g for g in self.groups.values() if g.next_flush <= now]
        if not due_groups:
            return []
        self.refresh_mutes(now)
        pending: list[Pending] = []
        for group in due_groups:
            group.next_flush = now + group.route.group_interval_s
            self._refresh(group)
            muted = {a.id for a in group.alerts.values() if self.mute_reason(a, now)}
            group.muted = muted
            for integration in self.policy.receivers[group.route.receiver].integrations:
                if integration.name in group.in_flight:
                    continue
                decision = decide(group, muted, group.records.get(integration.name), now)
                if decision is None:
                    continue
                group.in_flight.add(integration.name)
                pending.append(Pending(integration, Notification(
                    id=notification_id(group.key, integration.name, decision),
                    receiver=group.route.receiver, integration=integration.name,
                    group_key=group.key, group_labels=group.labels, firing=decision.firing,
                    resolved=decision.resolved, sent_at=now, public_url=self.public_url)))
            self._prune(group)
        return pending

    def _refresh(self, group: AlertGroup) -> None:
        """Take the stored versions: people may have changed the work orders meanwhile
        (through the API, maybe in another process), and notifications show them."""
        for alert_id in list(group.alerts):
            current = self.store.get_alert(alert_id)
            if current is not None:
                group.alerts[alert_id] = self.active[alert_id] = current

    def delivered(self, pending: Pending, ok: bool, now: float) -> None:
        """Record what an integration now knows, so a restart does not repeat it.

        A failed delivery (the receiver stayed down through its retry window)
        changes nothing the integration is owed; the group is flushed again
        after a backoff, doubling per failure up to `replay_max_s`, so the
        same news is replayed once the receiver is back.
        """
        note = pending.notification
        name = pending.integration.name
        group = self.groups.get(note.group_key)
        if group is None:
            return
        group.in_flight.discard(name)
        if ok:
            group.failures.pop(name, None)
            previous = group.records.get(name)
            earlier = [aid for aid in (previous.resolved if previous else [])
                       if aid in group.alerts]
            record = NotifyRecord(note.group_key, name, now, [a.id for a in note.firing],
                                  sorted({*earlier, *(a.id for a in note.resolved)}))
            group.records[name] = record
            self.unsaved[(group.key, name)] = record
        else:
            group.failures[name] = failures = group.failures.get(name, 0) + 1
            group.next_flush = now + min(self.replay_max_s, self.replay_s * 2 ** (failures - 1))
        self._prune(group)

    def save_records(self) -> None:
        """Persist what integrations were told since the last call, in one transaction.

        Called every scheduler tick: a crash in between costs a re-send of those
        notifications (same ids), never a lost one.
        """
        if self.unsaved:
            self.store.put_notify_records(list(self.unsaved.values()))
            self.unsaved.clear()

    def _prune(self, group: AlertGroup) -> None:
        """Drop resolved alerts nobody still believes firing; drop empty groups."""
        if group.in_flight:
            return
        integrations = [i.name for i in self.policy.receivers[group.route.receiver].integrations]
        done: list[str] = []
        for alert_id in removable(group, integrations):
            del group.alerts[alert_id]
            self.memberships[alert_id] -= 1
            if not self.memberships[alert_id]:
                del self.memberships[alert_id]
                self.active.pop(alert_id, None)
                done.append(alert_id)
        if done:
            self.store.settle_alerts(done)
        if not group.alerts:
            del self.groups[group.key]
            for integration in group.records:
                self.unsaved.pop((group.key, integration), None)
            if group.records:
                self.store.delete_notify_records(group.key)

    def escalations_due(self, now: float) -> list[tuple[str, list[Pending]]]:
        """Critical alerts nobody acknowledged in time, with the notifications to send.

        Acknowledgement happens in the API (maybe another process), so candidates
        are re-read from the store; once acknowledged or escalated an alert is
        settled for good (a reopened order goes back to acknowledged, not new).
        """
        out: list[tuple[str, list[Pending]]] = []
        refreshed = False
        for alert in list(self.active.values()):
            team = self.policy.teams.get(alert.team)
            rule = team.escalation if team else None
            if (rule is None or alert.status != FIRING or alert.id in self.settled
                    or alert.severity not in rule.severities
                    or now - alert.received_at < rule.after_s):
                continue
            current = self.store.get_alert(alert.id)
            if current is None or current.work_state != "new":
                self.settled.add(alert.id)
                continue
            if not refreshed:
                self.refresh_mutes(now)
                refreshed = True
            if self.mute_reason(current, now):
                continue
            self.settled.add(alert.id)
            labels = {"team": alert.team, "area": alert.area, "kind": alert.kind}
            pendings = [Pending(integration, Notification(
                id=f"esc-{alert.id}", receiver=rule.receiver, integration=integration.name,
                group_key=f"escalation:{alert.id}", group_labels=labels, firing=[current],
                resolved=[], escalation=True, sent_at=now, public_url=self.public_url))
                for integration in self.policy.receivers[rule.receiver].integrations]
            out.append((alert.id, pendings))
        return out

    def escalated(self, alert_id: str, now: float) -> None:
        """Record a finished escalation, so a restart does not escalate it again."""
        self.store.mark_escalated(alert_id, now)
