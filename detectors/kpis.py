"""The utility's indicators as sums per area and interval, tagged up both hierarchies.

Why sums and not rates: a feeder's collection success rate is not the mean
of its areas' rates but (readings received) / (readings expected) over all
of them, and SAIDI is customer-minutes interrupted over customers served.
Writing each indicator's numerator and denominator per area and interval
lets PromQL ``sum by (substation)`` and InfluxQL ``GROUP BY "county"`` roll
any indicator up to any level, per day or month, with the right weights.
The area points carry the organisation's labels (`OrganisationSettings.tags`)
so the roll-up needs no join.

What is already written is reused: the day-to-date qualification rate and
the line-loss rate stay in their measurements; this module adds the counts
behind them (points per voltage class, the loss class of each balance bin)
and the outage, collection and load figures per interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config import KpiSettings, LowVoltageSettings
from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.measurements import (
    AREA_BALANCE,
    FINDINGS,
    KPI_AREA,
    KPI_VOLTAGE,
    OPEN_FINDINGS,
    MetricPoint,
)

if TYPE_CHECKING:
    from .contract import Interval

SINGLE_PHASE_CLASS = "D_single_phase"  # GB/T 12325 class D: low-voltage customers, 220 V
THREE_PHASE_CLASS = "D_three_phase"    # class D, 380 V supply
LOSS_CLASSES = ("loss_negative", "loss_qualified", "loss_high")


def loss_class_field(rate: float, negative_below: float, high_above: float) -> str:
    """The KPI field that counts a balance bin of line-loss rate `rate`.

    >>> [loss_class_field(r, 0.0, 0.10) for r in (-0.02, 0.04, 0.12)]
    ['loss_negative', 'loss_qualified', 'loss_high']
    """
    if rate < negative_below:
        return LOSS_CLASSES[0]
    return LOSS_CLASSES[2] if rate > high_above else LOSS_CLASSES[1]


class KpiTally:
    """Builds one area's KPI points for one interval (stateless but for the outage edge)."""

    def __init__(self, kpis: KpiSettings, low_voltage: LowVoltageSettings,
                 interval_s: float) -> None:
        self.kpis = kpis
        self.minutes = interval_s / 60
        one, three = low_voltage.single_phase, low_voltage.three_phase
        self.limits = {SINGLE_PHASE_CLASS: (1, one.lower_v, one.upper_v),
                       THREE_PHASE_CLASS: (3, three.lower_v, three.upper_v)}

    def tags(self, area: str, feeder: str) -> dict[str, str]:
        """The tags of every point of the area: itself, its feeder and both hierarchies."""
        return {"area": area, "feeder": feeder} | self.kpis.organisation.tags(area, feeder)

    def interval_points(self, interval: Interval, received: int, area_dark: bool,
                        written_from: int) -> list[MetricPoint]:
        """KPI points of the interval; `written_from` = index of its first point in
        ``interval.points`` (to find the balance bin the detectors closed)."""
        frame, tags, ts = interval.frame, interval.tags, interval.ts
        customers = float(len(interval.table))
        tally = interval.scalars.setdefault("kpi", {"dark": 0.0})
        fields = {
            "customers": customers,
            "customer_minutes": customers * self.minutes,
            "customer_minutes_interrupted": customers * self.minutes if area_dark else 0.0,
            "customer_interruptions": customers if area_dark and not tally["dark"] else 0.0,
            "readings_expected": customers + 1.0,
            "readings_received": float(received),
        }
        tally["dark"] = 1.0 if area_dark else 0.0
        rating = frame.area.rated_kva if frame.area is not None else 0.0
        if rating:
            fields["load_ratio"] = float(np.add.reduce(frame.power)) / rating
        for point in interval.points[written_from:]:
            if point.measurement == AREA_BALANCE and "line_loss_rate" in point.fields:
                fields["loss_bins"] = 1.0
                fields |= dict.fromkeys(LOSS_CLASSES, 0.0)
                fields[loss_class_field(point.fields["line_loss_rate"],
                                        self.kpis.negative_loss_below,
                                        self.kpis.high_loss_above)] = 1.0
        points = [MetricPoint(KPI_AREA, tags, fields, ts)]
        live = interval.powered
        for point_class, (phases, lower, upper) in self.limits.items():
            mask = live & (frame.phases == phases)
            if not mask.any():
                continue
            qualified = np.count_nonzero((frame.vmin[mask] >= lower)
                                         & (frame.vmax[mask] <= upper))
            points.append(MetricPoint(KPI_VOLTAGE, tags | {"point_class": point_class},
                                      {"points": float(mask.sum()),
                                       "qualified_points": float(qualified)}, ts))
        return points

    @staticmethod
    def finding_points(findings: list[Finding], tags: dict[str, str],
                       open_kinds: dict[str, int], ts: float) -> list[MetricPoint]:
        """Each finding as an annotation point, and the open episodes per kind."""
        points = [MetricPoint(FINDINGS, tags | {"kind": f.kind, "severity": f.severity},
                              {"firing": 1.0 if f.status == FIRING else 0.0}, f.at)
                  for f in findings]
        points += [MetricPoint(OPEN_FINDINGS, tags | {"kind": kind}, {"open": float(n)}, ts)
                   for kind, n in open_kinds.items()]
        return points
