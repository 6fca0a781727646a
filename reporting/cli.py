"""``gridwatch report --day D | --month M [--org UNIT] [--out FILE] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..alerts.dispatcher import open_store
from ..config import load_settings
from ..streams.promql import MetricsStoreError, PromQuery
from .org import UnknownUnit
from .period import Period, PeriodError, day, month
from .render import render_html
from .report import build_report


def _period(args: argparse.Namespace) -> Period:
    return day(args.day) if args.day else month(args.month)


def _summary(report_dict: dict, out: Path) -> str:
    k = report_dict["kpis"]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f} %"
    return "\n".join([
        f"GridWatch {report_dict['kind']} report {report_dict['period']} "
        f"({report_dict['unit']}, {k['areas']} areas) -> {out}",
        f"  line loss {pct(k['line_loss_rate'])}  voltage qualification "
        f"{pct(k['voltage_qualification_rate'])}  collection {pct(k['collection_rate'])}",
        f"  outages {k['outages']}  SAIDI {k['saidi_minutes']} min  SAIFI {k['saifi']}  "
        f"theft found {k['theft_found']} confirmed {k['theft_confirmed']}",
        f"  work orders opened {k['work_orders_opened']} closed {k['work_orders_closed']} "
        f"open at end {k['work_orders_open_at_end']}",
    ])


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    try:
        period = _period(args)
    except PeriodError as exc:
        print(f"gridwatch report: {exc}", file=sys.stderr)
        return 2
    if args.high_loss is None:
        args.high_loss = settings.kpis.high_loss_above
    if not 0 < args.high_loss < 1:
        print("gridwatch report: --high-loss must be a rate between 0 and 1", file=sys.stderr)
        return 2
    out = Path(args.out or f"gridwatch-report-{period.label}.html")
    store = open_store(settings)
    try:
        report = build_report(PromQuery(settings.metrics.url), store, period, args.org,
                              settings.detectors.data_quality.interval_s, args.high_loss)
    except (MetricsStoreError, UnknownUnit) as exc:
        print(f"gridwatch report: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    out.write_text(render_html(report), encoding="utf-8")
    content = report.to_dict()
    if args.json:
        print(json.dumps(content | {"out": str(out)}))
    else:
        print(_summary(content, out))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="HTML report of a day or a month from the metrics and alert stores",
        description="One self-contained HTML file (PNG charts inline): line loss, voltage "
                    "qualification, collection, outages and reliability, theft, work orders "
                    "per team, worst areas. Reads the metrics store's Prometheus query API "
                    "(metrics.url) and the alert store.")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--day", metavar="YYYY-MM-DD", help="one UTC day")
    when.add_argument("--month", metavar="YYYY-MM", help="one UTC month")
    parser.add_argument("--org", metavar="UNIT",
                        help="an area, a feeder, or a substation, supply station, county, city "
                             "or province (default: all)")
    parser.add_argument("--out", metavar="FILE",
                        help="HTML file to write (default gridwatch-report-<period>.html)")
    parser.add_argument("--high-loss", type=float, default=None, metavar="RATE",
                        help="line-loss rate above which an area is high loss "
                             "(default: kpis.high_loss_above in the configuration)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=_run)
