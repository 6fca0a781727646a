"""Every metrics-store series the reports read, named from the measurement registry.

Why one module: the worker writes InfluxDB line protocol (``measurement``
with fields); VictoriaMetrics and other Prometheus-compatible stores name
each field ``<measurement>_<field>``. Each name here is built by
`series_name`, which refuses a field the registry does not declare, so a
renamed field breaks a test instead of emptying a report.
"""

from __future__ import annotations

from ..vocabulary.measurements import AREA_BALANCE, AREA_DAILY, AREA_INTERVAL, series_name

AREA_LABEL = "area"
FEEDER_LABEL = "feeder"

VOLTAGE_MIN_V = series_name(AREA_INTERVAL, "voltage_min_v")
VOLTAGE_MEAN_V = series_name(AREA_INTERVAL, "voltage_mean_v")
VOLTAGE_QUALIFICATION_RATE = series_name(AREA_INTERVAL, "voltage_qualification_rate")  # day to date
POWER_KW = series_name(AREA_INTERVAL, "power_kw")
OUTAGE = series_name(AREA_INTERVAL, "outage")  # 1 for every interval the area is dark
READINGS = series_name(AREA_INTERVAL, "readings")
COLLECTION_RATE = series_name(AREA_DAILY, "collection_rate")  # stamped at the end of its day
LINE_LOSS_RATE = series_name(AREA_BALANCE, "line_loss_rate")  # one per 6-hour balance bin
EXCESS_KWH = series_name(AREA_BALANCE, "excess_kwh")
