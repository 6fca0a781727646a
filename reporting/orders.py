"""What the alert store says about a period: alerts by kind, theft cases, team service.

Why from the store and not the metrics: work orders are people's actions
with an audit trail; the store holds when each order arrived, was first
acknowledged and was closed with which finding, which is exactly what the
management layer's service levels are made of.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..alerts.model import Alert
from ..alerts.store import AlertQuery, AlertStore
from ..vocabulary.kinds import OUTAGE_AREA, OUTAGE_FEEDER, THEFT, kinds_where
from .org import OrgUnit
from .period import DAY_S, Period

THEFT_KINDS = kinds_where(problem_class=THEFT)
ALL_ALERTS = 10_000_000
NO_TEAM = "(no team)"
OUTAGE_KINDS = (OUTAGE_AREA, OUTAGE_FEEDER)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


@dataclass
class TeamService:
    """One team's work orders in the period."""

    team: str
    opened: int = 0
    closed: int = 0
    open_at_end: int = 0
    hours_to_acknowledge: list[float] = field(default_factory=list)
    hours_to_close: list[float] = field(default_factory=list)

    @property
    def median_hours_to_acknowledge(self) -> float | None:
        return _median(self.hours_to_acknowledge)

    @property
    def median_hours_to_close(self) -> float | None:
        return _median(self.hours_to_close)

    def to_dict(self) -> dict[str, object]:
        return {"team": self.team, "opened": self.opened, "closed": self.closed,
                "open_at_end": self.open_at_end,
                "median_hours_to_acknowledge": self.median_hours_to_acknowledge,
                "median_hours_to_close": self.median_hours_to_close}


@dataclass
class TheftSummary:
    """Theft cases found in the period and what the field made of them."""

    found: int = 0
    confirmed: int = 0
    not_confirmed: int = 0
    open: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    estimated_loss_kwh_per_day: float = 0.0
    estimated_kwh_recovered: float = 0.0


@dataclass
class OrderSummary:
    """Everything the report takes from the alert store."""

    alerts_by_kind: dict[str, int]
    theft: TheftSummary
    teams: list[TeamService]
    outages: list[Alert]


def _in(at: float | None, period: Period) -> bool:
    return at is not None and period.start <= at < period.end


def _first_acknowledgement(store: AlertStore, alert: Alert) -> float | None:
    for entry in store.audit_trail(alert.id):
        if entry.action in ("acknowledge", "assign", "start", "close"):
            return entry.at
    return None


def summarise(store: AlertStore, unit: OrgUnit, period: Period) -> OrderSummary:
    """Alerts started, work orders opened and closed, in `period` for `unit`."""
    alerts = [a for a in store.list_alerts(AlertQuery(limit=ALL_ALERTS)) if unit.covers(a)]
    started = [a for a in alerts if _in(a.started_at, period)]
    theft = TheftSummary()
    teams: dict[str, TeamService] = defaultdict(lambda: TeamService(""))
    for alert in alerts:
        team = teams[alert.team or NO_TEAM]
        team.team = alert.team or NO_TEAM
        if _in(alert.received_at, period):
            team.opened += 1
            acknowledged = _first_acknowledgement(store, alert)
            if acknowledged is not None:
                team.hours_to_acknowledge.append((acknowledged - alert.received_at) / 3600)
        if _in(alert.closed_at, period):
            team.closed += 1
            team.hours_to_close.append((alert.closed_at - alert.received_at) / 3600)
        if alert.received_at < period.end and (alert.closed_at is None
                                               or alert.closed_at >= period.end):
            team.open_at_end += 1
        if alert.kind not in THEFT_KINDS:
            continue
        if _in(alert.started_at, period):
            theft.found += 1
            theft.by_kind[alert.kind] = theft.by_kind.get(alert.kind, 0) + 1
            theft.estimated_loss_kwh_per_day += alert.estimated_loss_kwh_per_day or 0.0
            if alert.closed_at is None or alert.closed_at >= period.end:
                theft.open += 1
        if _in(alert.closed_at, period):
            if alert.finding == "confirmed":
                theft.confirmed += 1
                days = (alert.closed_at - alert.started_at) / DAY_S
                theft.estimated_kwh_recovered += (alert.estimated_loss_kwh_per_day or 0) * days
            elif alert.finding in ("not_confirmed", "false_alarm"):
                theft.not_confirmed += 1
    return OrderSummary(dict(Counter(a.kind for a in started).most_common()), theft,
                        sorted((t for t in teams.values() if t.opened or t.closed
                                or t.open_at_end), key=lambda t: t.team),
                        [a for a in started if a.kind in OUTAGE_KINDS])
