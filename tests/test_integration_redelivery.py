"""Integration: an upload the transport delivers twice is not a meter's duplicate reading.

MQTT QoS 1 with the bridge's acknowledge-after-Kafka is at-least-once: the
very same message can reach Kafka twice (a bridge killed between Kafka's
confirmation and its MQTT acknowledgement). Through the real Mosquitto, the
real bridge, tansu and the worker, one area's upload is delivered twice,
byte for byte, and must be skipped without a ``dq_duplicate``; another area's
meter sends the same interval again in a new upload, which must still be
reported.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from gridwatch.vocabulary.kinds import DQ_DUPLICATE
from tests.helpers import T0, publish
from tests.test_integration_worker_recovery import alerts_on


@pytest.mark.integration
def test_redelivered_upload_is_skipped_a_resent_reading_is_reported(
        tmp_path: Path, mosquitto_url: str, kafka_url: str, metrics_url: str) -> None:
    config = write_config(tmp_path / "gridwatch.yaml",
                          base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "redeliver"))
    settings = load_settings(config)
    prefix = settings.mqtt.topic_prefix

    def upload(area: str, step: int, sent_late_s: float = 0.0) -> tuple[str, bytes]:
        record = batch(area, "F05", T0 + 900 * step, [221.0] * 3)
        record["sent_at"] += sent_late_s
        return f"{prefix}/{area}/C-{area}/readings", json.dumps(record).encode()

    twice, resent = "F05-TWICE", "F05-RESENT"
    messages = [upload(twice, 0), upload(twice, 1), upload(twice, 1), upload(twice, 2),
                upload(resent, 0), upload(resent, 1), upload(resent, 1, 60.0), upload(resent, 2)]
    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    stats = tmp_path / "worker.json"
    worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker.log")
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        publish(mosquitto_url, messages)
        wait_for(lambda: read_stats(stats).get("batches", 0) >= len(messages), 90,
                 "the worker to take every record")
        alerts = asyncio.run(alerts_on(kafka_url, settings.kafka.alerts_topic, 20))
        counters = read_stats(stats)
    finally:
        stop(worker)
        stop(bridge)
    assert read_stats(tmp_path / "bridge.json")["batches_forwarded"] == len(messages)
    assert counters["redelivered_skipped"] == 1
    duplicates = {a["area"] for a in alerts if a["kind"] == DQ_DUPLICATE}
    assert duplicates == {resent}
