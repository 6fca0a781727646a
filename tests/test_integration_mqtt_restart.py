"""Integration: messages queued for the bridge's persistent session survive a Mosquitto restart.

The fault this guards against: Mosquitto started as root drops to user
``mosquitto``, and a persistence directory owned by root made every save
fail, so a broker restart lost everything queued for the bridge (14 % of a
replayed day in the fault-injection run). Here a real Mosquitto holds a
backlog for the stopped bridge, is restarted, and the bridge must then
forward every queued batch to the real Kafka-protocol broker.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.devstack.stack import free_port, mosquitto_service
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from tests.test_integration_pipeline import publish

BACKLOG = 300
T0 = 1_767_571_200.0


async def sent_at_values(kafka_url: str, topic: str, expected: int) -> set[float]:
    """Distinct `sent_at` of the batches on `topic`, read until `expected` arrived or 30 s."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers(kafka_url),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: set[float] = set()
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            seen |= {json.loads(r.value)["sent_at"] for records in batches.values()
                     for r in records}
        return seen
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_backlog_survives_broker_restart(tmp_path: Path, services_dir: Path,
                                         kafka_url: str) -> None:
    port = free_port()
    broker = mosquitto_service(services_dir / "restart", "127.0.0.1", port, "mosquitto")
    broker.start(timeout_s=30)
    mqtt_url = f"mqtt://127.0.0.1:{port}"
    config = write_config(tmp_path / "gw.yaml", base_config(
        tmp_path, mqtt_url, kafka_url, "http://127.0.0.1:9", "mqttrestart"))
    stats = tmp_path / "bridge.json"
    bridge = spawn(config, "bridge", "--stats-file", str(stats), log=tmp_path / "bridge1.log")
    try:
        wait_for(lambda: read_stats(stats).get("connected"), 30, "bridge subscribed")
        stop(bridge)  # a clean disconnect: the broker keeps the persistent session
        area = "F01-A01"
        publish(mqtt_url, [(f"gw-mqttrestart/{area}/C-{area}/readings",
                            json.dumps(batch(area, "F01", T0 + 900 * i, [221.0])).encode())
                           for i in range(BACKLOG)])
        broker.stop()
        broker.start(timeout_s=30)
        stats.unlink()
        bridge = spawn(config, "bridge", "--stats-file", str(stats), log=tmp_path / "bridge2.log")
        wait_for(lambda: read_stats(stats).get("batches_forwarded", 0) >= BACKLOG, 60,
                 "the queued backlog forwarded")
    finally:
        stop(bridge)
        broker.stop()
    forwarded = asyncio.run(sent_at_values(kafka_url, "mqttrestart.readings", BACKLOG))
    assert forwarded == {T0 + 900 * i for i in range(BACKLOG)}
    log = (services_dir / "restart" / "logs" / "mosquitto.log").read_text()
    assert "Error saving" not in log
