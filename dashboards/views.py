"""The three views of the seed document's three layers, built from the measurement registry.

Why three: the operations layer (control room) watches the live state and
acts within minutes; the management layer checks today's indicators per team
and area against targets; the decision layer follows the month against
targets and the trends. Each view's default time range is its horizon
(the last 6 hours, today so far, this month so far), so ``$__range`` in a
panel *is* "today" or "month to date".
"""

from __future__ import annotations

from ..config import KpiSettings
from ..vocabulary.measurements import (
    AREA_BALANCE,
    AREA_INTERVAL,
    FINDINGS,
    KPI_AREA,
    KPI_VOLTAGE,
    OPEN_FINDINGS,
    THEFT_CASES,
    WORK_ORDERS,
)
from .grafana import Dashboard, Panel
from .queries import Query, Term

RATIO = "percentunit"
HOURS = "h"
DAILY = "1d"   # Grafana's $__interval never below a day: one point per day of the month


def _ratio(measurement: str, num: str, den: str, by: tuple[str, ...],
           step: bool = False, **kw: str) -> Query:
    return Query(Term(measurement, num, **kw), Term(measurement, den, **kw), by, step)


def voltage_qualification(by: tuple[str, ...], step: bool = False) -> Query:
    return _ratio(KPI_VOLTAGE, "qualified_points", "points", by, step)


def collection_success(by: tuple[str, ...], step: bool = False) -> Query:
    return _ratio(KPI_AREA, "readings_received", "readings_expected", by, step)


def line_loss(by: tuple[str, ...], step: bool = False) -> Query:
    return Query(Term(AREA_BALANCE, "line_loss_rate", "mean", "avg"), by=by, step=step)


def loss_classes(by: tuple[str, ...]) -> list[Query]:
    return [Query(Term(KPI_AREA, name), by=by)
            for name in ("loss_negative", "loss_qualified", "loss_high")]


def saidi(by: tuple[str, ...]) -> Query:
    """Customer-minutes interrupted per customer served (minutes)."""
    return Query(Term(KPI_AREA, "customer_minutes_interrupted"),
                 Term(KPI_AREA, "customers", "max"), by)


def saifi(by: tuple[str, ...]) -> Query:
    """Customer interruptions per customer served."""
    return Query(Term(KPI_AREA, "customer_interruptions"), Term(KPI_AREA, "customers", "max"), by)


def supply_reliability(by: tuple[str, ...], step: bool = False) -> Query:
    """RS-1: 1 - customer-minutes interrupted / customer-minutes."""
    return Query(Term(KPI_AREA, "customer_minutes_interrupted"),
                 Term(KPI_AREA, "customer_minutes"), by, step, complement=True)


def work_orders(field: str, reduce: str = "increase") -> Query:
    return Query(Term(WORK_ORDERS, field, reduce), by=("team",))


def hours_to(action: str) -> Query:
    """Mean hours from receipt to `action` over the range: ratio of the totals' increases."""
    count = "acknowledged_total" if action == "acknowledge" else "closed_total"
    return _ratio(WORK_ORDERS, f"hours_to_{action}_total", count, ("team",), reduce="increase")


def theft(field: str, by: tuple[str, ...]) -> Query:
    return Query(Term(THEFT_CASES, field, "increase"), by=by)


def drill(variable: str, label: str) -> dict[str, str]:
    """A data link that narrows the dashboard to the clicked series' `label`."""
    return {"title": f"Drill down to {label} ${{__field.labels.{label}}}",
            "url": f"?var-{variable}=${{__field.labels.{label}}}&${{__url_time_range}}"}


def operations() -> Dashboard:
    """Live state of every area, the alert feed, and drill-down feeder -> area."""
    return Dashboard("gridwatch-operations", "GridWatch operations",
                     "Control room: live state of every area; alerts are annotations.", [
        Panel("Open alerts by kind", "timeseries",
              [Query(Term(OPEN_FINDINGS, "open", "last"), by=("kind",), step=True)]),
        Panel("Load against rating (kW/kVA)", "timeseries",
              [Query(Term(KPI_AREA, "load_ratio", "max", "max"), by=("area",), step=True)],
              unit=RATIO, target=1.0, higher_is_better=False),
        Panel("Voltage heat map (mean meter voltage)", "heatmap",
              [Query(Term(AREA_INTERVAL, "voltage_mean_v", "mean", "avg"), by=("area",),
                     step=True)], unit="volt"),
        Panel("Far-end voltages (lowest meter)", "timeseries",
              [Query(Term(AREA_INTERVAL, "voltage_min_v", "min", "min"), by=("area",),
                     step=True)], unit="volt", links=[drill("area", "area")]),
        Panel("Load by feeder (click: drill down)", "timeseries",
              [Query(Term(AREA_INTERVAL, "power_kw", "mean", "sum"), by=("feeder",),
                     step=True)], unit="kwatt", links=[drill("feeder", "feeder")]),
        Panel("Areas dark", "timeseries",
              [Query(Term(AREA_INTERVAL, "outage", "max", "sum"), by=("feeder",), step=True)]),
        Panel("Fault and alert feed", "table",
              [Query(Term(FINDINGS, "firing", "count"), by=("kind", "severity", "area"))],
              width=24, description="Findings fired or resolved in the range, per kind and area "
                                    "(each one is also an annotation)."),
    ], time_from="now-6h", refresh="30s")


def management(kpis: KpiSettings) -> Dashboard:
    """Today so far: KPIs per area and team against targets, worst areas, service levels."""
    t = kpis.targets
    area = ("area",)
    return Dashboard("gridwatch-management", "GridWatch management",
                     "Today's indicators per area and team against targets.", [
        Panel("Voltage qualification rate by area and point class", "table",
              [voltage_qualification(("area", "point_class"))], unit=RATIO,
              target=t.voltage_qualification_rate),
        Panel("Worst 10 areas: voltage qualification", "bargauge",
              [voltage_qualification(area)], unit=RATIO, worst=10,
              target=t.voltage_qualification_rate),
        Panel("Collection success rate by area", "table", [collection_success(area)],
              unit=RATIO, target=t.collection_rate),
        Panel("Worst 10 areas: line-loss rate", "bargauge", [line_loss(area)], unit=RATIO,
              worst=10, target=t.line_loss_rate, higher_is_better=False),
        Panel("Line-loss classes (balance bins: negative, qualified, high)", "table",
              loss_classes(area)),
        Panel("Outage customer-minutes by feeder", "bargauge",
              [Query(Term(KPI_AREA, "customer_minutes_interrupted"), by=("feeder",))]),
        Panel("Work orders open, by team", "bargauge", [work_orders("open", "last")]),
        Panel("Work orders closed today, by team", "bargauge",
              [work_orders("closed_total")]),
        Panel("Hours to acknowledge, by team", "bargauge", [hours_to("acknowledge")],
              unit=HOURS, target=t.hours_to_acknowledge, higher_is_better=False),
        Panel("Hours to close, by team", "bargauge", [hours_to("close")], unit=HOURS,
              target=t.hours_to_close, higher_is_better=False),
    ], time_from="now/d", refresh="5m")


def decision(kpis: KpiSettings) -> Dashboard:
    """Month to date against targets, trends, theft recovered, reliability indices."""
    t = kpis.targets
    county = ("county",)
    return Dashboard("gridwatch-decision", "GridWatch decision",
                     "Month to date per county against targets; daily trends.", [
        Panel("Supply reliability (RS-1)", "stat", [supply_reliability(())], unit=RATIO,
              target=t.supply_reliability, width=6),
        Panel("SAIDI (minutes per customer)", "stat", [saidi(())], unit="m", width=6),
        Panel("SAIFI (interruptions per customer)", "stat", [saifi(())], width=6),
        Panel("Voltage qualification rate", "stat", [voltage_qualification(())], unit=RATIO,
              target=t.voltage_qualification_rate, width=6),
        Panel("Line-loss rate by county", "bargauge", [line_loss(county)], unit=RATIO,
              target=t.line_loss_rate, higher_is_better=False),
        Panel("Collection success rate by county", "bargauge", [collection_success(county)],
              unit=RATIO, target=t.collection_rate),
        Panel("Daily trend: voltage qualification rate", "timeseries",
              [voltage_qualification(county, step=True)], unit=RATIO,
              target=t.voltage_qualification_rate, interval=DAILY),
        Panel("Daily trend: line-loss rate", "timeseries", [line_loss(county, step=True)],
              unit=RATIO, target=t.line_loss_rate, higher_is_better=False, interval=DAILY),
        Panel("Daily trend: supply reliability", "timeseries",
              [supply_reliability(county, step=True)], unit=RATIO,
              target=t.supply_reliability, interval=DAILY),
        Panel("Theft cases found, confirmed and kWh recovered by county", "table",
              [theft("found_total", county), theft("confirmed_total", county),
               theft("kwh_recovered_total", county)]),
    ], time_from="now/M", refresh="1h")


def dashboards(kpis: KpiSettings) -> list[Dashboard]:
    """Every dashboard GridWatch ships."""
    return [operations(), management(kpis), decision(kpis)]
