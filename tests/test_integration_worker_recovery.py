"""Integration: an area's detector state survives a worker restart (Faust table changelog).

An area goes low for five intervals in a row. The first two are processed by
one worker, which is then stopped; the rest by a fresh worker process. The
one alert must date its episode from the first interval, which the fresh
worker can only know by recovering the area's state from the table's
changelog topic on the real broker; and the batch redelivered after the
restart must not produce a second alert.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from tests.test_integration_pipeline import T0, publish


async def alerts_on(kafka_url: str, topic: str, timeout_s: float) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers(kafka_url),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        found: list[dict] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            found += [json.loads(r.value) for recs in batches.values() for r in recs]
            if found:
                deadline = min(deadline, loop.time() + 3)  # time for a duplicate to show
        return found
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_area_state_survives_worker_restart(tmp_path: Path, mosquitto_url: str, kafka_url: str,
                                            metrics_url: str) -> None:
    config = write_config(tmp_path / "gridwatch.yaml",
                          base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "recover"))
    settings = load_settings(config)
    prefix, area = settings.mqtt.topic_prefix, "F02-LOW"
    topic = f"{prefix}/{area}/C-{area}/readings"
    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    stats = tmp_path / "worker.json"
    worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker1.log")
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        publish(mosquitto_url, [(topic, json.dumps(batch(area, "F02", T0 + 900 * step,
                                                         [185.0] * 5)).encode())
                                for step in range(2)])
        wait_for(lambda: read_stats(stats).get("readings_processed", 0) >= 12, 90,
                 "the first worker to process intervals 1 and 2")
        stop(worker)
        stats.unlink()
        worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker2.log")
        publish(mosquitto_url, [(topic, json.dumps(batch(area, "F02", T0 + 900 * step,
                                                         [185.0] * 5)).encode())
                                for step in range(2, 5)])
        alerts = asyncio.run(alerts_on(kafka_url, settings.kafka.alerts_topic, 90))
    finally:
        stop(worker)
        stop(bridge)
    firing = [(a["kind"], a["entity"], a["started_at"]) for a in alerts
              if a["status"] == "firing"]
    assert firing == [("low_voltage_zone", area, T0)]
