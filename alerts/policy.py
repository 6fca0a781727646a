"""The alert policy: receivers, teams, the routing tree, inhibition and maintenance windows.

Why a separate YAML file (``alerts.policy_file``): routing changes with the
organisation (a new inspection team, a feeder moved to another district)
far more often than the service's technical settings, and is owned by other
people. Without a file, the policy is built from the main settings: every
alert to the ``default`` receiver (``alerts.webhooks`` + MQTT).

The format is shown, with every feature, in ``alerts/policy.example.yaml``
(`gridwatch alerts check-policy FILE` validates a file and prints its routes).

Every mistake is reported with its path in the file (``route.routes[1].team:
unknown team 'nrth'``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..config import Settings
from ..vocabulary.kinds import FEEDER, KINDS, kind_of, muted_by
from .matchers import LABELS, Matcher, MatcherError, parse_matchers

DEFAULT_RECEIVER = "default"
INTEGRATION_TYPES = ("webhooks", "emails", "chats", "mqtt")
CHAT_STYLES = ("wecom", "dingtalk")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class PolicyError(ValueError):
    """The policy is invalid; the message gives the path of the offending entry and why."""


@dataclass
class Integration:
    """One delivery channel of a receiver (one webhook URL, one mailing, one topic...)."""

    name: str
    type: str
    url: str = ""
    secret: str = ""
    timeout_s: float = 5.0
    to: list[str] = field(default_factory=list)
    topic: str = ""
    style: str = ""


@dataclass
class Receiver:
    name: str
    integrations: list[Integration]


@dataclass
class Escalation:
    """Notify `receiver` when an alert of these severities stays unacknowledged `after_s`."""

    after_s: float
    receiver: str
    severities: list[str] = field(default_factory=lambda: ["critical"])


@dataclass
class Team:
    name: str
    receiver: str
    escalation: Escalation | None = None


@dataclass
class Route:
    """A node of the routing tree; unset fields are inherited from the parent."""

    path: str
    matchers: list[Matcher]
    receiver: str
    team: str
    group_by: list[str]
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float
    continue_matching: bool = False
    routes: list[Route] = field(default_factory=list)


@dataclass
class InhibitRule:
    """While a `source` alert fires, `target` alerts agreeing on `equal` labels are muted."""

    source: list[Matcher]
    target: list[Matcher]
    equal: list[str]


@dataclass
class MaintenanceWindow:
    """A recurring silence: on `weekdays`, from `start` local time, for `duration_s`."""

    name: str
    matchers: list[Matcher]
    weekdays: list[int]
    start_minute: int
    duration_s: float
    timezone: ZoneInfo
    author: str
    comment: str


@dataclass
class AlertPolicy:
    receivers: dict[str, Receiver]
    teams: dict[str, Team]
    route: Route
    inhibit_rules: list[InhibitRule]
    windows: list[MaintenanceWindow]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _keys(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(allowed)})")


def _str(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise PolicyError(f"{where}.{key}: expected a non-empty string, got {value!r}")
    return value


def _seconds(data: dict[str, Any], key: str, where: str, default: float,
             positive: bool = True) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{where}.{key}: expected a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise PolicyError(f"{where}.{key}: must be {'positive' if positive else '>= 0'}, "
                          f"got {value!r}")
    return float(value)


def _matchers(value: Any, where: str) -> list[Matcher]:
    try:
        return parse_matchers(value, where)
    except MatcherError as exc:
        raise PolicyError(str(exc)) from exc


def _secret(data: dict[str, Any], where: str) -> str:
    if "secret_env" in data:
        name = _str(data, "secret_env", where)
        if name not in os.environ:
            raise PolicyError(f"{where}.secret_env: environment variable {name} is not set")
        return os.environ[name]
    return _str(data, "secret", where, default="")


def _integration(kind: str, data: Any, where: str, receiver: str, index: int) -> Integration:
    data = _mapping(data, where)
    name = f"{receiver}/{kind}[{index}]"
    if kind in ("webhooks", "chats"):
        allowed = ("url", "timeout_s", "secret", "secret_env") + (("style",) if kind == "chats"
                                                                 else ())
        _keys(data, allowed, where)
        url = _str(data, "url", where)
        if not url.startswith(("http://", "https://")):
            raise PolicyError(f"{where}.url: must be an http(s) URL, got {url!r}")
        style = ""
        if kind == "chats":
            style = _str(data, "style", where, default="wecom")
            if style not in CHAT_STYLES:
                raise PolicyError(f"{where}.style: must be one of {', '.join(CHAT_STYLES)}, "
                                  f"got {style!r}")
        return Integration(name, "webhook" if kind == "webhooks" else "chat", url=url,
                           secret=_secret(data, where), style=style,
                           timeout_s=_seconds(data, "timeout_s", where, 5.0))
    if kind == "emails":
        _keys(data, ("to",), where)
        to = _list(data.get("to"), f"{where}.to")
        if not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise PolicyError(f"{where}.to: expected a non-empty list of e-mail addresses, "
                              f"got {to!r}")
        return Integration(name, "email", to=to)
    _keys(data, ("topic",), where)
    topic = _str(data, "topic", where)
    if any(c in topic for c in "+#"):
        raise PolicyError(f"{where}.topic: wildcards are not allowed in a publish topic")
    return Integration(name, "mqtt", topic=topic)


def _receiver(data: Any, where: str) -> Receiver:
    data = _mapping(data, where)
    _keys(data, ("name",) + INTEGRATION_TYPES, where)
    name = _str(data, "name", where)
    integrations = [
        _integration(kind, item, f"{where}.{kind}[{i}]", name, i)
        for kind in INTEGRATION_TYPES
        for i, item in enumerate(_list(data.get(kind), f"{where}.{kind}"))
    ]
    if not integrations:
        raise PolicyError(f"{where}: receiver {name!r} has no webhooks, emails, chats or mqtt")
    return Receiver(name, integrations)


def _team(data: Any, where: str, receivers: dict[str, Receiver]) -> Team:
    data = _mapping(data, where)
    _keys(data, ("name", "receiver", "escalation"), where)
    name = _str(data, "name", where)
    receiver = _known(_str(data, "receiver", where), receivers, f"{where}.receiver", "receiver")
    escalation = None
    if data.get("escalation") is not None:
        esc_where = f"{where}.escalation"
        esc = _mapping(data["escalation"], esc_where)
        _keys(esc, ("after_s", "receiver", "severities"), esc_where)
        severities = _list(esc.get("severities", ["critical"]), f"{esc_where}.severities")
        bad = [s for s in severities if s not in ("info", "warning", "critical")]
        if bad or not severities:
            raise PolicyError(f"{esc_where}.severities: expected info, warning or critical, "
                              f"got {severities!r}")
        escalation = Escalation(
            after_s=_seconds(esc, "after_s", esc_where, 900.0),
            receiver=_known(_str(esc, "receiver", esc_where), receivers,
                            f"{esc_where}.receiver", "receiver"),
            severities=severities)
    return Team(name, receiver, escalation)


def _known(name: str, table: dict[str, Any], where: str, what: str) -> str:
    if name not in table:
        raise PolicyError(f"{where}: unknown {what} {name!r} (known: {', '.join(sorted(table))})")
    return name


ROUTE_KEYS = ("matchers", "receiver", "team", "group_by", "group_wait_s", "group_interval_s",
              "repeat_interval_s", "continue", "routes")


def _route(data: Any, where: str, parent: Route | None, receivers: dict[str, Receiver],
           teams: dict[str, Team]) -> Route:
    data = _mapping(data, where)
    _keys(data, ROUTE_KEYS, where)
    team = parent.team if parent else ""
    receiver = parent.receiver if parent else DEFAULT_RECEIVER
    if "team" in data:
        team = _known(_str(data, "team", where), teams, f"{where}.team", "team")
        receiver = teams[team].receiver
    if "receiver" in data:
        receiver = _known(_str(data, "receiver", where), receivers, f"{where}.receiver",
                          "receiver")
    group_by = parent.group_by if parent else []
    if "group_by" in data:
        group_by = _list(data["group_by"], f"{where}.group_by")
        bad = [g for g in group_by if g not in LABELS]
        if bad:
            raise PolicyError(f"{where}.group_by: unknown label {bad[0]!r} "
                              f"(known: {', '.join(LABELS)})")
    if not isinstance(data.get("continue", False), bool):
        raise PolicyError(f"{where}.continue: expected true or false")
    route = Route(
        path=where, matchers=_matchers(data.get("matchers"), where), receiver=receiver,
        team=team, group_by=list(group_by),
        group_wait_s=_seconds(data, "group_wait_s", where, parent.group_wait_s if parent else 0.0,
                              positive=False),
        group_interval_s=_seconds(data, "group_interval_s", where,
                                  parent.group_interval_s if parent else 60.0),
        repeat_interval_s=_seconds(data, "repeat_interval_s", where,
                                   parent.repeat_interval_s if parent else 14400.0),
        continue_matching=data.get("continue", False),
    )
    if parent is None and route.matchers:
        raise PolicyError(f"{where}.matchers: the root route matches every alert and takes none")
    route.routes = [_route(child, f"{where}.routes[{i}]", route, receivers, teams)
                    for i, child in enumerate(_list(data.get("routes"), f"{where}.routes"))]
    return route


def default_inhibit_rules() -> list[InhibitRule]:
    """Topology: a dark feeder or area explains every lesser alarm beneath it.

    What each outage mutes is the problem-kind registry's ``muted_by`` (dark
    meters look like low voltage, theft, lost power or phases, sags and
    collection faults); the alerts must share the outage's feeder or area.
    """
    sources = dict.fromkeys(source for kind in KINDS.values() for source in kind.muted_by)
    return [InhibitRule(_matchers([f'kind="{source}"'], "inhibit_rules"),
                        _matchers([f'kind=~"{"|".join(map(re.escape, muted_by(source)))}"'],
                                  "inhibit_rules"),
                        [kind_of(source).level])
            for source in sorted(sources, key=lambda k: kind_of(k).level != FEEDER)]


def _inhibit_rule(data: Any, where: str) -> InhibitRule:
    data = _mapping(data, where)
    _keys(data, ("source", "target", "equal"), where)
    source = _matchers(data.get("source"), f"{where}.source")
    target = _matchers(data.get("target"), f"{where}.target")
    if not source or not target:
        raise PolicyError(f"{where}: needs both 'source' and 'target' matchers")
    equal = _list(data.get("equal"), f"{where}.equal")
    bad = [e for e in equal if e not in LABELS]
    if bad:
        raise PolicyError(f"{where}.equal: unknown label {bad[0]!r}")
    return InhibitRule(source, target, equal)


def _window(data: Any, where: str) -> MaintenanceWindow:
    data = _mapping(data, where)
    _keys(data, ("name", "matchers", "weekdays", "start", "duration_s", "timezone", "author",
                 "comment"), where)
    matchers = _matchers(data.get("matchers"), where)
    if not matchers:
        raise PolicyError(f"{where}.matchers: a window must say what it silences")
    days = _list(data.get("weekdays", list(WEEKDAYS)), f"{where}.weekdays")
    bad = [d for d in days if d not in WEEKDAYS]
    if bad or not days:
        raise PolicyError(f"{where}.weekdays: expected names among {', '.join(WEEKDAYS)}, "
                          f"got {days!r}")
    start = _str(data, "start", where)
    try:
        hours, minutes = (int(p) for p in start.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError
    except ValueError as exc:
        raise PolicyError(f"{where}.start: expected HH:MM, got {start!r}") from exc
    zone_name = _str(data, "timezone", where, default="UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"{where}.timezone: unknown time zone {zone_name!r}") from exc
    duration = _seconds(data, "duration_s", where, 3600.0)
    if duration > 7 * 86400:
        raise PolicyError(f"{where}.duration_s: a weekly window cannot last over a week")
    return MaintenanceWindow(
        name=_str(data, "name", where), matchers=matchers,
        weekdays=sorted({WEEKDAYS.index(d) for d in days}), start_minute=hours * 60 + minutes,
        duration_s=duration, timezone=zone, author=_str(data, "author", where),
        comment=_str(data, "comment", where, default=""))


def default_receiver(settings: Settings) -> Receiver:
    """The receiver built from ``alerts.webhooks`` and ``mqtt.alerts_topic``."""
    integrations = [
        Integration(f"{DEFAULT_RECEIVER}/webhooks[{i}]", "webhook", url=hook.url,
                    secret=hook.secret, timeout_s=hook.timeout_s)
        for i, hook in enumerate(settings.alerts.webhooks)
    ]
    if settings.alerts.mqtt_enabled:
        integrations.append(Integration(f"{DEFAULT_RECEIVER}/mqtt[0]", "mqtt",
                                        topic=settings.mqtt.alerts_topic))
    return Receiver(DEFAULT_RECEIVER, integrations)


def parse_policy(data: Any, settings: Settings, source: str = "<policy>") -> AlertPolicy:
    """Validate a policy mapping; defaults of the root route come from `settings.alerts`."""
    data = {} if data is None else _mapping(data, source)
    _keys(data, ("receivers", "teams", "route", "inhibit_rules", "maintenance_windows"), source)
    receivers = {DEFAULT_RECEIVER: default_receiver(settings)}
    for i, item in enumerate(_list(data.get("receivers"), "receivers")):
        receiver = _receiver(item, f"receivers[{i}]")
        if receiver.name in receivers and receiver.name != DEFAULT_RECEIVER:
            raise PolicyError(f"receivers[{i}].name: duplicate receiver {receiver.name!r}")
        receivers[receiver.name] = receiver
    teams: dict[str, Team] = {}
    for i, item in enumerate(_list(data.get("teams"), "teams")):
        team = _team(item, f"teams[{i}]", receivers)
        if team.name in teams:
            raise PolicyError(f"teams[{i}].name: duplicate team {team.name!r}")
        teams[team.name] = team
    alerts = settings.alerts
    root_data = {"group_by": alerts.group_by, "group_wait_s": alerts.group_wait_s,
                 "group_interval_s": alerts.group_interval_s,
                 "repeat_interval_s": alerts.repeat_interval_s}
    root_data.update(_mapping(data.get("route", {}), "route"))
    route = _route(root_data, "route", None, receivers, teams)
    rules = (default_inhibit_rules() if "inhibit_rules" not in data else
             [_inhibit_rule(r, f"inhibit_rules[{i}]")
              for i, r in enumerate(_list(data["inhibit_rules"], "inhibit_rules"))])
    windows = [_window(w, f"maintenance_windows[{i}]")
               for i, w in enumerate(_list(data.get("maintenance_windows"),
                                           "maintenance_windows"))]
    return AlertPolicy(receivers, teams, route, rules, windows)


def load_policy(settings: Settings) -> AlertPolicy:
    """The policy of `settings.alerts.policy_file`, or the default one without a file."""
    path = settings.alerts.policy_file
    if not path:
        return parse_policy(None, settings)
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return parse_policy(data, settings, path)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
