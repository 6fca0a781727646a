"""A notification (one group's news for one integration) and how it reads.

Why one payload for every channel: the webhook JSON is the contract for
machines (field terminals, the utility's ticketing system); the e-mail text
and the chat markdown are renderings of the same content for people, so a
message can never say something the JSON does not.

JSON payload (``version`` = ``gridwatch.notification.v1``)::

    {"version": "gridwatch.notification.v1", "id": "ntf-...",
     "receiver": "north-field", "integration": "north-field/webhooks[0]",
     "status": "firing", "escalation": false, "group_key": "route{...}",
     "group_labels": {"area": "F01-A01", "kind": "low_voltage_zone"},
     "sent_at": 1767571200.0, "counts": {"firing": 1, "resolved": 0},
     "alerts": [<Alert.to_dict() + {"url": link to its work-order page}>, ...]}

``status`` is ``resolved`` only when every alert in the message resolved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .links import work_order_url
from .model import Alert

PAYLOAD_VERSION = "gridwatch.notification.v1"


@dataclass
class Notification:
    id: str
    receiver: str
    integration: str
    group_key: str
    group_labels: dict[str, str]
    firing: list[Alert]
    resolved: list[Alert]
    escalation: bool = False
    sent_at: float = field(default_factory=time.time)
    public_url: str = ""

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"

    def payload(self) -> dict[str, Any]:
        return {
            "version": PAYLOAD_VERSION, "id": self.id, "receiver": self.receiver,
            "integration": self.integration, "status": self.status,
            "escalation": self.escalation, "group_key": self.group_key,
            "group_labels": self.group_labels, "sent_at": self.sent_at,
            "counts": {"firing": len(self.firing), "resolved": len(self.resolved)},
            "alerts": [a.to_dict() | {"url": work_order_url(self.public_url, a.id)}
                       for a in self.firing + self.resolved],
        }

    def title(self) -> str:
        """One line for a mail subject or a chat title."""
        prefix = "ESCALATION " if self.escalation else ""
        what = ", ".join(f"{k}={v}" for k, v in self.group_labels.items()) or "all"
        counts = f"{len(self.firing)} firing" + (f", {len(self.resolved)} resolved"
                                                 if self.resolved else "")
        return f"[GridWatch {prefix}{self.status.upper()}] {counts}: {what}"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _alert_lines(alert: Alert, public_url: str) -> list[str]:
    place = " / ".join(p for p in (alert.feeder, alert.area, alert.meter) if p)
    lines = [f"{alert.severity.upper()} {alert.kind} on {alert.entity} ({place})",
             f"since {_when(alert.started_at)}, last seen {_when(alert.last_seen)}"
             + (f", cleared {_when(alert.ended_at)}" if alert.ended_at else "")]
    if alert.reason:
        lines.append(alert.reason)
    if alert.estimated_loss_kwh_per_day is not None:
        lines.append(f"estimated loss {alert.estimated_loss_kwh_per_day:.1f} kWh/day")
    lines.append(f"alert id {alert.id}, work order {alert.work_state}"
                 + (f" (team {alert.team})" if alert.team else ""))
    if public_url:
        lines.append(f"open: {work_order_url(public_url, alert.id)}")
    return lines


def render_text(notification: Notification) -> str:
    """Plain text for e-mail."""
    out = [notification.title(), ""]
    for heading, alerts in (("Firing", notification.firing),
                            ("Resolved", notification.resolved)):
        if alerts:
            out.append(f"{heading}:")
            for alert in alerts:
                out.extend(["  " + line for line in _alert_lines(alert, notification.public_url)]
                           + [""])
    out.append(f"notification {notification.id}")
    return "\n".join(out)


def render_markdown(notification: Notification) -> str:
    """Markdown of the subset WeCom and DingTalk robots render (headings, bold, lists)."""
    out = [f"### {notification.title()}"]
    for heading, alerts in (("Firing", notification.firing),
                            ("Resolved", notification.resolved)):
        if alerts:
            out.append(f"**{heading}**")
            for alert in alerts:
                first, *rest = _alert_lines(alert, notification.public_url)
                out.append(f"- **{first}**")
                out.extend(f"  > {line}" for line in rest)
    return "\n".join(out)
