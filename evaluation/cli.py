"""`gridwatch evaluate`: score the production detection stage against a scenario's labels.

Why its own module: the harness stands above both the simulator
(`gridwatch.sensors`) and the detectors; when the command lived in
`sensors/cli.py` the simulator imported the detectors through it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..config import load_settings

DEFAULT_REPORT_DIR = "gridwatch-eval"


def _fail(message: str, code: int = 2) -> int:
    print(f"gridwatch evaluate: {message}", file=sys.stderr)
    return code


def _evaluate(args: argparse.Namespace) -> int:
    from ..sensors.scenarios import ScenarioError
    from .harness import evaluate, write_outputs
    from .matching import merge

    settings = load_settings(args.config)
    if args.days is not None and args.days < 1:
        return _fail("--days must be at least 1")
    seeds = args.seed or [settings.simulator.seed]
    outcomes, written = [], []
    for seed in seeds:
        try:
            outcome = evaluate(args.scenario, seed, args.days, settings.detectors,
                               progress=not args.json, labels_path=args.labels)
        except (ScenarioError, ValueError) as exc:
            return _fail(str(exc))
        name = f"{outcome.meta.get('scenario', 'run')}-seed{outcome.meta.get('seed')}.html"
        report = Path(DEFAULT_REPORT_DIR) / name if not args.report else Path(args.report)
        if args.report and len(seeds) > 1:
            report = report.with_name(f"{report.stem}-seed{seed}{report.suffix}")
        try:
            written.append(write_outputs(outcome, report))
        except OSError as exc:
            return _fail(f"cannot write the report {report}: {exc.strerror or exc}",
                         1)
        outcomes.append(outcome)
    summary = merge([o.evaluation for o in outcomes]).to_dict()
    if args.json:
        print(json.dumps(summary, sort_keys=True))
        for html_path, _ in written:
            print(f"report written to {html_path}", file=sys.stderr)
        return 0
    if len(seeds) > 1:
        print(f"pooled over seeds {', '.join(map(str, seeds))}")
    if summary["kinds"]:
        _print_table(summary["kinds"])
    else:
        print("no labels and no alerts")
    for outcome, (html_path, json_path) in zip(outcomes, written, strict=True):
        meta = outcome.meta
        print(f"\nseed {meta.get('seed')}: {meta['readings']} readings in {meta['batches']} "
              f"batches, {meta['wall_s']} s ({meta['readings_per_s']} readings/s)")
        for message, count in sorted(outcome.run.dead_letters.items()):
            print(f"dead letters ({count} batches): {message}")
        print(f"report: {html_path}\ndetails: {json_path}")
    return 0


def _print_table(kinds: dict[str, dict[str, Any]]) -> None:
    def cell(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    print(f"{'kind':<26}{'events':>7}{'alerts':>7}{'prec':>7}{'recall':>7}{'f1':>7}"
          f"{'delay p50':>11}{'delay p95':>11}")
    for kind, s in sorted(kinds.items()):
        p50 = None if s["delay_median_s"] is None else s["delay_median_s"] / 3600
        p95 = None if s["delay_p95_s"] is None else s["delay_p95_s"] / 3600
        print(f"{kind:<26}{s['events']:>7}{s['alerts']:>7}{cell(s['precision'], '.2f'):>7}"
              f"{cell(s['recall'], '.2f'):>7}{cell(s['f1'], '.2f'):>7}"
              f"{cell(p50, '.1f') + ' h':>11}{cell(p95, '.1f') + ' h':>11}")
    warnings = {kind: s for kind, s in sorted(kinds.items()) if "lead_median_h" in s}
    if warnings:
        print(f"\n{'early warning':<26}{'events':>7}{'warned':>8}{'>= 6 h ahead':>14}"
              f"{'lead p50':>10}{'precision':>11}")
        for kind, s in warnings.items():
            print(f"{kind:<26}{s['events']:>7}{cell(s['recall'], '.0%'):>8}"
                  f"{cell(s['warned_ahead_share'], '.0%'):>14}"
                  f"{cell(s['lead_median_h'], '.1f') + ' h':>10}{cell(s['precision'], '.2f'):>11}")


def register(subparsers: argparse._SubParsersAction) -> None:
    ev = subparsers.add_parser(
        "evaluate", help="score the detectors against a labelled scenario",
        description="Run the production detector pipeline over a scenario (generated with "
                    "--seed) or a stream file and report event-level precision, recall, F1 "
                    "and detection delay per kind, with an HTML report of plots, misses and "
                    "false alerts.")
    ev.add_argument("--scenario", required=True, metavar="FILE",
                    help="scenario YAML, or a .parquet stream file")
    ev.add_argument("--seed", type=int, nargs="+", default=None, metavar="N",
                    help="scenario seed(s); several seeds pool their scores, one report each "
                         "(default: simulator.seed)")
    ev.add_argument("--labels", metavar="FILE.json",
                    help="score against these labels instead (e.g. from closed work orders)")
    ev.add_argument("--days", type=int, default=None, help="days to simulate "
                                                           "(default: the scenario's)")
    ev.add_argument("--report", metavar="FILE.html",
                    help=f"HTML report path (default {DEFAULT_REPORT_DIR}/<scenario>-seed<N>.html)")
    ev.add_argument("--json", action="store_true",
                    help='print {"kinds": {...}} as one JSON object')
    ev.set_defaults(func=_evaluate)
