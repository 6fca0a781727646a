"""`gridwatch up` (the whole system on the embedded default stack) and `gridwatch mqtt-config`."""

from __future__ import annotations

import argparse
import json
import sys

from ..config import load_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    up = subparsers.add_parser(
        "up", help="run the whole system on the embedded default stack",
        description="Start whatever of Mosquitto, the Kafka-protocol broker and VictoriaMetrics "
                    "is not reachable, then the bridge, one Faust worker, the alert dispatcher "
                    "and the simulator (the demo scenario unless simulator.scenario names "
                    "another, back-dated to end at now); show a live summary and where each "
                    "view is; stop everything on Ctrl-C or after --duration.")
    up.add_argument("--duration", type=float, metavar="SECONDS",
                    help="stop after this many seconds (default: run until Ctrl-C)")
    up.add_argument("--bad-rate", type=float, metavar="FRACTION",
                    help="fraction of malformed messages the simulator injects")
    up.add_argument("--speed", type=float,
                    help="simulated seconds per wall-clock second while replaying the history")
    up.add_argument("--history", type=float, metavar="HOURS",
                    help="simulated hours before now to replay, then follow the wall clock "
                         "(default: stack.history_h; 0: start at simulator.start)")
    up.add_argument("--json", action="store_true", help="print one JSON summary object at the end")
    up.set_defaults(func=_up)

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


def _up(args: argparse.Namespace) -> int:
    from .up import run_up

    settings = load_settings(args.config)
    if args.speed is not None:
        settings.simulator.speed = args.speed
    if args.bad_rate is not None:
        settings.simulator.bad_rate = args.bad_rate
    if args.history is not None:
        if args.history < 0:
            print("gridwatch up: --history must not be negative", file=sys.stderr)
            return 2
        settings.stack.history_h = args.history
    return run_up(settings, args.config, duration_s=args.duration, as_json=args.json)


def _mqtt_config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .mqtt_security import (
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
