"""`gridwatch dashboards build | push`."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..config import load_settings

INFLUX_URL = "http://127.0.0.1:8086"
TOKEN_ENV = "GRAFANA_TOKEN"


def _build(args: argparse.Namespace) -> int:
    from .provisioning import build

    written = build(load_settings(args.config), Path(args.out), args.influx_url)
    if args.json:
        print(json.dumps({"written": [str(p) for p in written]}, indent=2))
    else:
        boards = [p for p in written if p.suffix == ".json"]
        print(f"wrote {len(boards)} dashboards and {len(written) - len(boards)} "
              f"provisioning files under {args.out}")
        for path in written:
            print(f"  {path}")
        print(f"provision: point Grafana's paths.provisioning at {Path(args.out) / 'provisioning'}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from grafana_client.client import GrafanaException

    from .push import push

    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not token:
        print(f"gridwatch dashboards push: give --token or set ${TOKEN_ENV} "
              "(a Grafana service-account token with the Editor role)")
        return 2
    try:
        result = push(load_settings(args.config), args.url, token, args.influx_url)
    except GrafanaException as exc:
        said = exc.response.get("message") if isinstance(exc.response, dict) else exc.response
        print(f"gridwatch dashboards push: Grafana at {args.url} answered "
              f"{exc.status_code}: {said or exc.message}")
        return 1
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"folder {result.folder}; datasources: "
              + ", ".join(f"{uid} {what}" for uid, what in result.datasources.items()))
        for uid, url in result.dashboards.items():
            print(f"  {uid}: {url}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dashboards", help="Grafana dashboards: build, push")
    commands = parser.add_subparsers(dest="dashboards_command", metavar="ACTION", required=True)
    build = commands.add_parser("build", help="write dashboard JSON and provisioning files")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory")
    push = commands.add_parser("push", help="install or update them through Grafana's HTTP API")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. http://grafana:3000")
    push.add_argument("--token", default="", help=f"service-account token (or ${TOKEN_ENV})")
    for command in (build, push):
        command.add_argument("--influx-url", default=INFLUX_URL,
                             help="InfluxDB 1.x URL for the InfluxQL datasource")
        command.add_argument("--json", action="store_true", help="machine-readable output")
    build.set_defaults(func=_build)
    push.set_defaults(func=_push)
