"""Integration: areas of one feeder going dark together raise one feeder outage.

The areas are spread over the readings topic's partitions (and so, in
production, over workers); their outage findings meet again in the worker's
feeder stage, repartitioned by feeder through a Kafka topic, which turns
them into a single ``outage_feeder`` alert and resolves it when supply is back.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from tests.test_integration_pipeline import T0, publish
from tests.test_integration_worker_recovery import alerts_on

AREAS = ("F09-A1", "F09-A2", "F09-A3")


def area_batch(area: str, step: int, dark: bool) -> bytes:
    record = batch(area, "F09", T0 + 900 * step, [221.0] * 4)
    for reading in record["readings"]:
        reading["energy_kwh"] = 100.0 + min(step, 3)
        if dark:
            reading |= {"voltage": [0.0], "current": [0.0], "power_kw": 0.0}
    return json.dumps(record).encode()


@pytest.mark.integration
def test_feeder_outage_is_one_alert_across_areas(tmp_path: Path, mosquitto_url: str,
                                                 kafka_url: str, metrics_url: str) -> None:
    overrides = base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "feeder")
    overrides["kafka"]["partitions"] = 3
    config = write_config(tmp_path / "gridwatch.yaml", overrides)
    settings = load_settings(config)
    prefix = settings.mqtt.topic_prefix
    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    worker = spawn(config, "worker", "--stats-file", str(tmp_path / "worker.json"),
                   log=tmp_path / "worker.log")
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        def send(steps: range) -> None:
            publish(mosquitto_url, [(f"{prefix}/{area}/C-{area}/readings",
                                     area_batch(area, step, 3 <= step < 6))
                                    for step in steps for area in AREAS])

        send(range(2))  # the feeder stage learns which areas the feeder has
        wait_for(lambda: read_stats(tmp_path / "worker.json").get("batches", 0) >= 6, 90,
                 "the healthy intervals to be processed")
        send(range(2, 8))
        alerts = asyncio.run(alerts_on(kafka_url, settings.kafka.alerts_topic, 120))
        wait_for(lambda: read_stats(tmp_path / "worker.json").get("batches", 0) >= 24, 60,
                 "every batch processed")
        alerts += asyncio.run(alerts_on(kafka_url, settings.kafka.alerts_topic, 5))
    finally:
        stop(worker)
        stop(bridge)
    outages = sorted({(a["kind"], a["entity"], a["status"]) for a in alerts
                      if a["kind"].startswith("outage")})
    assert outages == [("outage_feeder", "F09", "firing"), ("outage_feeder", "F09", "resolved")]
