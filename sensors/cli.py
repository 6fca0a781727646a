"""`gridwatch simulate` and `gridwatch replay`: synthetic and recorded streams to MQTT or files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gridwatch.config import load_settings


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=True))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def _simulate(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.speed is not None:
        if args.speed <= 0:
            print("gridwatch simulate: --speed must be positive", file=sys.stderr)
            return 2
        settings.simulator.speed = args.speed
    bad_rate = settings.simulator.bad_rate if args.bad_rate is None else args.bad_rate
    if not 0.0 <= bad_rate < 1.0:
        print(f"gridwatch simulate: --bad-rate must be in [0, 1), got {bad_rate}",
              file=sys.stderr)
        return 2
    if not args.live:
        print("gridwatch simulate: give --live (publish to MQTT) or --out FILE", file=sys.stderr)
        return 2
    from gridwatch.sensors.publisher import run_live

    try:
        result = run_live(settings, args.duration, bad_rate)
    except ConnectionError as exc:
        print(f"gridwatch simulate: {exc}", file=sys.stderr)
        return 1
    _print_result(result, args.json)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "simulate", help="simulate a distribution grid and publish or write its meter readings",
        description="Simulate feeders, transformer areas and customer meters. With --live, "
                    "publish concentrator batches to MQTT in accelerated time.")
    sim.add_argument("--live", action="store_true", help="publish to the configured MQTT broker")
    sim.add_argument("--speed", type=float, default=None,
                     help="simulated seconds per wall second (default: simulator.speed)")
    sim.add_argument("--bad-rate", type=float, default=None,
                     help="fraction of malformed messages to inject (default: simulator.bad_rate)")
    sim.add_argument("--duration", type=float, default=None, metavar="S",
                     help="stop after S wall seconds (default: run until Ctrl-C)")
    sim.add_argument("--json", action="store_true", help="print the result as one JSON object")
    sim.set_defaults(func=_simulate)
