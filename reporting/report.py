"""A report's content: indicators, reliability, worst areas, theft and work orders.

Why one object before any rendering: the HTML page, the charts and the
``--json`` output all show the same numbers, computed once here.

Reliability follows the usual definitions over the unit's customers
(meters): SAIDI = customer-minutes of outage / customers; SAIFI = customers
interrupted / customers, counting each `outage_area` alert once for every
customer of its area (a feeder outage darkens each of its areas, which
raise their own alerts); supply reliability (RS-1) = 1 - SAIDI / minutes in
the period.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..alerts.store import AlertStore
from ..streams.promql import PromQuery
from ..vocabulary.kinds import OUTAGE_AREA
from .kpis import HIGH_LOSS_RATE, AreaKpis, KpiReader, Trend
from .orders import OrderSummary, summarise
from .org import OrgUnit, resolve
from .period import Period

WORST_N = 10


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


@dataclass
class Report:
    period: Period
    unit: OrgUnit
    areas: list[AreaKpis]
    trend: Trend
    orders: OrderSummary
    high_loss: float = HIGH_LOSS_RATE
    generated_at: float = field(default_factory=time.time)

    def reliability(self) -> dict[str, float | None]:
        customers = sum(a.customers for a in self.areas)
        if not customers:
            return {"customers": 0, "customer_minutes": 0.0, "saidi_minutes": None,
                    "saifi": None, "supply_reliability_rate": None}
        per_area = {a.area: a.customers for a in self.areas}
        interrupted = sum(per_area.get(a.area, 0) for a in self.orders.outages
                          if a.kind == OUTAGE_AREA)
        minutes = sum(a.customer_minutes for a in self.areas)
        saidi = minutes / customers
        return {"customers": customers, "customer_minutes": round(minutes, 1),
                "saidi_minutes": round(saidi, 2), "saifi": round(interrupted / customers, 4),
                "supply_reliability_rate": 1 - saidi / ((self.period.end - self.period.start)
                                                        / 60)}

    def kpis(self) -> dict[str, Any]:
        """The headline figures of the unit."""
        classes: dict[str, int] = {}
        for area in self.areas:
            classes[area.loss_class] = classes.get(area.loss_class, 0) + 1
        theft = self.orders.theft
        return {
            "areas": len(self.areas),
            "line_loss_rate": _mean([a.line_loss_rate for a in self.areas]),
            "line_loss_classes": classes,
            "voltage_qualification_rate": _mean([a.voltage_qualification_rate
                                                 for a in self.areas]),
            "collection_rate": _mean([a.collection_rate for a in self.areas]),
            "outage_minutes": round(sum(a.outage_minutes for a in self.areas), 1),
            "outages": len(self.orders.outages),
            **self.reliability(),
            "theft_found": theft.found, "theft_confirmed": theft.confirmed,
            "theft_estimated_kwh_recovered": round(theft.estimated_kwh_recovered, 1),
            "work_orders_opened": sum(t.opened for t in self.orders.teams),
            "work_orders_closed": sum(t.closed for t in self.orders.teams),
            "work_orders_open_at_end": sum(t.open_at_end for t in self.orders.teams),
        }

    def worst(self, n: int = WORST_N) -> dict[str, list[AreaKpis]]:
        """The n worst areas by each indicator (areas without data left out)."""
        def ranked(attr: str, highest_first: bool) -> list[AreaKpis]:
            have = [a for a in self.areas if getattr(a, attr) is not None]
            return sorted(have, key=lambda a: getattr(a, attr), reverse=highest_first)[:n]
        return {"line_loss_rate": ranked("line_loss_rate", True),
                "voltage_qualification_rate": ranked("voltage_qualification_rate", False),
                "collection_rate": ranked("collection_rate", False),
                "outage_minutes": [a for a in ranked("outage_minutes", True)
                                   if a.outage_minutes > 0]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period.label, "kind": self.period.kind, "unit": self.unit.name,
            "start": self.period.start, "end": self.period.end, "kpis": self.kpis(),
            "areas": [asdict(a) | {"customer_minutes": a.customer_minutes}
                      for a in self.areas],
            "worst": {k: [a.area for a in v] for k, v in self.worst().items()},
            "alerts_by_kind": self.orders.alerts_by_kind,
            "theft": asdict(self.orders.theft),
            "work_orders": [t.to_dict() for t in self.orders.teams],
        }


def build_report(query: PromQuery, store: AlertStore, period: Period, org: str | None,
                 interval_s: float, high_loss: float = HIGH_LOSS_RATE) -> Report:
    """Read both stores and put the report's numbers together."""
    unit = resolve(query, org, period)
    reader = KpiReader(query, unit, period, interval_s, high_loss)
    return Report(period, unit, reader.areas(), reader.trend(), summarise(store, unit, period),
                  high_loss)
