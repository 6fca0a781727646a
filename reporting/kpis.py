"""The indicators a report reads from the metrics store, per area and over time.

Why aggregated in the store: each figure is one PromQL expression evaluated
by VictoriaMetrics (``avg_over_time``, ``sum_over_time``...), so a month of
a province's areas comes back as a few numbers per area. Day boundaries
follow the worker's own tallies: the day-to-date voltage qualification rate
is read just before midnight (its next sample already belongs to the new
day), the daily collection rate at midnight (where the worker stamps it).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from ..config import KpiSettings
from ..detectors.kpis import loss_class_field
from ..streams.promql import PromQuery, Series, selector
from . import measurements as m
from .org import OrgUnit
from .period import DAY_S, Period

HIGH_LOSS_RATE = KpiSettings().high_loss_above
NEGATIVE_LOSS_RATE = KpiSettings().negative_loss_below
BY_AREA = f"by ({m.AREA_LABEL}, {m.FEEDER_LABEL})"


def loss_class(rate: float | None, high: float = HIGH_LOSS_RATE) -> str:
    """The utility's line-loss classes.

    >>> [loss_class(r) for r in (-0.02, 0.04, 0.12, None)]
    ['negative', 'qualified', 'high', 'no data']
    """
    if rate is None:
        return "no data"
    return loss_class_field(rate, NEGATIVE_LOSS_RATE, high).removeprefix("loss_")


@dataclass
class AreaKpis:
    """One area's indicators over the period (None: the store has no data for it)."""

    area: str
    feeder: str
    line_loss_rate: float | None = None
    loss_class: str = "no data"
    voltage_qualification_rate: float | None = None
    collection_rate: float | None = None
    outage_minutes: float = 0.0
    customers: int = 0

    @property
    def customer_minutes(self) -> float:
        return self.outage_minutes * self.customers


@dataclass
class Trend:
    """Mean over the unit's areas at each step of the period (hours or days)."""

    ts: list[float] = field(default_factory=list)  # where each step starts
    line_loss_rate: list[float | None] = field(default_factory=list)
    voltage_qualification_rate: list[float | None] = field(default_factory=list)
    outage_minutes: list[float] = field(default_factory=list)


def _key(series: Series) -> tuple[str, str]:
    return series.labels.get(m.AREA_LABEL, ""), series.labels.get(m.FEEDER_LABEL, "")


def _by_area(series: list[Series]) -> dict[tuple[str, str], float]:
    return {_key(s): s.points[-1][1] for s in series if s.points}


class KpiReader:
    """Reads a unit's indicators for a period from the metrics store."""

    def __init__(self, query: PromQuery, unit: OrgUnit, period: Period, interval_s: float,
                 high_loss: float = HIGH_LOSS_RATE) -> None:
        self.query, self.unit, self.period = query, unit, period
        self.interval_min = interval_s / 60
        self.high_loss = high_loss

    def _sel(self, metric: str) -> str:
        return selector(metric, self.unit.labels)

    def _at_end(self, expression: str) -> dict[tuple[str, str], float]:
        return _by_area(self.query.instant(expression, self.period.end))

    def _daily(self, metric: str, offset_s: float) -> dict[tuple[str, str], list[float]]:
        """Each area's value of a per-day series, one per day of the period."""
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for k in range(1, self.period.days + 1):
            at = self.period.start + k * DAY_S + offset_s
            expression = f"max {BY_AREA} (last_over_time({self._sel(metric)}[1d]))"
            for key, value in _by_area(self.query.instant(expression, at)).items():
                values[key].append(value)
        return values

    def areas(self) -> list[AreaKpis]:
        """Every area of the unit that reported in the period."""
        window = f"{int(self.period.end - self.period.start)}s"
        customers = self._at_end(f"max {BY_AREA} (max_over_time({self._sel(m.READINGS)}"
                                 f"[{window}])) - 1")
        loss = self._at_end(f"avg {BY_AREA} (avg_over_time({self._sel(m.LINE_LOSS_RATE)}"
                            f"[{window}]))")
        outage = self._at_end(f"sum {BY_AREA} (sum_over_time({self._sel(m.OUTAGE)}"
                              f"[{window}]))")
        quality = self._daily(m.VOLTAGE_QUALIFICATION_RATE, -1.0)
        collection = self._daily(m.COLLECTION_RATE, 0.0)
        out = []
        for key in sorted(customers):
            rate = loss.get(key)
            out.append(AreaKpis(
                area=key[0], feeder=key[1], line_loss_rate=rate,
                loss_class=loss_class(rate, self.high_loss),
                voltage_qualification_rate=(statistics.fmean(quality[key])
                                            if quality.get(key) else None),
                collection_rate=(statistics.fmean(collection[key])
                                 if collection.get(key) else None),
                outage_minutes=outage.get(key, 0.0) * self.interval_min,
                customers=max(int(customers[key]), 0)))
        return out

    def trend(self) -> Trend:
        """Unit-wide means per hour (day report) or per day (month report)."""
        step = self.period.step_s
        start, end = self.period.start + step, self.period.end
        window = f"[{step}s]"

        def series(expression: str) -> dict[float, float]:
            found = self.query.range(expression, start, end, step)
            return dict(found[0].points) if found else {}

        loss = series(f"avg(avg_over_time({self._sel(m.LINE_LOSS_RATE)}{window}))")
        quality = series(f"avg(last_over_time({self._sel(m.VOLTAGE_QUALIFICATION_RATE)}"
                         f"{window}))")
        outage = series(f"sum(sum_over_time({self._sel(m.OUTAGE)}{window}))")
        trend = Trend()
        t = start
        while t <= end:
            trend.ts.append(t - step)
            trend.line_loss_rate.append(loss.get(t))
            trend.voltage_qualification_rate.append(quality.get(t))
            trend.outage_minutes.append(outage.get(t, 0.0) * self.interval_min)
            t += step
        return trend
