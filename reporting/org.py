"""Which areas an organisational unit covers, as metrics-store labels and an alert filter.

Why its own module: the organisation's hierarchy (supply station, county,
city, province) is to be declared in the configuration; until it is, a unit
is a feeder or a transformer area as the worker labels them. The report
only asks this module, so the hierarchy plugs in here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..alerts.model import Alert
from ..streams.promql import PromQuery
from .measurements import AREA_LABEL, FEEDER_LABEL, READINGS
from .period import Period


class UnknownUnit(ValueError):
    """--org names no feeder or area the metrics store knows in the period."""


@dataclass(frozen=True)
class OrgUnit:
    """A unit: its name and the label matchers that select its areas ({} = everything)."""

    name: str = "all areas"
    labels: dict[str, str] = field(default_factory=dict)

    def covers(self, alert: Alert) -> bool:
        """Whether an alert belongs to this unit."""
        if AREA_LABEL in self.labels:
            return alert.area == self.labels[AREA_LABEL]
        if FEEDER_LABEL in self.labels:
            return alert.feeder == self.labels[FEEDER_LABEL]
        return True


def resolve(query: PromQuery, unit: str | None, period: Period) -> OrgUnit:
    """The unit named `unit` (a feeder or an area), or every area when None."""
    if not unit:
        return OrgUnit()
    known: dict[str, list[str]] = {}
    for label in (FEEDER_LABEL, AREA_LABEL):
        known[label] = query.label_values(label, READINGS, period.start, period.end)
        if unit in known[label]:
            return OrgUnit(f"{label} {unit}", {label: unit})
    raise UnknownUnit(f"--org {unit!r} is neither a feeder ({', '.join(known[FEEDER_LABEL][:20])}) "
                      f"nor an area ({len(known[AREA_LABEL])} known) with readings in "
                      f"{period.label}")
