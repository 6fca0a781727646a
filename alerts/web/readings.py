"""The readings behind one alert, from the metrics store.

Why from the metrics store: a finding carries its observed values and
thresholds, not the series it was judged on; the store has the area's
roll-ups the worker wrote, so the page shows the day before the alert up to
a few hours after it. If the store is unreachable the page still works and
says why the chart is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...streams.promql import MetricsStoreError, PromQuery, selector
from ...vocabulary.kinds import kind_of
from ...vocabulary.measurements import AREA_INTERVAL, series_name
from ..model import Alert

BEFORE_S = 86_400.0
AFTER_S = 6 * 3600.0
MAX_SPAN_S = 7 * 86_400.0
MAX_POINTS = 300
AREA_LABEL, FEEDER_LABEL = "area", "feeder"
VOLTAGE_MIN_V = series_name(AREA_INTERVAL, "voltage_min_v")
UNITS = {"v": "V", "kw": "kW", "kwh": "kWh", "z": "sd"}


def evidence_series(kind: str) -> tuple[str, str]:
    """The series that shows why an alert of `kind` fired (the kind's registered metric),
    and its unit read off the field name.

    >>> evidence_series("low_voltage_zone")
    ('gridwatch_area_low_voltage_points', 'points')
    >>> evidence_series("theft_bypass")
    ('gridwatch_balance_excess_z', 'sd')
    """
    measurement, field_name = kind_of(kind).metric
    suffix = field_name.rsplit("_", 1)[-1]
    return series_name(measurement, field_name), UNITS.get(suffix, suffix)


@dataclass
class AlertReadings:
    """What the chart draws: a series, its unit and the alert's window."""

    metric: str
    unit: str
    scope: str
    window: tuple[float, float]
    reference: float | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    problem: str = ""


class ReadingsSource:
    """Looks up the evidence series of an alert's area (or feeder); voltage charts show
    the lower limit `voltage_floor_v` the low-voltage detector judges against."""

    def __init__(self, query: PromQuery, interval_s: float,
                 voltage_floor_v: float | None = None) -> None:
        self.query, self.interval_s = query, interval_s
        self.voltage_floor_v = voltage_floor_v

    def for_alert(self, alert: Alert) -> AlertReadings:
        metric, unit = evidence_series(alert.kind)
        end_of_alert = alert.ended_at or alert.last_seen
        start = max(alert.started_at - BEFORE_S, end_of_alert - MAX_SPAN_S)
        end = end_of_alert + AFTER_S
        labels = {AREA_LABEL: alert.area} if alert.area else {FEEDER_LABEL: alert.feeder}
        scope = ", ".join(f"{k} {v}" for k, v in labels.items())
        reference = self.voltage_floor_v if metric == VOLTAGE_MIN_V else None
        readings = AlertReadings(metric, unit, scope, (alert.started_at, end_of_alert),
                                 reference)
        aggregate = "sum" if not alert.area else "avg"
        step = max(self.interval_s, (end - start) / MAX_POINTS)
        try:
            series = self.query.range(f"{aggregate}({selector(metric, labels)})", start, end,
                                      step)
        except MetricsStoreError as exc:
            readings.problem = str(exc)
            return readings
        readings.points = series[0].points if series else []
        return readings
