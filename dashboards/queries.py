"""One panel query, written once and rendered in PromQL or InfluxQL.

Why a small query language of our own: every dashboard exists in two
flavours (VictoriaMetrics/Prometheus and InfluxDB 1.x), and hand-writing
each query twice is how the two drift apart. A `Query` says *what* is asked
(the registry's measurement and field, how each area's values over a window
are reduced, how areas combine, grouped by which hierarchy labels, as a
ratio or not); `promql` and `influxql` say it in each store's words. Names
come from `vocabulary.measurements` (`series_name` for Prometheus-style
stores), and the hierarchy filters from the template variables, so no
metric name is typed by hand.

Grafana's own macros are left in the text for Grafana to fill:
``$__range`` / ``$__interval`` (PromQL windows), ``$timeFilter`` and
``$__interval`` (InfluxQL), and ``$<variable>`` for the hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary.measurements import MEASUREMENTS, series_name

# the template variables, top of each hierarchy first; a panel filters on those its
# measurement carries
HIERARCHY = ("province", "city", "county", "supply_station", "substation", "feeder", "area")
TEAM = "team"
VARIABLES = HIERARCHY + (TEAM,)

PROM_OVER_TIME = {"sum": "sum_over_time", "mean": "avg_over_time", "last": "last_over_time",
                  "max": "max_over_time", "min": "min_over_time", "count": "count_over_time",
                  "increase": "increase"}
INFLUX_OVER_TIME = {"sum": "sum", "mean": "mean", "last": "last", "max": "max", "min": "min",
                    "count": "count", "increase": "spread"}
PROM_ACROSS = {"sum": "sum", "avg": "avg", "max": "max", "min": "min"}
INFLUX_ACROSS = {"sum": "sum", "avg": "mean", "max": "max", "min": "min"}
# reductions that InfluxQL can apply across all areas at once, for each way of combining
DIRECT = {("sum", "sum"), ("count", "sum"), ("mean", "avg"), ("max", "max"), ("min", "min")}


@dataclass(frozen=True)
class Term:
    """One field of one measurement: reduced per series over the window, then across series.

    >>> Term("gridwatch_kpi_area", "made_up")
    Traceback (most recent call last):
    ...
    KeyError: "measurement 'gridwatch_kpi_area' declares no field 'made_up'"
    """

    measurement: str
    field: str
    reduce: str = "sum"
    across: str = "sum"

    def __post_init__(self) -> None:
        series_name(self.measurement, self.field)   # refuses an undeclared field
        if self.reduce not in PROM_OVER_TIME or self.across not in PROM_ACROSS:
            raise ValueError(f"unknown reduction {self.reduce!r} / {self.across!r}")

    @property
    def direct(self) -> bool:
        return (self.reduce, self.across) in DIRECT


@dataclass(frozen=True)
class Query:
    """A panel's question: `num` (divided by `den` if given), grouped by labels `by`.

    ``step``: a time series (one value per ``$__interval``) rather than one
    value per series over the dashboard's range. ``complement``: 1 - value
    (supply reliability from the interrupted share).
    """

    num: Term
    den: Term | None = None
    by: tuple[str, ...] = ()
    step: bool = False
    complement: bool = False

    def __post_init__(self) -> None:
        tags = MEASUREMENTS[self.num.measurement].tags
        if self.den is not None and self.den.measurement != self.num.measurement:
            raise ValueError("a ratio divides two fields of one measurement")
        missing = [label for label in self.by if label not in tags]
        if missing:
            raise KeyError(f"{self.num.measurement} has no tag {', '.join(missing)}")

    @property
    def terms(self) -> tuple[Term, ...]:
        return (self.num,) if self.den is None else (self.num, self.den)

    @property
    def filters(self) -> tuple[str, ...]:
        """The template variables this query is filtered by."""
        tags = MEASUREMENTS[self.num.measurement].tags
        return tuple(v for v in VARIABLES if v in tags)

    @property
    def legend(self) -> str:
        return " ".join("{{" + label + "}}" for label in self.by)


def promql(query: Query) -> str:
    """The query in PromQL (VictoriaMetrics, Prometheus).

    >>> print(promql(Query(Term("gridwatch_kpi_voltage", "qualified_points"),
    ...                    Term("gridwatch_kpi_voltage", "points"), by=("area",))))
    sum by (area) (sum_over_time(gridwatch_kpi_voltage_qualified_points{province=~"$province", \
city=~"$city", county=~"$county", supply_station=~"$supply_station", substation=~"$substation", \
feeder=~"$feeder", area=~"$area"}[$__range])) / sum by (area) \
(sum_over_time(gridwatch_kpi_voltage_points{province=~"$province", city=~"$city", \
county=~"$county", supply_station=~"$supply_station", substation=~"$substation", \
feeder=~"$feeder", area=~"$area"}[$__range]))
    """
    window = "$__interval" if query.step else "$__range"
    matchers = ", ".join(f'{v}=~"${v}"' for v in query.filters)
    grouping = f" by ({', '.join(query.by)})" if query.by else ""

    def term(t: Term) -> str:
        selector = f"{series_name(t.measurement, t.field)}{{{matchers}}}[{window}]"
        return f"{PROM_ACROSS[t.across]}{grouping} ({PROM_OVER_TIME[t.reduce]}({selector}))"

    text = " / ".join(term(t) for t in query.terms)
    return f"1 - ({text})" if query.complement else text


def influxql(query: Query) -> str:
    """The query in InfluxQL (InfluxDB 1.x, or 2.x through its v1 compatibility API).

    >>> print(influxql(Query(Term("gridwatch_work_orders", "open", "last"), by=("team",),
    ...                      step=True)))
    SELECT sum("open") AS "value" FROM (SELECT last("open") AS "open" FROM \
"gridwatch_work_orders" WHERE $timeFilter AND "team" =~ /^$team$/ GROUP BY time($__interval), *) \
WHERE $timeFilter GROUP BY time($__interval), "team" fill(none)
    """
    measurement = query.num.measurement
    where = " AND ".join(["$timeFilter"] + [f'"{v}" =~ /^${v}$/' for v in query.filters])
    times = ["time($__interval)"] if query.step else []
    grouping = ", ".join(times + [f'"{label}"' for label in query.by])
    group = f" GROUP BY {grouping}" if grouping else ""
    fill = " fill(none)" if query.step else ""

    def combine(parts: list[str]) -> str:
        text = " / ".join(parts)
        return f'1 - ({text}) AS "value"' if query.complement else f'{text} AS "value"'

    if all(t.direct for t in query.terms):
        select = combine([f'{INFLUX_OVER_TIME[t.reduce]}("{t.field}")' for t in query.terms])
        return f'SELECT {select} FROM "{measurement}" WHERE {where}{group}{fill}'
    inner = ", ".join(f'{INFLUX_OVER_TIME[t.reduce]}("{t.field}") AS "{t.field}"'
                      for t in query.terms)
    inner_group = ", ".join(times + ["*"])
    select = combine([f'{INFLUX_ACROSS[t.across]}("{t.field}")' for t in query.terms])
    return (f'SELECT {select} FROM (SELECT {inner} FROM "{measurement}" WHERE {where} '
            f"GROUP BY {inner_group}) WHERE $timeFilter{group}{fill}")
