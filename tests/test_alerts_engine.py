"""Routing, grouping, muting and escalation decisions, stepped with an explicit clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridwatch.alerts import policy as policy_module
from gridwatch.alerts.access import Actor
from gridwatch.alerts.engine import AlertEngine, Pending
from gridwatch.alerts.flapping import FlapDetector
from gridwatch.alerts.model import Alert, alert_from_finding
from gridwatch.alerts.policy import PolicyError, load_policy, parse_policy
from gridwatch.alerts.routing import match_routes, owning_team
from gridwatch.alerts.silences import new_silence, window_active
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.config import Settings, WebhookReceiver

T0 = 1_767_571_200.0


def settings(**alerts: Any) -> Settings:
    s = Settings()
    s.alerts.webhooks = [WebhookReceiver(url="http://127.0.0.1:9/hook")]
    s.alerts.mqtt_enabled = False
    s.alerts.group_by = ["area", "kind"]
    s.alerts.group_wait_s, s.alerts.group_interval_s, s.alerts.repeat_interval_s = 1, 10, 100
    for key, value in alerts.items():
        setattr(s.alerts, key, value)
    return s


def alert(kind: str = "low_voltage_zone", entity: str = "F01-A01", started: float = T0,
          status: str = "firing", at: float | None = None, **extra: Any) -> Alert:
    area = extra.pop("area", "-".join(entity.split("-")[:2]))
    return alert_from_finding({"kind": kind, "entity": entity,
                               "entity_type": extra.pop("entity_type", "area"), "area": area,
                               "feeder": entity.split("-")[0], "started_at": started,
                               "at": started if at is None else at, "status": status,
                               **extra}, received_at=0.0)


class Harness:
    """An engine over an in-memory store whose deliveries always succeed."""

    def __init__(self, policy: dict[str, Any] | None = None, **alerts: Any) -> None:
        self.settings = settings(**alerts)
        self.policy = parse_policy(policy, self.settings)
        self.store = SqliteAlertStore(":memory:")
        self.engine = self._engine()
        self.sent: list[Pending] = []

    def _engine(self) -> AlertEngine:
        return AlertEngine(self.policy, self.store, FlapDetector(
            self.settings.alerts.flap_window_s, self.settings.alerts.flap_max_transitions))

    def restart(self, now: float) -> None:
        self.engine = self._engine()
        self.engine.restore(now)

    def feed(self, now: float, *alerts: Alert) -> None:
        for a in alerts:
            a.team = owning_team(self.policy.route, a.labels())
            a.received_at = now
        self.engine.ingest(self.store.upsert_alerts(list(alerts)), now)

    def step(self, now: float) -> list[tuple[str, list[str], list[str]]]:
        """Flush at `now`; deliver everything at once; return (integration, firing, resolved)."""
        out = []
        for pending in self.engine.due(now):
            self.engine.delivered(pending, True, now)
            self.sent.append(pending)
            note = pending.notification
            out.append((note.integration, [a.entity for a in note.firing],
                        [a.entity for a in note.resolved]))
        self.engine.save_records()
        return out


def test_identical_alerts_make_one_group_notified_once_per_interval_then_repeated() -> None:
    h = Harness()
    h.feed(0.0, *[alert() for _ in range(50)], alert(entity="F01-A02"))
    assert h.step(0.5) == []
    assert sorted(h.step(1.0)) == [("default/webhooks[0]", ["F01-A01"], []),
                                   ("default/webhooks[0]", ["F01-A02"], [])]
    h.feed(2.0, *[alert() for _ in range(50)])
    assert h.step(5.0) == [] and h.step(11.0) == [] and h.step(21.0) == []
    assert len(h.step(101.0)) == 2
    h.feed(102.0, alert(started=T0 + 900, entity="F01-A01"))
    assert h.step(110.0) == []
    assert h.step(111.0) == [("default/webhooks[0]", ["F01-A01", "F01-A01"], [])]


def test_resolved_is_announced_to_those_told_it_fired_and_the_group_ends() -> None:
    h = Harness()
    h.feed(0.0, alert(), alert(entity="F01-A02"))
    h.step(1.0)
    h.feed(3.0, alert(status="resolved", at=T0 + 600),
           alert(entity="F01-A02", status="resolved", at=T0 + 600))
    assert sorted(h.step(11.0)) == [("default/webhooks[0]", [], ["F01-A01"]),
                                    ("default/webhooks[0]", [], ["F01-A02"])]
    assert h.engine.groups == {} and h.store.get_notify_records() == []



def test_alert_that_fired_and_resolved_before_its_flush_is_still_announced() -> None:
    h = Harness()
    h.feed(12.0, alert(entity="F01-A03"))
    h.feed(12.5, alert(entity="F01-A03", status="resolved", at=T0 + 60))
    assert h.step(13.0) == [("default/webhooks[0]", [], ["F01-A03"])]
    told = h.sent[0].notification.resolved[0]
    assert (told.started_at, told.ended_at) == (T0, T0 + 60)
    assert h.engine.groups == {} and h.store.unsettled_ids([told.id]) == set()
    h.engine.ingest([h.store.get_alert(told.id)], 20.0)  # e.g. its work order changed later
    assert h.step(30.0) == []


def test_failed_delivery_is_replayed_with_backoff_including_what_resolved_meanwhile() -> None:
    h = Harness()
    h.engine.replay_s, h.engine.replay_max_s = 4.0, 10.0
    h.feed(0.0, alert(), alert("transformer_overload", "F01-A02"))
    for pending in h.engine.due(1.0):
        h.engine.delivered(pending, False, 1.0)  # the receiver is down through the window
    h.feed(2.0, alert("transformer_overload", "F01-A02", status="resolved", at=T0 + 900))
    assert h.step(4.9) == []
    assert sorted(h.step(5.0)) == [("default/webhooks[0]", [], ["F01-A02"]),
                                   ("default/webhooks[0]", ["F01-A01"], [])]
    h.restart(6.0)  # what was delivered is remembered
    assert h.step(100.0) == []
    assert h.store.unsettled_ids([a.id for p in h.sent for a in p.notification.resolved]) == set()


def test_owed_news_survives_a_restart_while_the_receiver_is_down() -> None:
    h = Harness()
    h.feed(0.0, alert("outage_area", "F01-A04"))
    h.feed(0.5, alert("outage_area", "F01-A04", status="resolved", at=T0 + 900))
    for pending in h.engine.due(1.0):
        h.engine.delivered(pending, False, 1.0)
    h.restart(2.0)
    assert h.step(3.0) == [("default/webhooks[0]", [], ["F01-A04"])]


def test_feeder_outage_inhibits_areas_beneath_it_until_it_clears() -> None:
    h = Harness()
    h.feed(0.0, alert("outage_feeder", "F01", area="", entity_type="feeder"),
           alert("outage_area", "F01-A01"), alert("low_voltage_zone", "F01-A02"),
           alert("theft_bypass", "F01-A02-M007", entity_type="meter"),
           alert("low_voltage_zone", "F02-A01"), alert("transformer_overload", "F01-A03"))
    first = sorted(e for _, firing, _ in h.step(1.0) for e in firing)
    assert first == ["F01", "F01-A03", "F02-A01"]
    h.feed(5.0, alert("outage_feeder", "F01", area="", entity_type="feeder",
                      status="resolved", at=T0 + 1800))
    resumed = sorted((f, r) for _, f, r in h.step(11.0))
    assert resumed == [([], ["F01"]), (["F01-A01"], []), (["F01-A02"], []),
                       (["F01-A02-M007"], [])]


def test_silence_mutes_matching_alerts_only_while_active() -> None:
    h = Harness()
    h.store.add_silence(new_silence(['feeder="F01"', 'kind=~"low_voltage_.*"'], 0.0, 30.0,
                                    "wang", "switching", now=0.0))
    h.feed(0.0, alert(entity="F01-A01"), alert("theft_bypass", "F01-A01-M1",
                                                 entity_type="meter"))
    assert [f for _, f, _ in h.step(1.0)] == [["F01-A01-M1"]]
    assert h.step(11.0) == [] and h.step(21.0) == []
    assert [f for _, f, _ in h.step(31.0)] == [["F01-A01"]]


def test_maintenance_window_recurs_weekly_in_local_time_across_midnight() -> None:
    policy = parse_policy({"maintenance_windows": [{
        "name": "sat-night", "matchers": ['feeder="F02"'], "weekdays": ["sat"],
        "start": "23:00", "duration_s": 7200, "timezone": "Asia/Shanghai",
        "author": "dispatch"}]}, settings())
    window = policy.windows[0]
    shanghai = ZoneInfo("Asia/Shanghai")

    def at(*args: int) -> float:
        return datetime(*args, tzinfo=shanghai).timestamp()

    assert window_active(window, at(2026, 1, 10, 23, 30))      # Saturday
    assert window_active(window, at(2026, 1, 11, 0, 59))       # Sunday, still inside
    assert not window_active(window, at(2026, 1, 11, 1, 0))
    assert not window_active(window, at(2026, 1, 9, 23, 30))   # Friday
    assert window_active(window, at(2026, 1, 17, 23, 0))       # next Saturday


def test_flapping_entity_is_muted_until_it_settles() -> None:
    h = Harness(flap_window_s=3600.0, flap_max_transitions=4)
    h.feed(0.0, alert(started=T0), alert(started=T0, status="resolved", at=T0 + 300))
    h.feed(0.1, alert(started=T0 + 600), alert(started=T0 + 600, status="resolved",
                                                at=T0 + 900))
    h.feed(0.2, alert(started=T0 + 1200))
    assert h.step(1.0) == []
    h.restart(now=1.5)
    assert h.step(3.0) == []
    h.feed(4.0, alert("theft_bypass", "F01-A09-M1", started=T0 + 5000, entity_type="meter"))
    notified = [f for _, f, _ in h.step(13.0)]
    assert sorted(notified) == [["F01-A01"], ["F01-A09-M1"]]


def test_routing_tree_picks_team_and_continue_sends_copies() -> None:
    policy = {
        "receivers": [{"name": "north", "webhooks": [{"url": "http://n/h"}]},
                      {"name": "audit", "mqtt": [{"topic": "gw/audit"}]},
                      {"name": "boss", "emails": [{"to": ["boss@example.com"]}]}],
        "teams": [{"name": "north", "receiver": "north",
                   "escalation": {"after_s": 60, "receiver": "boss"}}],
        "route": {"routes": [
            {"matchers": ['kind=~"theft_.*"'], "receiver": "audit", "continue": True},
            {"matchers": ['feeder=~"F0[12]"'], "team": "north",
             "routes": [{"matchers": ["severity=critical"], "group_by": ["feeder"]}]},
        ]}}
    h = Harness(policy)
    theft = alert("theft_bypass", "F01-A01-M1", entity_type="meter", severity="critical")
    h.feed(0.0, theft, alert(entity="F03-A01"))
    assert theft.team == "north"
    sent = sorted((i, f) for i, f, _ in h.step(1.0))
    assert sent == [("audit/mqtt[0]", ["F01-A01-M1"]), ("default/webhooks[0]", ["F03-A01"]),
                    ("north/webhooks[0]", ["F01-A01-M1"])]
    assert [p.notification.group_labels for p in h.sent
            if p.integration.name == "north/webhooks[0]"] == [{"feeder": "F01"}]


def test_escalation_once_for_unacknowledged_critical_alerts_only() -> None:
    policy = {"receivers": [{"name": "field", "webhooks": [{"url": "http://f/h"}]},
                            {"name": "boss", "emails": [{"to": ["boss@example.com"]}]}],
              "teams": [{"name": "north", "receiver": "field",
                         "escalation": {"after_s": 60, "receiver": "boss"}}],
              "route": {"team": "north"}}
    h = Harness(policy)
    h.feed(0.0, alert("outage_area", "F01-A01", severity="critical"),
           alert("outage_area", "F01-A02", severity="critical"),
           alert("low_voltage_zone", "F01-A03", severity="warning"))
    a02 = next(a for a in h.engine.active.values() if a.entity == "F01-A02")
    WorkOrders(h.store).acknowledge(Actor("li", "inspector", "north"), a02.id)
    assert h.engine.escalations_due(59.0) == []
    due = h.engine.escalations_due(61.0)
    assert [(aid, [p.integration.name for p in ps]) for aid, ps in due] == [
        (next(a.id for a in h.engine.active.values() if a.entity == "F01-A01"),
         ["boss/emails[0]"])]
    assert h.engine.escalations_due(62.0) == []
    h.engine.escalated(due[0][0], 62.0)
    h.restart(now=100.0)
    assert h.engine.escalations_due(120.0) == []


def test_closed_work_order_is_not_repeated_but_its_resolution_is_announced() -> None:
    h = Harness()
    h.feed(0.0, alert(entity="F01-A01"))
    (first,) = h.step(1.0)
    aid = h.sent[0].notification.firing[0].id
    WorkOrders(h.store).close(Actor("li", "inspector", ""), aid, "false_alarm")
    assert h.step(101.0) == []
    h.feed(102.0, alert(entity="F01-A01", status="resolved", at=T0 + 60))
    (resolved,) = h.step(111.0)
    assert resolved == ("default/webhooks[0]", [], ["F01-A01"])
    assert h.sent[-1].notification.resolved[0].finding == "false_alarm"


def test_restart_restores_what_each_integration_was_told() -> None:
    h = Harness()
    h.feed(0.0, alert(entity="F01-A01"))
    assert len(h.step(1.0)) == 1
    h.restart(now=5.0)
    assert h.step(6.0) == [] and h.step(12.0) == []
    h.feed(13.0, alert(entity="F01-A01", status="resolved", at=T0 + 60))
    assert h.step(22.0) == [("default/webhooks[0]", [], ["F01-A01"])]


@pytest.mark.parametrize("policy, message", [
    ({"route": {"routes": [{"team": "nrth"}]}}, "route.routes[0].team: unknown team 'nrth'"),
    ({"route": {"routes": [{"matchers": ['area=~"F0("']}]}},
     "route.routes[0].matchers[0]: matcher 'area=~\"F0(\"': invalid regular expression"),
    ({"route": {"matchers": ["kind=theft"]}}, "the root route matches every alert"),
    ({"route": {"group_wait": 3}}, "route: unknown key 'group_wait'"),
    ({"route": {"group_by": ["zone"]}}, "route.group_by: unknown label 'zone'"),
    ({"receivers": [{"name": "x"}]}, "receiver 'x' has no webhooks, emails, chats or mqtt"),
    ({"receivers": [{"name": "x", "chats": [{"url": "http://c", "style": "slack"}]}]},
     "receivers[0].chats[0].style: must be one of wecom, dingtalk"),
    ({"receivers": [{"name": "x", "webhooks": [{"url": "http://c",
                                                "secret_env": "GW_NOT_SET_ANYWHERE"}]}]},
     "environment variable GW_NOT_SET_ANYWHERE is not set"),
    ({"teams": [{"name": "t", "receiver": "default",
                 "escalation": {"after_s": 10, "receiver": "nobody"}}]},
     "teams[0].escalation.receiver: unknown receiver 'nobody'"),
    ({"maintenance_windows": [{"name": "w", "matchers": ["feeder=F1"], "start": "25:00",
                               "author": "a"}]},
     "maintenance_windows[0].start: expected HH:MM, got '25:00'"),
    ({"inhibit_rules": [{"source": ["kind=outage_area"]}]},
     "inhibit_rules[0]: needs both 'source' and 'target' matchers"),
])
def test_invalid_policy_is_rejected_with_its_path_and_reason(policy: dict[str, Any],
                                                             message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(policy, settings())
    assert message in str(info.value)


def test_the_example_policy_is_valid_and_routes_as_it_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORTH_HOOK_SECRET", "n")
    monkeypatch.setenv("SOUTH_ROBOT_SECRET", "s")
    s = settings()
    s.alerts.policy_file = str(Path(policy_module.__file__).with_name("policy.example.yaml"))
    policy = load_policy(s)
    outage = alert("outage_area", "F02-A01", severity="critical").labels()
    theft = alert("theft_bypass", "F03-A01-M1", entity_type="meter").labels()
    assert [r.receiver for r in match_routes(policy.route, outage)] == ["duty-manager",
                                                                        "north-field"]
    assert owning_team(policy.route, outage) == "north"
    (theft_route,) = match_routes(policy.route, theft)
    assert (theft_route.team, theft_route.group_by) == ("north", ["area"])
    assert owning_team(policy.route, alert(entity="F07-A01").labels()) == "south"
    assert policy.receivers["north-field"].integrations[0].secret == "n"
