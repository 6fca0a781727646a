"""Which areas an organisational unit covers, as metrics-store labels and an alert filter.

Why its own module: the report only asks this module what a unit is. A unit
is a transformer area, a feeder, or any unit of the hierarchies the worker
labels every area point with (substation, and the organisation's supply
station, county, city and province declared in ``kpis.organisation``). An
alert carries only its area and feeder, so a higher unit covers the areas
the metrics store lists under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..alerts.model import Alert
from ..streams.promql import PromQuery, selector
from ..vocabulary.measurements import ORG_TAGS
from .measurements import AREA_LABEL, FEEDER_LABEL, READINGS
from .period import Period


class UnknownUnit(ValueError):
    """--org names no feeder or area the metrics store knows in the period."""


@dataclass(frozen=True)
class OrgUnit:
    """A unit: its name and the label matchers that select its areas ({} = everything)."""

    name: str = "all areas"
    labels: dict[str, str] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()   # for a unit above the feeder: the areas under it

    def covers(self, alert: Alert) -> bool:
        """Whether an alert belongs to this unit."""
        if self.areas:
            return alert.area in self.areas
        if AREA_LABEL in self.labels:
            return alert.area == self.labels[AREA_LABEL]
        if FEEDER_LABEL in self.labels:
            return alert.feeder == self.labels[FEEDER_LABEL]
        return True


def resolve(query: PromQuery, unit: str | None, period: Period) -> OrgUnit:
    """The unit named `unit` (an area, a feeder or a unit of either hierarchy), or every
    area when None."""
    if not unit:
        return OrgUnit()
    known: dict[str, list[str]] = {}
    for label in (FEEDER_LABEL, AREA_LABEL) + ORG_TAGS:
        known[label] = query.label_values(label, READINGS, period.start, period.end)
        if unit not in known[label]:
            continue
        if label in (FEEDER_LABEL, AREA_LABEL):
            return OrgUnit(f"{label} {unit}", {label: unit})
        areas = query.label_values(AREA_LABEL, selector(READINGS, {label: unit}),
                                   period.start, period.end)
        return OrgUnit(f"{label.replace('_', ' ')} {unit}", {label: unit}, frozenset(areas))
    higher = "; ".join(f"{label} {', '.join(known[label][:10])}" for label in ORG_TAGS
                       if known[label])
    raise UnknownUnit(f"--org {unit!r} is neither a feeder ({', '.join(known[FEEDER_LABEL][:20])}),"
                      f" an area ({len(known[AREA_LABEL])} known) nor a unit above them "
                      f"({higher or 'none labelled'}) with readings in {period.label}")
