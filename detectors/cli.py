"""`gridwatch score` (generic streaming scorer), `gridwatch theft rank` and `gridwatch forecast`
(in `forecast_cli`) commands."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import TextIO

from . import forecast_cli
from .cli_args import key_value_params
from .scoring import DEFAULT_SCORER, SCORERS, make_scorer
from .theft_rank import rank, rank_with_findings, read_findings, read_wide


def register(subparsers: argparse._SubParsersAction) -> None:
    score = subparsers.add_parser(
        "score", help="score a timestamp,value CSV stream from stdin, strictly online",
        description="Reads CSV 'timestamp,value' on stdin, writes "
                    "'timestamp,value,anomaly_score' (score in [0, 1]) on stdout, one row per "
                    "input row, each scored before the detector learns it.")
    score.add_argument("--detector", default=DEFAULT_SCORER,
                       help=f"scorer name (default {DEFAULT_SCORER}); see --list")
    score.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="scorer parameter, repeatable")
    score.add_argument("--list", action="store_true", help="list scorers and parameters")
    score.add_argument("--json", action="store_true", help="with --list: JSON output")
    score.set_defaults(func=run_score)

    theft = subparsers.add_parser("theft", help="theft analytics on consumption histories")
    theft_sub = theft.add_subparsers(dest="theft_command", metavar="COMMAND")
    ranked = theft_sub.add_parser(
        "rank", help="rank customers by theft risk from a wide daily-consumption CSV",
        description="FILE: first column customer id, optional FLAG column (ignored), one "
                    "column per date, empty cell = missing. Writes 'customer,risk', highest "
                    "risk first.")
    ranked.add_argument("file", metavar="FILE", help="wide CSV ('-' for stdin)")
    ranked.add_argument("--json", action="store_true", help="JSON list instead of CSV")
    ranked.add_argument("--findings", metavar="FINDINGS.csv",
                        help="inspection results, header 'customer,finding' with finding "
                             "'confirmed' or 'not_confirmed': re-rank every customer with a "
                             "model trained on the inspected ones")
    ranked.set_defaults(func=run_theft_rank)
    theft.set_defaults(func=lambda args: theft.print_help() or 2)
    forecast_cli.register(subparsers)


def run_score(args: argparse.Namespace, stdin: TextIO | None = None,
              stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if args.list:
        listing = {name: {"parameters": spec.params, "summary": spec.summary,
                          "default": name == DEFAULT_SCORER} for name, spec in SCORERS.items()}
        if args.json:
            print(json.dumps(listing, indent=1), file=stdout)
        else:
            for name, item in listing.items():
                params = " ".join(f"{k}={v}" for k, v in item["parameters"].items())
                mark = " (default)" if item["default"] else ""
                print(f"{name}{mark}: {item['summary']}\n    {params}", file=stdout)
        return 0
    try:
        scorer = make_scorer(args.detector, key_value_params(args.param))
    except ValueError as exc:
        print(f"gridwatch score: {exc}", file=sys.stderr)
        return 2
    reader = csv.reader(stdin)
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header[:2]] != ["timestamp", "value"]:
        print(f"gridwatch score: input must start with the header 'timestamp,value', "
              f"got {header!r}", file=sys.stderr)
        return 2
    writer = csv.writer(stdout, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score"])
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) < 2:
            print(f"gridwatch score: line {line_no}: expected 'timestamp,value', got {row!r}",
                  file=sys.stderr)
            return 2
        try:
            value = float(row[1])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            print(f"gridwatch score: line {line_no}: value {row[1]!r} is not a finite "
                  f"number", file=sys.stderr)
            return 2
        score = min(max(scorer.score_one(value), 0.0), 1.0)
        scorer.learn_one(value)
        writer.writerow([row[0], row[1], f"{score:.6f}"])
    return 0


def run_theft_rank(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    try:
        if args.file == "-":
            table = read_wide(sys.stdin, "<stdin>")
        else:
            with open(args.file, newline="") as handle:
                table = read_wide(handle, args.file)
        findings = None
        if args.findings:
            with open(args.findings, newline="", encoding="utf-8-sig") as handle:
                findings = read_findings(handle, args.findings)
        ranked = (rank(table) if findings is None
                  else rank_with_findings(table, findings, source=args.findings))
    except (OSError, ValueError) as exc:
        print(f"gridwatch theft rank: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([{"customer": c, "risk": round(r, 6)} for c, r in ranked]),
              file=stdout)
        return 0
    writer = csv.writer(stdout, lineterminator="\n")
    writer.writerow(["customer", "risk"])
    for customer, risk in ranked:
        writer.writerow([customer, f"{risk:.6f}"])
    return 0
