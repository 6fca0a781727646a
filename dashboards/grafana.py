"""A small builder of Grafana dashboard JSON (schema 39): panels, variables, annotations.

Why our own and not ``grafana-foundation-sdk``: the SDK is pre-1.0 and
generated per Grafana version, so its API moves between releases; we need
five panel types, chained query variables and one annotation, which is a
hundred lines of plain dicts we can read and test. Each panel is built for
one flavour (`Flavour`): the same `Query` becomes a PromQL target for
VictoriaMetrics/Prometheus or an InfluxQL target for InfluxDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..vocabulary.measurements import AREA_INTERVAL, FINDINGS, WORK_ORDERS, series_name
from .queries import HIERARCHY, TEAM, Query, influxql, promql

SCHEMA_VERSION = 39
WIDTH = 24
ALL = ".*"


@dataclass(frozen=True)
class Flavour:
    """One datasource flavour: its Grafana plugin type, datasource uid and file suffix."""

    name: str
    plugin: str
    uid: str

    @property
    def datasource(self) -> dict[str, str]:
        return {"type": self.plugin, "uid": self.uid}

    @property
    def prometheus(self) -> bool:
        return self.plugin == "prometheus"


PROMETHEUS = Flavour("prometheus", "prometheus", "gridwatch-prometheus")
INFLUXDB = Flavour("influxdb", "influxdb", "gridwatch-influxdb")
FLAVOURS = (PROMETHEUS, INFLUXDB)


@dataclass
class Panel:
    """What a panel shows; rendered to JSON for one flavour by `Dashboard.to_json`."""

    title: str
    kind: str                       # timeseries | table | stat | bargauge | heatmap
    queries: list[Query]
    unit: str = "short"
    height: int = 8
    width: int = 12
    target: float | None = None     # a threshold line/colour at the KPI's target
    higher_is_better: bool = True
    worst: int = 0                  # keep the N worst rows (sorted by the first query)
    links: list[dict[str, str]] = field(default_factory=list)
    description: str = ""
    interval: str = ""              # least step of a time series, e.g. "1d" for daily trends


def target_json(query: Query, flavour: Flavour, ref: str, table: bool) -> dict[str, Any]:
    """One Grafana target of `query` in `flavour`."""
    if flavour.prometheus:
        return {"refId": ref, "datasource": flavour.datasource, "expr": promql(query),
                "legendFormat": query.legend or "__auto", "range": query.step,
                "instant": not query.step, "format": "table" if table else "time_series"}
    return {"refId": ref, "datasource": flavour.datasource, "query": influxql(query),
            "rawQuery": True, "resultFormat": "table" if table else "time_series",
            "alias": " ".join(f"$tag_{label}" for label in query.by) or "value"}


def _thresholds(panel: Panel) -> dict[str, Any]:
    if panel.target is None:
        return {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
    below, above = ("red", "green") if panel.higher_is_better else ("green", "red")
    return {"mode": "absolute", "steps": [{"color": below, "value": None},
                                          {"color": above, "value": panel.target}]}


def panel_json(panel: Panel, flavour: Flavour, pid: int, x: int, y: int) -> dict[str, Any]:
    table = panel.kind in ("table", "bargauge", "stat") and not panel.queries[0].step
    transformations: list[dict[str, Any]] = []
    if panel.kind == "table" and len(panel.queries) > 1:
        transformations.append({"id": "merge", "options": {}})
    if panel.worst:   # one query: Prometheus names its column Value, our InfluxQL value
        column = "Value" if flavour.prometheus else "value"
        transformations += [
            {"id": "sortBy", "options": {"sort": [{"field": column,
                                                   "desc": not panel.higher_is_better}]}},
            {"id": "limit", "options": {"limitField": panel.worst}}]
    refs = "ABCDEFGH"
    return {
        "id": pid, "type": panel.kind, "title": panel.title, "description": panel.description,
        "datasource": flavour.datasource,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": [target_json(q, flavour, refs[i], table)
                    for i, q in enumerate(panel.queries)],
        "fieldConfig": {"defaults": {"unit": panel.unit, "thresholds": _thresholds(panel),
                                     "links": panel.links},
                        "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "right"}}
        if panel.kind == "timeseries" else {},
        "transformations": transformations,
    } | ({"interval": panel.interval} if panel.interval else {})


def _variable(name: str, parent: str | None, flavour: Flavour) -> dict[str, Any]:
    """A query variable listing `name` values under the chosen `parent` (All = any)."""
    probe = series_name(AREA_INTERVAL, "readings")
    if name == TEAM:
        probe, measurement = series_name(WORK_ORDERS, "open"), WORK_ORDERS
    else:
        measurement = AREA_INTERVAL
    if flavour.prometheus:
        match = f'{{{parent}=~"${parent}"}}' if parent else ""
        query: str = f"label_values({probe}{match}, {name})"
    else:
        where = f' WHERE "{parent}" =~ /^${parent}$/' if parent else ""
        query = f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{name}"{where}'
    return {"name": name, "label": name.replace("_", " "), "type": "query",
            "datasource": flavour.datasource, "query": query, "definition": query,
            "refresh": 2, "includeAll": True, "allValue": ALL, "multi": True,
            "current": {"text": "All", "value": "$__all"}, "sort": 1}


def variables(flavour: Flavour) -> list[dict[str, Any]]:
    """The hierarchy, each level filtered by the one above, then the teams.

    The organisation (province -> ... -> supply station) and the network
    (substation -> feeder -> area) are two hierarchies over the same areas;
    both narrow the areas, so a chain of filters serves both.
    """
    chain = [_variable(name, HIERARCHY[i - 1] if i else None, flavour)
             for i, name in enumerate(HIERARCHY)]
    return chain + [_variable(TEAM, None, flavour)]


def annotation(flavour: Flavour) -> dict[str, Any]:
    """Findings as annotations: the moment each alert fired, titled by kind and area."""
    firing = series_name(FINDINGS, "firing")
    base = {"name": "Alerts", "enable": True, "iconColor": "red", "datasource": flavour.datasource}
    if flavour.prometheus:
        return base | {"expr": f'sum by (kind, area, severity) ({firing}{{area=~"$area", '
                               f'feeder=~"$feeder"}} == 1)',
                       "step": "60s", "titleFormat": "{{kind}}", "textFormat": "{{area}}",
                       "tagKeys": "kind,area,severity", "useValueForTime": False}
    return base | {"query": f'SELECT "firing", "kind", "area", "severity" FROM "{FINDINGS}" '
                            f'WHERE $timeFilter AND "firing" = 1 AND "area" =~ /^$area$/ '
                            f'AND "feeder" =~ /^$feeder$/',
                   "titleColumn": "kind", "textColumn": "area", "tagsColumn": "severity"}


@dataclass
class Dashboard:
    """A dashboard: its panels in reading order, its default time range and refresh."""

    uid: str
    title: str
    description: str
    panels: list[Panel]
    time_from: str = "now-6h"
    refresh: str = "1m"

    def to_json(self, flavour: Flavour) -> dict[str, Any]:
        laid_out, x, y, row_height = [], 0, 0, 0
        for pid, panel in enumerate(self.panels, start=1):
            if x + panel.width > WIDTH:
                x, y, row_height = 0, y + row_height, 0
            laid_out.append(panel_json(panel, flavour, pid, x, y))
            x += panel.width
            row_height = max(row_height, panel.height)
        return {
            "uid": f"{self.uid}-{flavour.name}", "title": f"{self.title} ({flavour.name})",
            "description": self.description, "tags": ["gridwatch", flavour.name],
            "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True,
            "time": {"from": self.time_from, "to": "now"}, "refresh": self.refresh,
            "timezone": "browser", "templating": {"list": variables(flavour)},
            "annotations": {"list": [annotation(flavour)]}, "panels": laid_out,
        }
