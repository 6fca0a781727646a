"""Closed theft work orders as inspection outcomes for the worker: an outbox on the alert store.

Why an outbox read from the store rather than a send from the API call
that closes the order: the store is where the close is durable (the API
may run without a Kafka producer, and a broker outage must not lose a
verdict), and the worker deduplicates by alert id and closing time, so
sending a verdict again (a restarted dispatcher starts from the beginning)
is harmless. Reopened and closed again with another finding, an order is
sent again and replaces its earlier verdict.
"""

from __future__ import annotations

from ..vocabulary.inspections import THEFT_VERDICTS, InspectionOutcome
from ..vocabulary.kinds import KINDS, THEFT
from .model import Alert
from .store import AlertStore


def inspection_outcomes(closed: list[Alert]) -> list[InspectionOutcome]:
    """The theft verdicts on meters among closed work orders."""
    return [InspectionOutcome(a.area, a.meter, a.kind, a.finding, a.id, float(a.closed_at))
            for a in closed
            if a.meter and a.area and a.closed_at is not None and a.finding in THEFT_VERDICTS
            and a.kind in KINDS and KINDS[a.kind].problem_class == THEFT]


class InspectionOutbox:
    """What to send next: verdicts closed since the last one sent.

    `pending` lists them; `sent` moves the watermark past them once the
    broker has them.
    """

    def __init__(self, store: AlertStore) -> None:
        self.store = store
        self.since = 0.0
        self.sent_at_since: set[str] = set()   # sent outcomes closed exactly at `since`

    def pending(self) -> list[InspectionOutcome]:
        return [o for o in inspection_outcomes(self.store.closed_alerts(self.since))
                if not (o.closed_at == self.since and o.alert_id in self.sent_at_since)]

    def sent(self, outcomes: list[InspectionOutcome]) -> None:
        for outcome in outcomes:
            if outcome.closed_at > self.since:
                self.since, self.sent_at_since = outcome.closed_at, set()
            if outcome.closed_at == self.since:
                self.sent_at_since.add(outcome.alert_id)
