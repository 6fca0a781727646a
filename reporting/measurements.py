"""Every metrics-store series the views read, by the name the worker writes it under.

Why one module: the worker writes InfluxDB line protocol (``measurement``
with fields); VictoriaMetrics and other Prometheus-compatible stores name
each field ``<measurement>_<field>``. A central measurement registry is on
its way; when it lands, only this module changes to take the names from it.
Today's names come from `detectors.pipeline` (``gridwatch_area``,
``gridwatch_area_daily``, ``gridwatch_balance``).
"""

from __future__ import annotations

AREA_LABEL = "area"
FEEDER_LABEL = "feeder"

VOLTAGE_MIN_V = "gridwatch_area_voltage_min_v"
VOLTAGE_MEAN_V = "gridwatch_area_voltage_mean_v"
VOLTAGE_QUALIFICATION_RATE = "gridwatch_area_voltage_qualification_rate"  # day to date
POWER_KW = "gridwatch_area_power_kw"
OUTAGE = "gridwatch_area_outage"  # 1 for every interval the area is dark
READINGS = "gridwatch_area_readings"
COLLECTION_RATE = "gridwatch_area_daily_collection_rate"  # stamped at the end of its day
LINE_LOSS_RATE = "gridwatch_balance_line_loss_rate"  # one per 6-hour balance bin
EXCESS_KWH = "gridwatch_balance_excess_kwh"

VOLTAGE_KINDS = ("low_voltage_zone", "voltage_sag", "voltage_swell", "meter_power_loss",
                 "phase_loss")
LOAD_KINDS = ("transformer_overload", "outage_area", "outage_feeder")
BALANCE_PREFIXES = ("theft_", "leakage", "metering_fault")


def evidence_series(kind: str) -> tuple[str, str]:
    """The series that shows why an alert of `kind` fired, and its unit.

    >>> evidence_series("low_voltage_zone")
    ('gridwatch_area_voltage_min_v', 'V')
    >>> evidence_series("theft_bypass")
    ('gridwatch_balance_line_loss_rate', 'loss rate')
    """
    if kind in VOLTAGE_KINDS:
        return VOLTAGE_MIN_V, "V"
    if kind in LOAD_KINDS:
        return POWER_KW, "kW"
    if kind.startswith(BALANCE_PREFIXES):
        return LINE_LOSS_RATE, "loss rate"
    return READINGS, "readings"
