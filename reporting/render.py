"""The report as one self-contained HTML file: inline CSS, charts as base64 PNGs.

Why self-contained: it is mailed, archived and opened offline; it must not
depend on the server that made it. Every value is escaped.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from html import escape

from . import charts
from .kpis import AreaKpis
from .report import Report

CSS = """body{font:15px/1.45 system-ui,sans-serif;color:#1c2430;max-width:60rem;margin:0 auto;
padding:1rem}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:2px solid
#14324f}table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{text-align:left;
padding:.25rem .5rem;border-bottom:1px solid #e2e6ec}td.n{text-align:right;
font-variant-numeric:tabular-nums}.kpis{display:grid;grid-template-columns:repeat(auto-fill,
minmax(11rem,1fr));gap:.6rem}.kpi{background:#f3f5f8;border-radius:8px;padding:.5rem .7rem}
.kpi b{display:block;font-size:1.3rem}img{max-width:100%;height:auto}.scroll{overflow-x:auto}"""


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f} %"


def _num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f'<td{" class=n" if i >= numeric_from else ""}>{escape(c)}</td>'
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _area_rows(areas: list[AreaKpis]) -> list[list[str]]:
    return [[a.area, a.feeder, _pct(a.line_loss_rate), a.loss_class,
             _pct(a.voltage_qualification_rate), _pct(a.collection_rate),
             _num(a.outage_minutes), _num(a.customers)] for a in areas]


AREA_HEADERS = ["area", "feeder", "line loss", "class", "voltage qual.", "collection",
                "outage min", "customers"]


def render_html(report: Report) -> str:
    """The whole report page."""
    kpis = report.kpis()
    period = report.period
    cards = [("Line-loss rate", _pct(kpis["line_loss_rate"])),
             ("Voltage qualification", _pct(kpis["voltage_qualification_rate"])),
             ("Collection success", _pct(kpis["collection_rate"])),
             ("Outages", _num(kpis["outages"])),
             ("SAIDI (min/customer)", _num(kpis["saidi_minutes"], 2)),
             ("SAIFI", _num(kpis["saifi"], 4)),
             ("Supply reliability", _pct(kpis["supply_reliability_rate"], 4)),
             ("Theft found / confirmed", f"{kpis['theft_found']} / {kpis['theft_confirmed']}"),
             ("Est. kWh recovered", _num(kpis["theft_estimated_kwh_recovered"])),
             ("Work orders opened / closed", f"{kpis['work_orders_opened']} / "
                                             f"{kpis['work_orders_closed']}"),
             ("Open at end", _num(kpis["work_orders_open_at_end"]))]
    card_html = "".join(f'<div class="kpi">{escape(k)}<b>{escape(v)}</b></div>'
                        for k, v in cards)
    classes = ", ".join(f"{k}: {v}" for k, v in sorted(kpis["line_loss_classes"].items()))
    worst = report.worst()
    theft = report.orders.theft
    theft_rows = [[kind, str(n)] for kind, n in sorted(theft.by_kind.items())]
    team_rows = [[t.team, str(t.opened), str(t.closed), str(t.open_at_end),
                  _num(t.median_hours_to_acknowledge, 2), _num(t.median_hours_to_close, 2)]
                 for t in report.orders.teams]
    sections = [
        f"<h1>GridWatch {escape(period.kind)} report {escape(period.label)} - "
        f"{escape(report.unit.name)}</h1>",
        f"<p>{escape(_when(period.start))} to {escape(_when(period.end))}; generated "
        f"{escape(_when(report.generated_at))}. Areas reporting: {len(report.areas)}.</p>",
        f'<h2>Indicators</h2><div class="kpis">{card_html}</div>',
        f"<p>Line-loss classes (negative &lt; 0, high &gt; {100 * report.high_loss:g} %): "
        f"{escape(classes or '-')}.</p>",
        "<h2>Trend</h2>" + _img(charts.trend_chart(report.trend, period.kind == "day"),
                                "trend of line loss, voltage qualification and outages"),
        "<h2>Worst areas by line loss</h2>"
        + (_img(charts.worst_loss_chart(worst["line_loss_rate"], report.high_loss),
                "worst areas by line-loss rate") if worst["line_loss_rate"] else "")
        + _table(AREA_HEADERS, _area_rows(worst["line_loss_rate"]), 2),
        "<h2>Worst areas by voltage qualification</h2>"
        + _table(AREA_HEADERS, _area_rows(worst["voltage_qualification_rate"]), 2),
        "<h2>Worst areas by collection success</h2>"
        + _table(AREA_HEADERS, _area_rows(worst["collection_rate"]), 2),
        "<h2>Areas with outages</h2>"
        + _table(AREA_HEADERS, _area_rows(worst["outage_minutes"]), 2),
        f"<h2>Theft</h2><p>Found {theft.found} (still open {theft.open}), confirmed "
        f"{theft.confirmed}, not confirmed {theft.not_confirmed}; estimated loss of the cases "
        f"found {theft.estimated_loss_kwh_per_day:,.1f} kWh/day; estimated kWh recovered "
        f"(confirmed cases, loss per day x days until closed) "
        f"{theft.estimated_kwh_recovered:,.1f}.</p>" + _table(["kind", "cases"], theft_rows),
        "<h2>Work orders per team</h2>"
        + (_img(charts.teams_chart(report.orders.teams), "work orders per team")
           if report.orders.teams else "")
        + _table(["team", "opened", "closed", "open at end", "median h to acknowledge",
                  "median h to close"], team_rows),
        "<h2>Alerts by kind</h2>"
        + (_img(charts.kinds_chart(report.orders.alerts_by_kind), "alerts by kind")
           if report.orders.alerts_by_kind else "<p>None.</p>"),
        "<h2>All areas</h2>" + _table(AREA_HEADERS, _area_rows(report.areas), 2),
    ]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>GridWatch report {escape(period.label)}</title><style>{CSS}</style>"
            f"</head><body>{''.join(sections)}</body></html>")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
