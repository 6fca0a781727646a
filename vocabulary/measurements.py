"""Metric points and the one registry of measurement names, their fields and tags.

Why a registry: the detection stage writes these measurements, the evaluation
report plots some of their fields, and dashboards are generated from them.
When each of those spelt the names itself, a renamed field silently emptied a
panel. A measurement is declared once here with its tags and fields (each
with its unit and meaning); code refers to it by the constant, and
`MetricPoint` checks nothing at run time (the hot path stays cheap) while the
tests check that every point the pipeline writes is declared.

Adding a measurement = one `register` call below; its writer builds
``MetricPoint(NAME, tags, fields, ts)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class MetricPoint:
    """A metrics-store point, independent of the client library that writes it."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float]
    ts: float


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measurement: its tags and its fields (name -> what it means, with its unit)."""

    name: str
    description: str
    tags: tuple[str, ...]
    fields: dict[str, str]


MEASUREMENTS: dict[str, Measurement] = {}


def register(measurement: Measurement) -> str:
    """Declare a measurement (once); return its name for use as a constant."""
    if measurement.name in MEASUREMENTS:
        raise ValueError(f"measurement {measurement.name!r} is already registered")
    MEASUREMENTS[measurement.name] = measurement
    return measurement.name


def series_name(measurement: str, field: str) -> str:
    """The name a Prometheus-compatible store gives one field (``<measurement>_<field>``).

    Why here: VictoriaMetrics flattens each InfluxDB field into its own series,
    so every reader (pages, reports, dashboards) must spell the flattening the
    same way, and only for fields the registry declares.

    >>> series_name(AREA_INTERVAL, "voltage_min_v")
    'gridwatch_area_voltage_min_v'
    >>> series_name(AREA_INTERVAL, "made_up")
    Traceback (most recent call last):
    ...
    KeyError: "measurement 'gridwatch_area' declares no field 'made_up'"
    """
    if field not in MEASUREMENTS[measurement].fields:
        raise KeyError(f"measurement {measurement!r} declares no field {field!r}")
    return f"{measurement}_{field}"


def undeclared(point: MetricPoint) -> list[str]:
    """What of ``point`` the registry does not declare (empty when it is all declared).

    >>> undeclared(MetricPoint(AREA_INTERVAL, {"area": "A1", "feeder": "F1"},
    ...                        {"power_kw": 1.0, "made_up": 2.0}, 0.0))
    ['field made_up']
    """
    known = MEASUREMENTS.get(point.measurement)
    if known is None:
        return [f"measurement {point.measurement}"]
    return ([f"tag {t}" for t in point.tags if t not in known.tags]
            + [f"field {f}" for f in point.fields if f not in known.fields])


ORG_TAGS = ("substation", "supply_station", "county", "city", "province")
AREA_TAGS = ("area", "feeder") + ORG_TAGS  # every area point rolls up both hierarchies

AREA_INTERVAL = register(Measurement(
    "gridwatch_area", "one transformer area, one interval: supply, voltage and load",
    AREA_TAGS, {
        "readings": "readings received in the interval (meters plus the area meter)",
        "power_kw": "sum of the meters' active power, kW",
        "outage": "1 while the area is dark, else 0",
        "voltage_min_v": "lowest meter voltage, V",
        "voltage_mean_v": "mean meter voltage, V",
        "voltage_max_v": "highest meter voltage, V",
        "low_voltage_points": "meters below the single-phase lower limit",
        "voltage_qualification_rate": "share of monitored points within limits",
        "low_voltage_zone": "1 while a low-voltage zone is open, else 0",
    }))
AREA_BALANCE = register(Measurement(
    "gridwatch_balance", "one area's energy balance, written when a balance bin closes",
    AREA_TAGS, {
        "excess_kwh": "area energy not explained by its meters, kWh",
        "excess_z": "that excess in robust standard units",
        "line_loss_rate": "line-loss rate of the bin",
    }))
AREA_DAILY = register(Measurement(
    "gridwatch_area_daily", "one area, one day: collection success",
    AREA_TAGS, {
        "collection_rate": "readings received / readings expected",
        "readings": "readings received in the day",
    }))
PIPELINE = register(Measurement(
    "gridwatch_pipeline", "the worker's own counters, once a second",
    ("component",), {
        "batches": "batches processed",
        "readings_processed": "readings processed",
        "alerts_raised": "firing findings published",
        "findings_produced": "findings published",
        "deadletters": "records dead-lettered",
        "replayed_skipped": "records skipped as already applied",
        "last_batch_at": "wall time of the last batch, epoch s",
        "metrics_written": "points the store accepted",
        "metrics_failed": "points the store refused",
        "inspections_applied": "closed theft inspections the areas' rankings learnt from",
        "redelivered_skipped": "uploads the bridge delivered twice, skipped (same batch id)",
        "metrics_reemitted": "points a killed worker left unconfirmed, written again",
        "broker_reset_records": "records found under regressed offsets (broker reset)",
        "broker_reset_intervals_lost": "area intervals lost to a broker reset",
    }))
THEFT_SUSPECT = register(Measurement(
    "gridwatch_theft_suspect", "a meter with an open theft alert, ranked among its area's "
    "meters: each day, and when an inspection of the area closes",
    ("area", "meter"), {
        "risk": "graded theft risk in (0, 1), learnt from the area's inspections",
        "rank": "place among the area's meters, 1 = riskiest",
    }))
FORECAST_HORIZONS_H = (1, 6, 24)   # the horizons published as fields (hours ahead)


def _forecast_fields() -> dict[str, str]:
    fields = {"load": "the hour's mean apparent power at the transformer (the actual), kVA",
              "rated": "the transformer's rating, kVA",
              "peak": "highest forecast of the next day (the day-ahead peak), kVA",
              "peak_lower": "80 % interval of the day-ahead peak, lower bound, kVA",
              "peak_upper": "80 % interval of the day-ahead peak, upper bound, kVA",
              "peak_hour": "hour of day (UTC, 0-23) the day-ahead peak begins",
              "peak_in_h": "the day-ahead peak is the hour ending this many hours after the "
                           "point's time",
              "critical_load": "learnt load at which the far-end voltage falls under "
                               "the limit, kVA"}
    for h in FORECAST_HORIZONS_H:
        fields |= {f"forecast_{h}h": f"forecast of the hour ending {h} h after the point's "
                                     f"time, kVA",
                   f"lower_{h}h": f"80 % interval of that {h} h forecast, lower bound, kVA",
                   f"upper_{h}h": f"80 % interval of that {h} h forecast, upper bound, kVA"}
    return fields


AREA_FORECAST = register(Measurement(
    "gridwatch_forecast",
    "one area's load forecast, written once an hour when the hour closes and stamped, as "
    "readings are, with the hour's end (the forecast origin). A forecast is drawn against "
    "the actual with PromQL's offset: `gridwatch_forecast_forecast_6h offset 6h` beside "
    "`gridwatch_forecast_load`. The feeder's forecast is the sum of its areas' "
    "(`sum by (feeder) (...)`); intervals do not add, so it has none",
    AREA_TAGS, _forecast_fields()))
KPI_AREA = register(Measurement(
    "gridwatch_kpi_area", "one area, one interval: the sums the utility's indicators roll up",
    AREA_TAGS, {
        "customers": "customers (meters) of the area",
        "customer_minutes": "customers x interval minutes (the supply-reliability denominator)",
        "customer_minutes_interrupted": "customers x interval minutes while the area is dark",
        "customer_interruptions": "customers of the area when an outage starts, else 0",
        "readings_expected": "readings expected in the interval (meters plus the area meter)",
        "readings_received": "readings received in the interval",
        "load_ratio": "area active power / transformer rating (kW per kVA)",
        "loss_bins": "1 when a balance bin closed in the interval",
        "loss_negative": "1 when that bin's line-loss rate is negative loss",
        "loss_qualified": "1 when that bin's line-loss rate is qualified",
        "loss_high": "1 when that bin's line-loss rate is high loss",
    }))
KPI_VOLTAGE = register(Measurement(
    "gridwatch_kpi_voltage", "one area, one point class, one interval: voltage qualification",
    AREA_TAGS + ("point_class",), {
        "points": "monitored points of the class (live meters)",
        "qualified_points": "those within the class's limits",
    }))
FINDINGS = register(Measurement(
    "gridwatch_finding", "one finding of the detection stage (dashboards' alert annotations)",
    AREA_TAGS + ("kind", "severity"), {
        "firing": "1 when the finding fires, 0 when it resolves",
    }))
OPEN_FINDINGS = register(Measurement(
    "gridwatch_open_findings", "one area, one kind, one interval: episodes open",
    AREA_TAGS + ("kind",), {
        "open": "open episodes of the kind in the area",
    }))
WORK_ORDERS = register(Measurement(
    "gridwatch_work_orders", "one team's work orders, running totals from the alert store",
    ("team",), {
        "open": "work orders not yet closed",
        "opened_total": "work orders received",
        "acknowledged_total": "work orders acknowledged",
        "closed_total": "work orders closed",
        "hours_to_acknowledge_total": "sum of hours from receipt to first acknowledgement",
        "hours_to_close_total": "sum of hours from receipt to close",
    }))
THEFT_CASES = register(Measurement(
    "gridwatch_theft_cases", "one area's theft cases, running totals from the alert store",
    AREA_TAGS, {
        "found_total": "theft alerts raised",
        "confirmed_total": "theft alerts closed as confirmed",
        "kwh_recovered_total": "estimated kWh recovered: daily loss x days until confirmed",
    }))
