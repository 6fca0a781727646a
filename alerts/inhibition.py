"""Inhibition by topology: a dark feeder or area mutes the lesser alarms beneath it.

Why: when a transformer trips, every meter of its area reads ~0 V, loses
collection and looks like theft at once. The outage is the one thing to act
on; the rest is a consequence and would bury the control room. A muted
alert is still stored (and resumes notifying the moment the outage clears),
so nothing is lost, only not shouted.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..vocabulary.findings import FIRING
from .matchers import matches_all
from .model import Alert
from .policy import InhibitRule


class Inhibitor:
    """Answers "is this alert inhibited right now?" against the firing sources."""

    def __init__(self, rules: list[InhibitRule]) -> None:
        self.rules = rules
        self._sources: list[tuple[InhibitRule, dict[str, str], str]] = []

    def refresh(self, alerts: Iterable[Alert]) -> None:
        """Recompute the firing source alerts from the current set of active alerts."""
        self._sources = [
            (rule, labels, alert.id)
            for alert in alerts if alert.status == FIRING
            for labels in [alert.labels()]
            for rule in self.rules if matches_all(rule.source, labels)
        ]

    def inhibited_by(self, alert: Alert) -> str:
        """Id of a firing alert that inhibits `alert`, or an empty string."""
        labels = alert.labels()
        for rule, source_labels, source_id in self._sources:
            if source_id == alert.id or not matches_all(rule.target, labels):
                continue
            if all(source_labels.get(k, "") == labels.get(k, "") for k in rule.equal):
                return source_id
        return ""
