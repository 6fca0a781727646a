"""`gridwatch simulate` and `gridwatch replay`.

simulate --live              publish the configured grid to MQTT in accelerated time
simulate --scenario F --out  write a labelled scenario run to a Parquet stream file
simulate --real-data D --out write a label-free stream driven by real series (false alarms)
replay FILE                  publish a stream file to MQTT at any speed

(`gridwatch evaluate` lives with the harness, in `gridwatch.evaluation.cli`.)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import Settings, load_settings


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
    from .publisher import run_live
    from .scenarios import ScenarioError

    try:
        result = run_live(settings, args.duration, bad_rate)
    except ScenarioError as exc:
        return _fail("simulate", str(exc))
    except ConnectionError as exc:
        return _fail("simulate", str(exc), 1)
    _print_result(result, args.json)
    return 0


def _simulate_offline(args: argparse.Namespace, settings: Settings) -> int:
    from .offline import scenario_run, write_parquet
    from .realdata import real_data_run
    from .scenarios import ScenarioError, load_scenario

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
    from .replay import replay_file

    try:
        result = replay_file(settings, args.file, args.duration, bad_rate,
                             progress=not args.json)
    except ValueError as exc:
        return _fail("replay", str(exc))
    except ConnectionError as exc:
        return _fail("replay", str(exc), 1)
    _print_result(result, args.json)
    return 0


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
