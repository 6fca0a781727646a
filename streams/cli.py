"""Commands that run the data path: `bridge`, `worker`, `up`, `config`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys

from gridwatch.config import load_settings, settings_as_dict


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

    bridge = subparsers.add_parser("bridge", help="run the MQTT -> Kafka bridge")
    bridge.add_argument("--stats-file", help="write counters to this JSON file every second")
    bridge.set_defaults(func=_bridge)

    worker = subparsers.add_parser("worker", help="run one Faust detection worker")
    worker.add_argument("--stats-file", help="write counters to this JSON file every second")
    worker.add_argument("--loglevel", default="warning", help="Faust log level")
    worker.set_defaults(func=_worker)

    secure = subparsers.add_parser(
        "mqtt-config", help="write a Mosquitto TLS set-up with one account per concentrator",
        description="From a CSV of 'concentrator,area' lines, write under --out: the hashed "
                    "password file, the topic ACL (each concentrator may publish only its own "
                    "area's readings; the bridge account mqtt.username reads them), "
                    "credentials.csv (mode 600, the generated passwords) and mosquitto.conf "
                    "with a TLS-only listener.")
    secure.add_argument("concentrators", help="CSV file of concentrator,area lines")
    secure.add_argument("--out", required=True, help="directory for the generated files")
    secure.add_argument("--cafile", required=True, help="CA certificate (PEM)")
    secure.add_argument("--certfile", required=True, help="the broker's certificate (PEM)")
    secure.add_argument("--keyfile", required=True, help="the broker's private key (PEM)")
    secure.add_argument("--host", default="0.0.0.0", help="listen address (default 0.0.0.0)")
    secure.add_argument("--port", type=int, default=8883, help="TLS port (default 8883)")
    secure.add_argument("--json", action="store_true", help="print what was written as JSON")
    secure.set_defaults(func=_mqtt_config)

    config = subparsers.add_parser("config", help="validate and show the configuration")
    config.add_argument("--json", action="store_true", help="print the effective settings as JSON")
    config.set_defaults(func=_config)


def _up(args: argparse.Namespace) -> int:
    from gridwatch.up import run_up

    settings = load_settings(args.config)
    if args.speed is not None:
        settings.simulator.speed = args.speed
    if args.bad_rate is not None:
        settings.simulator.bad_rate = args.bad_rate
    return run_up(settings, args.config, duration_s=args.duration, as_json=args.json)


def _bridge(args: argparse.Namespace) -> int:
    from gridwatch.streams.bridge import MqttKafkaBridge

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
    from gridwatch.streams.worker import run_worker

    load_settings(args.config)  # fail fast, naming key and file, before Faust starts
    run_worker(args.config, args.stats_file, args.loglevel)
    return 0


def _mqtt_config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gridwatch.streams.mqtt_security import (
        bridge_account,
        concentrator_account,
        read_concentrators,
        write_broker_files,
    )

    cfg = load_settings(args.config).mqtt
    try:
        pairs = read_concentrators(Path(args.concentrators))
        accounts = [concentrator_account(cfg.topic_prefix, c, a) for c, a in pairs]
    except (OSError, ValueError) as exc:
        print(f"gridwatch mqtt-config: {exc}", file=sys.stderr)
        return 2
    accounts.append(bridge_account(cfg.topic_prefix, cfg.alerts_topic,
                                   cfg.username or cfg.client_id, cfg.password))
    out = Path(args.out).resolve()
    listener = write_broker_files(out, accounts, args.host, args.port, args.cafile,
                                  args.certfile, args.keyfile)
    (out / "mosquitto.conf").write_text(listener)
    written = {"directory": str(out), "accounts": len(accounts),
               "files": ["mosquitto.conf", "passwd", "acl", "credentials.csv"]}
    if args.json:
        print(json.dumps(written))
    else:
        print(f"wrote {', '.join(written['files'])} for {len(accounts)} accounts to {out}; "
              f"include mosquitto.conf in the broker's configuration and hand each "
              f"concentrator its line of credentials.csv")
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    tree = settings_as_dict(settings, redact=True)
    if args.json:
        print(json.dumps(tree, indent=2))
    else:
        print(f"configuration OK ({settings.source})")
    return 0
