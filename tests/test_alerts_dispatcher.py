"""The dispatcher over a real Kafka-protocol broker, real HTTP receivers and real Mosquitto."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gridwatch.alerts.dispatcher import bootstrap_servers, run_dispatcher
from gridwatch.alerts.sink import WebhookSink
from gridwatch.config import Settings, WebhookReceiver, load_settings
from gridwatch.detectors.base import Finding

pytestmark = pytest.mark.integration


def make_settings(tmp_path: Path, kafka_url: str, mqtt_url: str, hooks: list[str],
                  secret: str = "") -> Settings:
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
    return settings


def finding(kind: str = "low_voltage_zone", entity: str = "F01-A01", started: float = 1.767e9,
            at: float | None = None, status: str = "firing", **extra: Any) -> Finding:
    area = extra.pop("area", entity if kind != "theft" else "F01-A01")
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
        assert running.stats["alerts_delivered"] >= 2
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
        assert reasons[0].startswith("field 'entity' must not be empty")
        assert reasons[1].startswith("record is not valid JSON")

    asyncio.run(scenario())
