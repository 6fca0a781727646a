"""`gridwatch simulate`, `gridwatch replay` and `gridwatch evaluate`.

simulate --live              publish the configured grid to MQTT in accelerated time
simulate --scenario F --out  write a labelled scenario run to a Parquet stream file
simulate --real-data D --out write a label-free stream driven by real series (false alarms)
replay FILE                  publish a stream file to MQTT at any speed
evaluate --scenario F        score the production detectors against a scenario's labels
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gridwatch.config import Settings, load_settings

DEFAULT_REPORT_DIR = "gridwatch-eval"


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=True))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def _fail(command: str, message: str, code: int = 2) -> int:
    print(f"gridwatch {command}: {message}", file=sys.stderr)
    return code


def _pacing(args: argparse.Namespace, settings: Settings) -> float | str:
    """The bad-message rate after applying --speed/--bad-rate, or an error message."""
    if args.speed is not None:
        if args.speed <= 0:
            return "--speed must be positive"
        settings.simulator.speed = args.speed
    bad_rate = settings.simulator.bad_rate if args.bad_rate is None else args.bad_rate
    if not 0.0 <= bad_rate < 1.0:
        return f"--bad-rate must be in [0, 1), got {bad_rate}"
    return bad_rate


def _simulate(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.live == bool(args.out):
        return _fail("simulate", "give either --live (publish to MQTT) or --out FILE.parquet")
    if args.seed is not None:
        settings.simulator.seed = args.seed
    if args.out:
        return _simulate_offline(args, settings)
    bad_rate = _pacing(args, settings)
    if isinstance(bad_rate, str):
        return _fail("simulate", bad_rate)
    if args.scenario:
        settings.simulator.scenario = args.scenario
    from gridwatch.sensors.publisher import run_live
    from gridwatch.sensors.scenarios import ScenarioError

    try:
        result = run_live(settings, args.duration, bad_rate)
    except ScenarioError as exc:
        return _fail("simulate", str(exc))
    except ConnectionError as exc:
        return _fail("simulate", str(exc), 1)
    _print_result(result, args.json)
    return 0


def _simulate_offline(args: argparse.Namespace, settings: Settings) -> int:
    from gridwatch.sensors.offline import scenario_run, write_parquet
    from gridwatch.sensors.realdata import real_data_run
    from gridwatch.sensors.scenarios import ScenarioError, load_scenario

    if bool(args.scenario) == bool(args.real_data):
        return _fail("simulate", "--out needs either --scenario FILE (e.g. "
                                 "scenarios/default.yaml) or --real-data DIR")
    if not str(args.out).endswith(".parquet"):
        return _fail("simulate", f"--out must name a .parquet file, got {args.out}")
    seed = settings.simulator.seed
    try:
        if args.real_data:
            run = real_data_run(args.real_data, settings.simulator, args.days)
        else:
            run = scenario_run(load_scenario(args.scenario), seed, args.days)
    except (ScenarioError, ValueError) as exc:
        return _fail("simulate", str(exc))
    try:
        result = write_parquet(run, args.out, progress=not args.json)
    except OSError as exc:
        return _fail("simulate", f"cannot write {args.out}: {exc.strerror or exc}", 1)
    result |= {"out": str(args.out), "seed": seed, "scenario": run.scenario.name}
    _print_result(result, args.json)
    return 0


def _replay(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    bad_rate = _pacing(args, settings)
    if isinstance(bad_rate, str):
        return _fail("replay", bad_rate)
    from gridwatch.sensors.replay import replay_file

    try:
        result = replay_file(settings, args.file, args.duration, bad_rate,
                             progress=not args.json)
    except ValueError as exc:
        return _fail("replay", str(exc))
    except ConnectionError as exc:
        return _fail("replay", str(exc), 1)
    _print_result(result, args.json)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from gridwatch.detectors.evaluation.harness import evaluate, write_outputs
    from gridwatch.detectors.evaluation.matching import merge
    from gridwatch.sensors.scenarios import ScenarioError

    settings = load_settings(args.config)
    if args.days is not None and args.days < 1:
        return _fail("evaluate", "--days must be at least 1")
    seeds = args.seed or [settings.simulator.seed]
    outcomes, written = [], []
    for seed in seeds:
        try:
            outcome = evaluate(args.scenario, seed, args.days, settings.detectors,
                               progress=not args.json, labels_path=args.labels)
        except (ScenarioError, ValueError) as exc:
            return _fail("evaluate", str(exc))
        name = f"{outcome.meta.get('scenario', 'run')}-seed{outcome.meta.get('seed')}.html"
        report = Path(DEFAULT_REPORT_DIR) / name if not args.report else Path(args.report)
        if args.report and len(seeds) > 1:
            report = report.with_name(f"{report.stem}-seed{seed}{report.suffix}")
        try:
            written.append(write_outputs(outcome, report))
        except OSError as exc:
            return _fail("evaluate", f"cannot write the report {report}: {exc.strerror or exc}",
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


def _add_pacing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=None,
                        help="simulated seconds per wall second (default: simulator.speed)")
    parser.add_argument("--bad-rate", type=float, default=None,
                        help="fraction of malformed messages to inject (default: "
                             "simulator.bad_rate)")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S wall seconds (default: until done or Ctrl-C)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "simulate", help="simulate a distribution grid: publish live or write a labelled file",
        description="Simulate feeders, transformer areas and customer meters. --live publishes "
                    "concentrator batches to MQTT in accelerated time; --scenario F --out "
                    "FILE.parquet writes a labelled scenario run (labels beside it).")
    sim.add_argument("--live", action="store_true", help="publish to the configured MQTT broker")
    sim.add_argument("--scenario", metavar="FILE",
                     help="scenario YAML: its grid and problems (live or into --out)")
    sim.add_argument("--real-data", metavar="DIR",
                     help="with --out: a label-free stream whose loads and supply voltage are "
                          "real series from DIR (UCI household, ETDataset), for false alarms")
    sim.add_argument("--out", metavar="FILE.parquet", help="write the stream to this file")
    sim.add_argument("--seed", type=int, default=None,
                     help="seed of the grid and the scenario (default: simulator.seed)")
    sim.add_argument("--days", type=int, default=None, help="days to simulate "
                                                            "(default: the scenario's)")
    _add_pacing(sim)
    sim.set_defaults(func=_simulate)

    rep = subparsers.add_parser(
        "replay", help="publish a recorded stream file to MQTT at any speed",
        description="Publish a Parquet stream file (from `gridwatch simulate --out`) to the "
                    "configured MQTT broker, keeping its upload rhythm, accelerated by --speed.")
    rep.add_argument("file", help="stream file (.parquet)")
    _add_pacing(rep)
    rep.set_defaults(func=_replay)

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
