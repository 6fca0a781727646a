"""Work-order and theft-case indicators, as running totals read from the alert store.

Why running totals: the management dashboard asks "how many orders did team
X close today, and how long did they take?". With totals (orders closed,
hours to close summed) written every minute, that is the increase of two
series over the day (PromQL ``increase``, InfluxQL ``spread``), and the mean
time is their ratio — right at any roll-up, for a day or a month, and from
the metrics store alone. The store, not the metrics, remains the record;
the lease-holding dispatcher writes these so there is one writer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..config import OrganisationSettings
from ..vocabulary.kinds import THEFT, kinds_where
from ..vocabulary.measurements import THEFT_CASES, WORK_ORDERS, MetricPoint
from .model import Alert
from .store import AlertQuery, AlertStore

THEFT_KINDS = kinds_where(problem_class=THEFT)
ACKNOWLEDGING = ("acknowledge", "assign", "start", "close")
NO_TEAM = "(no team)"
ALL_ALERTS = 10_000_000
DAY_S = 86_400
CONFIRMED = "confirmed"


@dataclass
class OrderMetrics:
    """Turns the alert store into work-order and theft points (caches first acknowledgements)."""

    store: AlertStore
    organisation: OrganisationSettings = field(default_factory=OrganisationSettings)
    acknowledged_at: dict[str, float] = field(default_factory=dict)

    def _first_acknowledgement(self, alert: Alert) -> float | None:
        if alert.id not in self.acknowledged_at and alert.work_state != "new":
            for entry in self.store.audit_trail(alert.id):
                if entry.action in ACKNOWLEDGING:
                    self.acknowledged_at[alert.id] = entry.at
                    break
        return self.acknowledged_at.get(alert.id)

    def points(self, now: float) -> list[MetricPoint]:
        """One work-order point per team and one theft point per area with theft alerts."""
        teams: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(
            ("open", "opened_total", "acknowledged_total", "closed_total",
             "hours_to_acknowledge_total", "hours_to_close_total"), 0.0))
        theft: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(
            ("found_total", "confirmed_total", "kwh_recovered_total"), 0.0))
        for alert in self.store.list_alerts(AlertQuery(limit=ALL_ALERTS)):
            team = teams[alert.team or NO_TEAM]
            team["opened_total"] += 1
            acknowledged = self._first_acknowledgement(alert)
            if acknowledged is not None:
                team["acknowledged_total"] += 1
                team["hours_to_acknowledge_total"] += (acknowledged - alert.received_at) / 3600
            if alert.closed_at is None:
                team["open"] += 1
            else:
                team["closed_total"] += 1
                team["hours_to_close_total"] += (alert.closed_at - alert.received_at) / 3600
            if alert.kind in THEFT_KINDS:
                case = theft[(alert.area, alert.feeder)]
                case["found_total"] += 1
                if alert.closed_at is not None and alert.finding == CONFIRMED:
                    case["confirmed_total"] += 1
                    days = (alert.closed_at - alert.started_at) / DAY_S
                    case["kwh_recovered_total"] += (alert.estimated_loss_kwh_per_day or 0) * days
        return ([MetricPoint(WORK_ORDERS, {"team": name}, fields, now)
                 for name, fields in teams.items()]
                + [MetricPoint(THEFT_CASES, {"area": area, "feeder": feeder}
                               | self.organisation.tags(area, feeder), fields, now)
                   for (area, feeder), fields in theft.items()])
