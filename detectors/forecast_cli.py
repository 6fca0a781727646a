"""`gridwatch forecast`: strictly online load forecasts of a timestamp,value CSV stream.

Contract: CSV ``timestamp,value`` on stdin (ISO 8601 or epoch seconds; an
optional third column ``temperature`` is used by the gridwatch model);
``timestamp,value,forecast,lower,upper`` on stdout, one row per input row.
With ``--horizon H``, row t's forecast is the one made H rows earlier,
having seen only the rows up to t - H, for row t's time (rows are expected
on a regular clock; after a gap, a row whose time is not 1..H steps after
the row H rows earlier gets empty cells). ``lower``/``upper`` are its 80 %
interval. Cells are empty while there is not enough history.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import deque
from datetime import datetime
from typing import TextIO

from .cli_args import key_value_params
from .forecast_models import (
    DEFAULT_FORECASTER,
    FORECASTERS,
    make_forecaster,
)
from .forecasting import SECONDS_PER_DAY, ForecastPoint, as_datetime


class InputError(ValueError):
    """A bad input line; the message names it."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "forecast", help="forecast a timestamp,value CSV load stream from stdin, strictly online",
        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--horizon", type=int, default=1, metavar="H",
                        help="rows ahead each forecast is made (default 1, at most a day)")
    parser.add_argument("--model", default=DEFAULT_FORECASTER,
                        help=f"forecaster name (default {DEFAULT_FORECASTER}); see --list")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="model parameter, repeatable")
    parser.add_argument("--holiday", action="append", default=[], metavar="YYYY-MM-DD",
                        help="a holiday, forecast like a Sunday; repeatable")
    parser.add_argument("--interval", type=int, metavar="SECONDS",
                        help="reading interval (default: from the first two rows)")
    parser.add_argument("--list", action="store_true", help="list models and parameters")
    parser.add_argument("--json", action="store_true", help="with --list: JSON output")
    parser.set_defaults(func=run_forecast)


def print_listing(as_json: bool, stdout: TextIO) -> None:
    listing = {name: {"parameters": spec.params, "summary": spec.summary,
                      "default": name == DEFAULT_FORECASTER} for name, spec in FORECASTERS.items()}
    if as_json:
        print(json.dumps(listing, indent=1), file=stdout)
        return
    for name, item in listing.items():
        params = " ".join(f"{k}={v}" for k, v in item["parameters"].items())
        mark = " (default)" if item["default"] else ""
        print(f"{name}{mark}: {item['summary']}\n    {params}", file=stdout)


def parse_row(row: list[str], line_no: int, with_temperature: bool = False
              ) -> tuple[datetime, float, float | None]:
    if len(row) < 2:
        raise InputError(f"line {line_no}: expected 'timestamp,value', got {row!r}")
    text = row[0].strip()
    try:
        at = as_datetime(float(text)) if text.replace(".", "", 1).isdigit() \
            else datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"line {line_no}: timestamp {row[0]!r} is neither ISO 8601 nor "
                         f"epoch seconds") from None
    try:
        value = float(row[1]) if row[1].strip() else math.nan
    except ValueError:
        raise InputError(f"line {line_no}: value {row[1]!r} is not a number (leave it empty "
                         f"for a missing reading)") from None
    if math.isinf(value):
        raise InputError(f"line {line_no}: value {row[1]!r} is not finite")
    temperature = None
    if with_temperature and len(row) > 2 and row[2].strip():
        try:
            temperature = float(row[2])
        except ValueError:
            raise InputError(f"line {line_no}: temperature {row[2]!r} is not a number") from None
    return at, value, temperature


def _not_after(at: datetime, previous: datetime) -> bool:
    try:
        return at <= previous
    except TypeError:  # one with a UTC offset, one without
        return True


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6g}"


def run_forecast(args: argparse.Namespace, stdin: TextIO | None = None,
                 stdout: TextIO | None = None) -> int:
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if args.list:
        print_listing(args.json, stdout)
        return 0
    try:
        params = key_value_params(args.param)
        make_forecaster(args.model, 3600, None, params, args.holiday)  # fail fast on bad options
        forecast_rows(args, params, stdin, stdout)
    except ValueError as exc:  # InputError included
        print(f"gridwatch forecast: {exc}", file=sys.stderr)
        return 2
    return 0


def forecast_rows(args: argparse.Namespace, params: dict[str, str], stdin: TextIO,
                  stdout: TextIO) -> None:
    """Stream the rows through the model; see the module docstring for the contract."""
    reader = csv.reader(stdin)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
        raise InputError(f"line 1: input must start with the header 'timestamp,value', "
                         f"got {header!r}")
    with_temperature = len(header) > 2 and header[2].strip().lower() == "temperature"
    writer = csv.writer(stdout, lineterminator="\n")
    writer.writerow(["timestamp", "value", "forecast", "lower", "upper"])
    horizon = args.horizon
    pending: deque[tuple[datetime, list[ForecastPoint]]] = deque(maxlen=horizon)
    model = None
    previous: datetime | None = None
    buffered: list[tuple[list[str], datetime, float, float | None]] = []
    interval = args.interval
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        at, value, temperature = parse_row(row, line_no, with_temperature)
        if previous is not None and _not_after(at, previous):
            raise InputError(f"line {line_no}: timestamp {row[0]!r} is not after the "
                             f"previous row's")
        if interval is None and previous is not None:
            interval = round((at - previous).total_seconds())
        previous = at
        if model is None:
            if interval is None:
                buffered.append((row, at, value, temperature))
                continue
            model = _model(args, params, interval, horizon, line_no)
            for old in buffered:
                _step(model, pending, writer, *old, interval, horizon)
            buffered = []
        _step(model, pending, writer, row, at, value, temperature, interval, horizon)
    for old_row, *_ in buffered:  # a single data row: nothing to forecast from
        writer.writerow([old_row[0], old_row[1], "", "", ""])


def _model(args: argparse.Namespace, params: dict[str, str], interval: int, horizon: int,
           line_no: int) -> object:
    if interval <= 0 or SECONDS_PER_DAY % interval:
        raise InputError(f"line {line_no}: the reading interval ({interval} s, from the first "
                         f"two rows) must divide a day; pass --interval")
    period = SECONDS_PER_DAY // interval
    if not 1 <= horizon <= period:
        raise ValueError(f"--horizon must be 1..{period} (one day of {interval} s readings), "
                         f"got {horizon}")
    return make_forecaster(args.model, interval, horizon, params, args.holiday)


def _step(model: object, pending: deque, writer: csv.writer, row: list[str], at: datetime,
          value: float, temperature: float | None, interval: int, horizon: int) -> None:
    forecast = lower = upper = math.nan
    if len(pending) == horizon:
        origin, points = pending[0]
        steps = round((at - origin).total_seconds() / interval)
        if 1 <= steps <= len(points):
            point = points[steps - 1]
            forecast, lower, upper = point.value, point.lower, point.upper
    writer.writerow([row[0], row[1], _cell(forecast), _cell(lower), _cell(upper)])
    model.learn_one(value, at, temperature)  # type: ignore[attr-defined]
    pending.append((at, model.forecast(horizon)))  # type: ignore[attr-defined]
