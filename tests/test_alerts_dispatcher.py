"""The dispatcher over a real Kafka-protocol broker, real HTTP receivers and real Mosquitto."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiosmtpd.controller import Controller

from gridwatch.alerts.access import Actor
from gridwatch.alerts.dispatcher import run_dispatcher
from gridwatch.alerts.silences import new_silence
from gridwatch.alerts.sink import WebhookSink
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.store import AlertQuery
from gridwatch.alerts.workorders import WorkOrders
from gridwatch.config import Settings, WebhookReceiver, load_settings
from gridwatch.devstack.stack import free_port
from gridwatch.streams.topics import bootstrap_servers
from gridwatch.vocabulary.findings import Finding

pytestmark = pytest.mark.integration


def make_settings(tmp_path: Path, kafka_url: str, mqtt_url: str, hooks: list[str],
                  secret: str = "", policy: dict[str, Any] | None = None) -> Settings:
    settings = load_settings(None, environ={})
    run = uuid.uuid4().hex[:8]
    settings.kafka.url = kafka_url
    settings.kafka.alerts_topic = f"alerts-{run}"
    settings.kafka.deadletter_topic = f"dead-{run}"
    settings.kafka.session_timeout_s = 2.0
    settings.kafka.heartbeat_interval_s = 0.3
    settings.kafka.rebalance_timeout_s = 1.0
    settings.mqtt.url = mqtt_url
    settings.mqtt.alerts_topic = f"gw-test/{run}/alerts"
    settings.mqtt.client_id = f"gw-{run}"
    settings.alerts.group_id = f"dispatcher-{run}"
    settings.alerts.store_path = str(tmp_path / "alerts.sqlite")
    settings.alerts.webhooks = [WebhookReceiver(url=h, timeout_s=2.0, secret=secret)
                                for h in hooks]
    settings.alerts.group_wait_s = 0.2
    settings.alerts.group_interval_s = 0.5
    settings.alerts.retries = 2
    settings.alerts.retry_backoff_s = 0.05
    settings.alerts.tick_s = 0.02
    settings.alerts.lease_s = 1.0
    settings.alerts.mqtt_enabled = bool(mqtt_url)
    if policy is not None:
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy))
        settings.alerts.policy_file = str(path)
    return settings


def finding(kind: str = "low_voltage_zone", entity: str = "F01-A01", started: float = 1.767e9,
            at: float | None = None, status: str = "firing", **extra: Any) -> Finding:
    area = extra.pop("area", "-".join(entity.split("-")[:2]))
    return Finding(kind=kind, entity=entity, entity_type=extra.pop("entity_type", "area"),
                   area=area, feeder=extra.pop("feeder", area.split("-")[0]),
                   started_at=started, at=started if at is None else at, status=status,
                   detector="test", reason="test finding", **extra)


async def produce(settings: Settings, values: list[bytes | Finding]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(settings.kafka.url))
    await producer.start()
    try:
        for value in values:
            raw = json.dumps(value.to_dict()).encode() if isinstance(value, Finding) else value
            await producer.send_and_wait(settings.kafka.alerts_topic, raw, key=b"k")
    finally:
        await producer.stop()


class Running:
    """A dispatcher task with its stop event and stats."""

    def __init__(self, settings: Settings) -> None:
        self.stop = asyncio.Event()
        self.stats: dict[str, Any] = {}
        self.task = asyncio.create_task(run_dispatcher(settings, self.stop, self.stats))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)


async def wait_until(condition: Any, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


def test_alert_reaches_webhook_and_mqtt_and_bad_record_is_deadlettered(
        tmp_path: Path, kafka_url: str, mosquitto_url: str) -> None:
    async def scenario() -> None:
        sink = WebhookSink(secret="s3cret")
        url = await sink.start()
        settings = make_settings(tmp_path, kafka_url, mosquitto_url, [url], secret="s3cret")
        mqtt_messages: list[dict[str, Any]] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="gw-test-sub")
        client.on_message = lambda c, u, m: mqtt_messages.append(json.loads(m.payload))
        host, port = mosquitto_url.removeprefix("mqtt://").split(":")
        client.connect(host, int(port))
        client.subscribe(settings.mqtt.alerts_topic, qos=1)
        client.loop_start()
        running = Running(settings)
        try:
            await produce(settings, [finding(), b"{not json", finding(entity="")])
            received = await sink.wait_for(1, 20)
            assert len(received) == 1
            body = received[0].body
            assert received[0].signature_ok is True
            assert body["status"] == "firing"
            assert [a["entity"] for a in body["alerts"]] == ["F01-A01"]
            assert await wait_until(lambda: mqtt_messages, 10)
            assert mqtt_messages[0]["alerts"][0]["id"] == body["alerts"][0]["id"]
            assert await wait_until(lambda: running.stats["deadletters"] == 2, 10)
        finally:
            await running.close()
            client.loop_stop()
            client.disconnect()
            await sink.stop()
        assert running.stats["alerts_received"] == 1
        assert running.stats["alerts_delivered"] == 1
        assert running.stats["notifications_sent"] == 2
        assert running.stats["delivery_failures"] == 0

        consumer = AIOKafkaConsumer(settings.kafka.deadletter_topic,
                                    bootstrap_servers=bootstrap_servers(kafka_url),
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=5000)
            letters = [json.loads(r.value) for rs in batches.values() for r in rs]
        finally:
            await consumer.stop()
        reasons = sorted(letter["reason"] for letter in letters)
        assert len(reasons) == 2
        assert reasons[0].startswith("dispatcher: field 'entity' must not be empty")
        assert reasons[1].startswith("dispatcher: record is not valid JSON")
        raw = {letter["reason"].split(":")[1].strip(): base64.b64decode(letter["raw_b64"])
               for letter in letters}
        assert raw["record is not valid JSON"] == b"{not json"
        assert json.loads(raw["field 'entity' must not be empty"])["kind"] == "low_voltage_zone"

    asyncio.run(scenario())


def alerts_in(received: list[Any], status: str = "firing") -> list[list[str]]:
    """Entities of the alerts with `status` in each received notification, in order."""
    return [sorted(a["entity"] for a in r.body["alerts"] if a["status"] == status)
            for r in received]


def test_flood_of_identical_alerts_gives_one_notification_per_group_and_interval(
        tmp_path: Path, kafka_url: str) -> None:
    async def scenario() -> None:
        sink = WebhookSink()
        settings = make_settings(tmp_path, kafka_url, "", [await sink.start()])
        settings.alerts.group_by = ["area"]
        settings.alerts.group_wait_s = 0.5
        settings.alerts.group_interval_s = 1.5
        running = Running(settings)
        try:
            theft = [finding("theft_bypass", f"F01-A01-M{i:03d}", entity_type="meter")
                     for i in range(5)]
            await produce(settings, [finding()] * 40 + theft * 4)
            await asyncio.sleep(2.6)
            assert alerts_in(sink.received) == [
                ["F01-A01"] + [f"F01-A01-M{i:03d}" for i in range(5)]]
            await produce(settings, [finding("theft_bypass", "F01-A01-M099",
                                             entity_type="meter")] * 30)
            await asyncio.sleep(2.0)
        finally:
            await running.close()
            await sink.stop()
        assert len(sink.received) == 2
        assert "F01-A01-M099" in alerts_in(sink.received)[1]
        assert running.stats["alerts_received"] == 40 + 20 + 30

    asyncio.run(scenario())


def test_area_outage_inhibits_its_low_voltage_alert_until_it_ends(
        tmp_path: Path, kafka_url: str) -> None:
    async def scenario() -> None:
        sink = WebhookSink()
        settings = make_settings(tmp_path, kafka_url, "", [await sink.start()])
        settings.alerts.group_by = ["area", "kind"]
        running = Running(settings)
        t0 = 1.767e9
        try:
            await produce(settings, [finding("outage_area", "F01-A01", t0, severity="critical"),
                                     finding("low_voltage_zone", "F01-A01", t0 + 900),
                                     finding("low_voltage_zone", "F01-A02", t0 + 900)])
            await asyncio.sleep(1.5)
            firing = [(a["kind"], a["entity"]) for r in sink.received
                      for a in r.body["alerts"]]
            assert sorted(firing) == [("low_voltage_zone", "F01-A02"),
                                      ("outage_area", "F01-A01")]
            await produce(settings, [finding("outage_area", "F01-A01", t0, at=t0 + 3600,
                                             status="resolved", severity="critical")])
            assert await wait_until(lambda: len(sink.received) >= 4, 5)
            await asyncio.sleep(0.6)
        finally:
            await running.close()
            await sink.stop()
        later = [(r.body["status"], a["kind"], a["entity"]) for r in sink.received[2:]
                 for a in r.body["alerts"]]
        assert sorted(later) == [("firing", "low_voltage_zone", "F01-A01"),
                                 ("resolved", "outage_area", "F01-A01")]

    asyncio.run(scenario())


def test_silence_holds_then_expires(tmp_path: Path, kafka_url: str) -> None:
    async def scenario() -> None:
        sink = WebhookSink()
        settings = make_settings(tmp_path, kafka_url, "", [await sink.start()])
        store = SqliteAlertStore(settings.alerts.store_path)
        now = time.time()
        silence = new_silence(['area="F02-A01"'], now, now + 3.0, "wang", "switching", now)
        store.add_silence(silence)
        running = Running(settings)
        try:
            await produce(settings, [finding("low_voltage_zone", "F02-A01"),
                                     finding("low_voltage_zone", "F02-A02")])
            await asyncio.sleep(2.0)
            assert alerts_in(sink.received) == [["F02-A02"]]
            assert time.time() < silence.ends_at
            assert await wait_until(lambda: len(sink.received) == 2, 5)
            assert time.time() >= silence.ends_at
        finally:
            await running.close()
            await sink.stop()
            store.close()
        assert alerts_in(sink.received) == [["F02-A02"], ["F02-A01"]]

    asyncio.run(scenario())


class MailBox:
    """A real SMTP server (aiosmtpd) on a free port that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, EmailMessage]] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((time.time(), message_from_bytes(envelope.content,
                                                              policy=email_policy)))
        return "250 OK"

    def __enter__(self) -> MailBox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def test_dead_webhook_does_not_delay_email_and_ends_in_a_deadletter_record(
        tmp_path: Path, kafka_url: str) -> None:
    async def scenario(mailbox: MailBox) -> None:
        dead, healthy = WebhookSink(fail_with=503), WebhookSink()
        policy = {"receivers": [{"name": "field", "webhooks": [{"url": await dead.start()},
                                                                {"url": await healthy.start()}],
                                 "emails": [{"to": ["team@example.com"]}]}],
                  "route": {"receiver": "field"}}
        settings = make_settings(tmp_path, kafka_url, "", [], policy=policy)
        settings.alerts.smtp.port = mailbox.controller.port
        settings.alerts.retries = 3
        settings.alerts.retry_backoff_s = 1.0
        running = Running(settings)
        try:
            produced = time.time()
            await produce(settings, [finding("theft_bypass", "F03-A01-M001",
                                             entity_type="meter", severity="critical")])
            assert await wait_until(lambda: mailbox.messages, 5)
            mailed_after = mailbox.messages[0][0] - produced
            assert await wait_until(lambda: running.stats["delivery_failures"] == 1, 15)
            gave_up_after = time.time() - produced
        finally:
            await running.close()
            await dead.stop()
            await healthy.stop()
        assert mailed_after < 2.0 < 1.0 + 2.0 + 4.0 <= gave_up_after
        assert dead.attempts == 4 and len(healthy.received) == 1
        subject = mailbox.messages[0][1]["Subject"]
        assert "FIRING" in subject and "F03-A01" in subject
        assert "theft_bypass on F03-A01-M001" in mailbox.messages[0][1].get_content()
        store = SqliteAlertStore(settings.alerts.store_path)
        letters = store.delivery_deadletters()
        store.close()
        assert [(d.integration, d.attempts, d.error) for d in letters] == [
            ("field/webhooks[0]", 4, "HTTP 503 from receiver")]
        assert letters[0].payload["alerts"][0]["entity"] == "F03-A01-M001"

    with MailBox() as mailbox:
        asyncio.run(scenario(mailbox))


def test_escalation_fires_when_nobody_acknowledges(tmp_path: Path, kafka_url: str) -> None:
    async def scenario() -> None:
        field, manager = WebhookSink(), WebhookSink()
        policy = {"receivers": [{"name": "north-field", "webhooks": [{"url": await field.start()}]},
                                {"name": "north-manager",
                                 "webhooks": [{"url": await manager.start()}]}],
                  "teams": [{"name": "north", "receiver": "north-field",
                             "escalation": {"after_s": 1.5, "receiver": "north-manager"}}],
                  "route": {"routes": [{"matchers": ['feeder="F04"'], "team": "north"}]}}
        settings = make_settings(tmp_path, kafka_url, "", [], policy=policy)
        running = Running(settings)
        store = SqliteAlertStore(settings.alerts.store_path)
        try:
            await produce(settings, [finding("outage_area", "F04-A01", severity="critical"),
                                     finding("outage_area", "F04-A02", severity="critical"),
                                     finding("low_voltage_zone", "F04-A03")])
            assert await wait_until(lambda: len(field.received) == 3, 5)
            acked = next(a for a in store.list_alerts(AlertQuery(area="F04-A02")))
            WorkOrders(store).acknowledge(Actor("li", "inspector", "north"), acked.id)
            assert await wait_until(lambda: manager.received, 5)
            await asyncio.sleep(1.0)
        finally:
            await running.close()
            await field.stop()
            await manager.stop()
            store.close()
        assert len(manager.received) == 1
        body = manager.received[0].body
        assert body["escalation"] is True
        assert [a["entity"] for a in body["alerts"]] == ["F04-A01"]
        assert body["alerts"][0]["team"] == "north"
        assert running.stats["escalations"] == 1

    asyncio.run(scenario())


def test_restart_neither_loses_nor_repeats_a_notification(tmp_path: Path,
                                                          kafka_url: str) -> None:
    async def scenario() -> None:
        sink = WebhookSink()
        settings = make_settings(tmp_path, kafka_url, "", [await sink.start()])
        settings.alerts.group_wait_s = 0.3
        settings.alerts.group_interval_s = 1.0
        first = Running(settings)
        try:
            await produce(settings, [finding("low_voltage_zone", "F05-A01")])
            assert await wait_until(lambda: len(sink.received) == 1, 10)
            settings.alerts.group_wait_s = 3.0
            await produce(settings, [finding("low_voltage_zone", "F05-A02")])
            assert await wait_until(lambda: first.stats["alerts_stored"] == 2, 5)
        finally:
            await first.close()
        assert len(sink.received) == 1
        await produce(settings, [finding("low_voltage_zone", "F05-A01"),
                                 finding("low_voltage_zone", "F05-A03")])
        settings.alerts.group_wait_s = 0.3
        second = Running(settings)
        try:
            assert await wait_until(lambda: len(sink.received) == 3, 15)
            await asyncio.sleep(2.5)
        finally:
            await second.close()
            await sink.stop()
        assert second.stats["alerts_received"] == 2
        assert sorted(alerts_in(sink.received[1:])) == [["F05-A02"], ["F05-A03"]]

    asyncio.run(scenario())


def test_two_dispatchers_notify_once_and_the_standby_takes_over(tmp_path: Path,
                                                                kafka_url: str) -> None:
    async def scenario() -> tuple[Running, Running, list[Any]]:
        sink = WebhookSink()
        settings = make_settings(tmp_path, kafka_url, "", [await sink.start()])
        settings.alerts.group_by = ["feeder"]
        settings.alerts.group_wait_s = 1.0
        first = Running(settings)
        await asyncio.sleep(0.5)
        second = Running(settings)
        try:
            leaders = (lambda: first.stats.get("leader", 0)  # noqa: E731
                       + second.stats.get("leader", 0))
            assert await wait_until(lambda: leaders() == 1, 5)
            await asyncio.sleep(3.0)
            areas = [f"F0{f}-A{a:02d}" for f in (6, 7) for a in range(12)]
            await produce(settings, [finding("low_voltage_zone", area) for area in areas])
            assert await wait_until(lambda: len(sink.received) == 2, 10)
            await asyncio.sleep(1.5)
            leader, standby = (first, second) if first.stats["leader"] else (second, first)
            await leader.close()
            assert await wait_until(lambda: standby.stats["leader"] == 1, 5)
            await produce(settings, [finding("low_voltage_zone", "F06-A99")])
            assert await wait_until(lambda: len(sink.received) == 3, 10)
            await asyncio.sleep(1.5)
        finally:
            for running in (first, second):
                if not running.task.done():
                    await running.close()
            await sink.stop()
        return first, second, sink.received

    first, second, received = asyncio.run(scenario())
    assert sorted(len(r.body["alerts"]) for r in received[:2]) == [12, 12]
    assert {r.body["group_labels"]["feeder"] for r in received[:2]} == {"F06", "F07"}
    assert len(received) == 3 and "F06-A99" in alerts_in(received[2:])[0]
    assert first.stats["alerts_received"] + second.stats["alerts_received"] == 25


OUTBOX_WAIT_S = 4.5     # two rounds of the dispatcher's outbox


def test_a_closed_theft_work_order_is_sent_to_the_inspections_topic_keyed_by_area(
        tmp_path: Path, kafka_url: str) -> None:
    settings = make_settings(tmp_path, kafka_url, "", [])
    settings.kafka.inspections_topic = f"inspections-{uuid.uuid4().hex[:8]}"
    theft = finding("theft_bypass", "F01-A01-M07", entity_type="meter", area="F01-A01")

    async def scenario() -> list[Any]:
        running = Running(settings)
        store = SqliteAlertStore(settings.alerts.store_path)
        consumer = AIOKafkaConsumer(settings.kafka.inspections_topic,
                                    bootstrap_servers=bootstrap_servers(kafka_url),
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        try:
            await produce(settings, [theft])
            assert await wait_until(lambda: store.list_alerts(AlertQuery()), 30)
            WorkOrders(store).close(Actor("root", "admin"), store.list_alerts(AlertQuery())[0].id,
                                    "confirmed")
            await consumer.start()
            records: list[Any] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(records) < 1:
                batches = await consumer.getmany(timeout_ms=1000)
                records += [r for recs in batches.values() for r in recs]
            await asyncio.sleep(OUTBOX_WAIT_S)          # a second copy would show by now
            batches = await consumer.getmany(timeout_ms=500)
            return records + [r for recs in batches.values() for r in recs]
        finally:
            await consumer.stop()
            store.close()
            await running.close()

    records = asyncio.run(scenario())
    assert [(r.key, json.loads(r.value)["meter"], json.loads(r.value)["finding"])
            for r in records] == [(b"F01-A01", "F01-A01-M07", "confirmed")]
