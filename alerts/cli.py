"""`gridwatch alerts ...`: run the dispatcher and the API, and work orders from a shell.

Why a CLI beside the API: the control room's first line of support works on
the server itself; the CLI acts directly on the store as a local
administrator (the audit trail records ``--as NAME``, default the login
name), so it works even when the API is down. Every command that prints has
``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings, load_settings
from ..vocabulary.labels import write_labels
from .access import ROLES, AccessDenied, Actor, create_token
from .api import run_api
from .dispatcher import open_store, run_dispatcher
from .field_labels import field_labels, findings_csv
from .links import UI_PREFIX
from .model import CLOSE_FINDINGS, STATUSES, WORK_STATES, Alert
from .openapi import openapi_spec
from .policy import PolicyError, Route, load_policy
from .silences import SilenceError, new_silence
from .sink import Received, WebhookSink
from .store import AlertQuery
from .workorders import WorkOrderConflict, WorkOrderNotFound, WorkOrders

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``15m``, ``2h``, ``1d`` -> seconds.

    >>> parse_duration("2h"), parse_duration("90")
    (7200.0, 90.0)
    """
    unit = text[-1:].lower()
    number = text[:-1] if unit in DURATION_UNITS else text
    try:
        value = float(number) * DURATION_UNITS.get(unit, 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90, 15m, 2h)") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return value


def _when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch, UTC).strftime("%m-%d %H:%M")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=1, ensure_ascii=False))


def _cli_actor(args: argparse.Namespace) -> Actor:
    return Actor(args.actor or getpass.getuser(), "admin")


def _alert_table(alerts: list[Alert]) -> None:
    header = f"{'ID':26} {'KIND':22} {'SEV':8} {'ENTITY':16} {'STATUS':8} {'WORK':12} " \
             f"{'TEAM':10} {'SINCE':11}"
    print(header)
    for a in alerts:
        print(f"{a.id:26} {a.kind[:22]:22} {a.severity:8} {a.entity[:16]:16} {a.status:8} "
              f"{a.work_state:12} {a.team[:10]:10} {_when(a.started_at):11}")
    print(f"{len(alerts)} alert(s)")


async def _until_signal(stop: asyncio.Event, duration: float | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration:
        loop.call_later(duration, stop.set)


def _run_services(settings: Settings, args: argparse.Namespace, dispatch: bool,
                  api: bool) -> int:
    """Run the dispatcher and/or the API until a signal or ``--duration``."""
    load_policy(settings)
    stats: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        await _until_signal(stop, args.duration)
        tasks = []
        if dispatch:
            tasks.append(run_dispatcher(settings, stop, stats))
        if api:
            tasks.append(run_api(settings, stop, lambda url: print(
                f"API on {url}, work-order page on {url}{UI_PREFIX}/", file=sys.stderr)))
        await asyncio.gather(*tasks)

    asyncio.run(main())
    if dispatch:
        if args.json:
            _print_json(stats)
        else:
            print(", ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    return _run_services(load_settings(args.config), args, dispatch=True, api=args.with_api)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.host:
        settings.alerts.api.host = args.host
    if args.port is not None:
        settings.alerts.api.port = args.port
    return _run_services(settings, args, dispatch=args.dispatch, api=True)


def cmd_list(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    query = AlertQuery(status=args.status or "", work_state=args.work_state or "",
                       kind=args.kind or "", severity=args.severity or "", area=args.area or "",
                       feeder=args.feeder or "", team=args.team or "",
                       assignee=args.assignee or "", limit=args.limit)
    alerts = WorkOrders(store).list(_cli_actor(args), query)
    if args.json:
        _print_json([a.to_dict() for a in alerts])
    else:
        _alert_table(alerts)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    orders = WorkOrders(store)
    alert = orders.get(_cli_actor(args), args.id)
    trail = orders.audit(_cli_actor(args), args.id)
    if args.json:
        _print_json({"alert": alert.to_dict(), "audit": [asdict(e) for e in trail]})
        return 0
    for key, value in alert.to_dict().items():
        if value not in ("", None, {}):
            print(f"{key:28} {value}")
    print("audit:")
    for entry in trail:
        print(f"  {_when(entry.at)} {entry.actor:12} {entry.action:12} "
              f"{json.dumps(entry.details, ensure_ascii=False)}")
    return 0


def cmd_work(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    orders, actor = WorkOrders(store), _cli_actor(args)
    action = args.action
    if action == "ack":
        alert = orders.acknowledge(actor, args.id, args.note)
    elif action == "assign":
        alert = orders.assign(actor, args.id, args.assignee, args.team or "")
    elif action == "start":
        alert = orders.start(actor, args.id)
    elif action == "comment":
        alert = orders.comment(actor, args.id, args.text)
    elif action == "close":
        alert = orders.close(actor, args.id, args.finding, args.note)
    else:
        alert = orders.reopen(actor, args.id, args.reason)
    if args.json:
        _print_json(alert.to_dict())
    else:
        print(f"{alert.id}: {alert.work_state}"
              + (f" ({alert.finding})" if alert.finding else "")
              + (f", assigned to {alert.assignee}" if alert.assignee else ""))
    return 0


def cmd_silence(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    now = time.time()
    if args.silence_action == "add":
        silence = new_silence(args.matcher, now, now + args.duration,
                              args.actor or getpass.getuser(), args.comment, now)
        store.add_silence(silence)
        result: Any = asdict(silence)
    elif args.silence_action == "expire":
        if not store.expire_silence(args.id, now):
            print(f"gridwatch alerts: no active silence {args.id!r}", file=sys.stderr)
            return 1
        result = asdict(store.get_silence(args.id))  # type: ignore[arg-type]
    else:
        result = [asdict(s) for s in store.list_silences(include_expired=args.all, now=now)]
    if args.json:
        _print_json(result)
    else:
        for s in result if isinstance(result, list) else [result]:
            print(f"{s['id']}  {_when(s['starts_at'])} -> {_when(s['ends_at'])}  "
                  f"{' '.join(s['matchers'])}  by {s['author']}: {s['comment']}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    closed = store.closed_alerts(args.since)
    export = field_labels(closed)
    write_labels(export.labels, args.out)
    if args.csv:
        Path(args.csv).write_text(findings_csv(closed))
    summary = {"closed": len(closed), "labels": len(export.labels),
               "negatives": export.negatives, "unknown_kinds": export.unknown_kinds,
               "out": args.out}
    if args.json:
        _print_json(summary)
    else:
        print(f"{len(export.labels)} label(s) from {len(closed)} closed work order(s) -> "
              f"{args.out}; {export.negatives} false alarm/not confirmed left out")
        for kind, count in export.unknown_kinds.items():
            print(f"warning: {count} closed {kind!r} order(s) skipped: kind unknown to "
                  "gridwatch.vocabulary.labels", file=sys.stderr)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    if args.token_action == "add":
        secret = create_token(store, args.name, args.role, args.team or "")
        print(secret)
        print(f"token {args.name!r} ({args.role}) created; shown only this once",
              file=sys.stderr)
        return 0
    tokens = [{"name": t.name, "role": t.role, "team": t.team} for t in store.list_tokens()]
    if args.json:
        _print_json(tokens)
    else:
        for t in tokens:
            print(f"{t['name']:20} {t['role']:10} {t['team']}")
    return 0


def _route_lines(route: Route, depth: int = 0) -> list[str]:
    matchers = " ".join(str(m) for m in route.matchers) or "(all)"
    line = (f"{'  ' * depth}{matchers} -> {route.receiver}"
            + (f" team={route.team}" if route.team else "")
            + f" group_by={','.join(route.group_by)} wait={route.group_wait_s:g}s "
              f"interval={route.group_interval_s:g}s repeat={route.repeat_interval_s:g}s"
            + (" continue" if route.continue_matching else ""))
    return [line] + [sub for child in route.routes for sub in _route_lines(child, depth + 1)]


def cmd_check_policy(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    if args.file:
        settings.alerts.policy_file = args.file
    try:
        policy = load_policy(settings)
    except PolicyError as exc:
        print(f"gridwatch alerts: invalid policy: {exc}", file=sys.stderr)
        return 2
    print("receivers: " + ", ".join(
        f"{r.name} ({', '.join(i.type for i in r.integrations) or 'nothing'})"
        for r in policy.receivers.values()))
    print("teams: " + (", ".join(policy.teams) or "-"))
    print("routes:")
    print("\n".join("  " + line for line in _route_lines(policy.route)))
    print(f"inhibit rules: {len(policy.inhibit_rules)}, maintenance windows: "
          f"{len(policy.windows)}")
    return 0


def cmd_deadletters(args: argparse.Namespace) -> int:
    store = open_store(load_settings(args.config))
    letters = store.delivery_deadletters(args.limit)
    if args.json:
        _print_json([asdict(d) for d in letters])
    else:
        for d in letters:
            print(f"{_when(d.at)} {d.integration:28} attempts={d.attempts} {d.error}")
    return 0


def cmd_sink(args: argparse.Namespace) -> int:
    def show(item: Received) -> None:
        verdict = {None: "unsigned", True: "signature ok", False: "BAD signature"}
        print(json.dumps({"signature": verdict[item.signature_ok], **item.body},
                         ensure_ascii=False), flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        await _until_signal(stop, args.duration)
        sink = WebhookSink(secret=args.secret, on_receive=show)
        url = await sink.start(args.host, args.port)
        print(f"listening on {url}", file=sys.stderr)
        await stop.wait()
        await sink.stop()

    asyncio.run(main())
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    _print_json(openapi_spec())
    return 0


def _guard(func: Any) -> Any:
    """Turn expected refusals into one readable line and exit status 1."""
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (WorkOrderNotFound, WorkOrderConflict, AccessDenied, SilenceError, PolicyError,
                ValueError) as exc:
            print(f"gridwatch alerts: {exc}", file=sys.stderr)
            return 1
    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("alerts", help="alert dispatcher, work orders, silences")
    parser.add_argument("--as", dest="actor", default="",
                        help="name recorded in the audit trail (default: login name)")
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)

    def add(name: str, func: Any, help_: str, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=_guard(func))
        return p

    p = add("dispatch", cmd_dispatch, "consume the alerts topic and notify")
    p.add_argument("--duration", type=parse_duration, help="stop after this long (e.g. 60s)")
    p.add_argument("--with-api", action="store_true", help="also serve the work-order API")
    p = add("serve", cmd_serve, "serve the work-order HTTP API (and, with --dispatch, notify)")
    p.add_argument("--host", default="")
    p.add_argument("--port", type=int)
    p.add_argument("--dispatch", action="store_true", help="also run the dispatcher")
    p.add_argument("--duration", type=parse_duration, help="stop after this long")
    p = add("list", cmd_list, "list and filter alerts (newest first)")
    p.add_argument("--status", choices=STATUSES)
    p.add_argument("--work-state", choices=WORK_STATES)
    p.add_argument("--severity", choices=("info", "warning", "critical"))
    for name in ("kind", "area", "feeder", "team", "assignee"):
        p.add_argument(f"--{name}")
    p.add_argument("--limit", type=int, default=50)
    p = add("show", cmd_show, "one alert with its audit trail")
    p.add_argument("id")
    for action, help_ in (("ack", "acknowledge"), ("assign", "assign to a person"),
                          ("start", "mark work in progress"), ("comment", "add a comment"),
                          ("close", "close with a finding"), ("reopen", "reopen a closed order")):
        p = add(action, cmd_work, help_)
        p.set_defaults(action=action)
        p.add_argument("id")
        if action == "ack":
            p.add_argument("--note", default="")
        elif action == "assign":
            p.add_argument("assignee")
            p.add_argument("--team", help="move to another team as well")
        elif action == "comment":
            p.add_argument("text")
        elif action == "close":
            p.add_argument("finding", choices=CLOSE_FINDINGS)
            p.add_argument("--note", default="")
        elif action == "reopen":
            p.add_argument("reason")
    p = add("silence", cmd_silence, "add, list or expire silences", json_flag=False)
    silence = p.add_subparsers(dest="silence_action", required=True, metavar="WHAT")
    s = silence.add_parser("add", help="silence alerts matching every -m MATCHER")
    s.add_argument("-m", "--matcher", action="append", required=True,
                   help='e.g. -m feeder=F02 -m kind=~"theft_.*"')
    s.add_argument("--duration", type=parse_duration, required=True)
    s.add_argument("--comment", required=True)
    s = silence.add_parser("list", help="active and future silences")
    s.add_argument("--all", action="store_true", help="include expired ones")
    s = silence.add_parser("expire", help="end a silence now")
    s.add_argument("id")
    p = add("export-labels", cmd_export, "closed findings as labels for gridwatch evaluate")
    p.add_argument("out", help="labels JSON (gridwatch.vocabulary.labels format)")
    p.add_argument("--csv", help="also write every closed work order as CSV")
    p.add_argument("--since", type=float, default=0.0, help="closed at or after (epoch s)")
    p = add("token", cmd_token, "API tokens (the secret is printed once)", json_flag=False)
    token = p.add_subparsers(dest="token_action", required=True, metavar="WHAT")
    t = token.add_parser("add")
    t.add_argument("name")
    t.add_argument("--role", choices=ROLES, required=True)
    t.add_argument("--team", help="required for inspectors")
    token.add_parser("list")
    for nested in (*silence.choices.values(), *token.choices.values()):
        nested.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("check-policy", cmd_check_policy, "validate the alert policy and print its routes",
            json_flag=False)
    p.add_argument("file", nargs="?", help="policy YAML (default: alerts.policy_file)")
    p = add("deadletters", cmd_deadletters, "deliveries whose retry window failed (replayed later)")
    p.add_argument("--limit", type=int, default=50)
    p = add("sink", cmd_sink, "a local webhook receiver that prints and verifies deliveries",
            json_flag=False)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--secret", default="", help="HMAC key to verify signatures with")
    p.add_argument("--duration", type=parse_duration)
    add("openapi", cmd_openapi, "print the work-order API's OpenAPI document", json_flag=False)
