"""`gridwatch up`: the whole system on the embedded default stack."""

from __future__ import annotations

import argparse

from ..config import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    up = subparsers.add_parser(
        "up", help="run the whole system on the embedded default stack",
        description="Start whatever of Mosquitto, the Kafka-protocol broker and VictoriaMetrics "
                    "is not reachable, then the bridge, one Faust worker, the alert dispatcher "
                    "and the simulator; show a live summary; stop everything on Ctrl-C or "
                    "after --duration.")
    up.add_argument("--duration", type=float, metavar="SECONDS",
                    help="stop after this many seconds (default: run until Ctrl-C)")
    up.add_argument("--bad-rate", type=float, metavar="FRACTION",
                    help="fraction of malformed messages the simulator injects")
    up.add_argument("--speed", type=float, help="simulated seconds per wall-clock second")
    up.add_argument("--json", action="store_true", help="print one JSON summary object at the end")
    up.set_defaults(func=_up)


def _up(args: argparse.Namespace) -> int:
    from .up import run_up

    settings = load_settings(args.config)
    if args.speed is not None:
        settings.simulator.speed = args.speed
    if args.bad_rate is not None:
        settings.simulator.bad_rate = args.bad_rate
    return run_up(settings, args.config, duration_s=args.duration, as_json=args.json)
