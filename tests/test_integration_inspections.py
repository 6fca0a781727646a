"""Integration: a closed theft inspection reaches the worker that owns the area, is learnt once,
and is kept in the area's state across a worker restart (real tansu broker)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from gridwatch.vocabulary.inspections import InspectionOutcome
from gridwatch.vocabulary.kinds import THEFT_BYPASS
from tests.helpers import T0, publish


async def produce(kafka_url: str, topic: str, key: str, values: list[dict]) -> None:
    """Send as the dispatcher's outbox does: JSON, keyed by area."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url))
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, json.dumps(value).encode(), key=key.encode())
    finally:
        await producer.stop()


def outcome(area: str, meter: int, alert_id: str) -> dict:
    return InspectionOutcome(area, f"{area}-M{meter:02d}", THEFT_BYPASS, "confirmed", alert_id,
                             T0).to_dict()


@pytest.mark.integration
def test_an_inspection_is_learnt_once_by_the_areas_worker_and_survives_a_restart(
        tmp_path: Path, mosquitto_url: str, kafka_url: str, metrics_url: str) -> None:
    config = write_config(tmp_path / "gridwatch.yaml",
                          base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "inspect"))
    settings = load_settings(config)
    area, topic = "F03-INS", settings.kafka.inspections_topic
    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    stats = tmp_path / "worker.json"
    worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker1.log")
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        publish(mosquitto_url, [(f"{settings.mqtt.topic_prefix}/{area}/C-{area}/readings",
                                 json.dumps(batch(area, "F03", T0 + 900 * step,
                                                  [230.0] * 4)).encode()) for step in range(2)])
        wait_for(lambda: read_stats(stats).get("readings_processed", 0) >= 8, 90,
                 "the worker to process the area's batches")
        first = outcome(area, 1, "tb-1")
        asyncio.run(produce(kafka_url, topic, area, [first, first, {"area": area}]))
        wait_for(lambda: read_stats(stats).get("deadletters", 0) >= 1, 60,
                 "the malformed outcome to be dead-lettered")
        time.sleep(1.0)
        assert read_stats(stats).get("inspections_applied") == 1     # the replay taught nothing
        stop(worker)
        stats.unlink()
        worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker2.log")
        asyncio.run(produce(kafka_url, topic, area, [first, outcome(area, 2, "tb-2")]))
        wait_for(lambda: read_stats(stats).get("inspections_applied", 0) >= 1, 90,
                 "the restarted worker to learn the second outcome")
        time.sleep(1.0)
        assert read_stats(stats)["inspections_applied"] == 1   # the first one it recovered
    finally:
        stop(worker)
        stop(bridge)
