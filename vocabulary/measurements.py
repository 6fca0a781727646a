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


AREA_INTERVAL = register(Measurement(
    "gridwatch_area", "one transformer area, one interval: supply, voltage and load",
    ("area", "feeder"), {
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
    ("area", "feeder"), {
        "excess_kwh": "area energy not explained by its meters, kWh",
        "excess_z": "that excess in robust standard units",
        "line_loss_rate": "line-loss rate of the bin",
    }))
AREA_DAILY = register(Measurement(
    "gridwatch_area_daily", "one area, one day: collection success",
    ("area", "feeder"), {
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
        "redelivered_skipped": "uploads the bridge delivered twice, skipped (same batch id)",
        "metrics_reemitted": "points a killed worker left unconfirmed, written again",
        "broker_reset_records": "records found under regressed offsets (broker reset)",
        "broker_reset_intervals_lost": "area intervals lost to a broker reset",
    }))
