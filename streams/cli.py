"""Commands that run the data path: `bridge`, `worker`, `config`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal

from ..config import load_settings, settings_as_dict


def register(subparsers: argparse._SubParsersAction) -> None:
    bridge = subparsers.add_parser("bridge", help="run the MQTT -> Kafka bridge")
    bridge.add_argument("--stats-file", help="write counters to this JSON file every second")
    bridge.set_defaults(func=_bridge)

    worker = subparsers.add_parser("worker", help="run one Faust detection worker")
    worker.add_argument("--stats-file", help="write counters to this JSON file every second")
    worker.add_argument("--loglevel", default="warning", help="Faust log level")
    worker.set_defaults(func=_worker)

    config = subparsers.add_parser("config", help="validate and show the configuration")
    config.add_argument("--json", action="store_true", help="print the effective settings as JSON")
    config.set_defaults(func=_config)


def _bridge(args: argparse.Namespace) -> int:
    from .bridge import MqttKafkaBridge

    settings = load_settings(args.config)
    bridge = MqttKafkaBridge(settings, stats_path=args.stats_file)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await bridge.run(stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .worker import run_worker

    load_settings(args.config)  # fail fast, naming key and file, before Faust starts
    run_worker(args.config, args.stats_file, args.loglevel)
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    tree = settings_as_dict(settings, redact=True)
    if args.json:
        print(json.dumps(tree, indent=2))
    else:
        print(f"configuration OK ({settings.source})")
    return 0
