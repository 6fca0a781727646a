"""Integration: an area that stops uploading is reported while it is still silent.

Two areas upload over a real Mosquitto through the bridge to one real Faust
worker (one partition, so one stream clock); then only one of them keeps
uploading. The silent area's drop-out alert must reach the alerts topic
before it uploads again. The worker is then replaced by a fresh process,
which must recover from the watchdog's table that the silence was already
reported; when the area uploads again, the same episode resolves, with no
second firing from the restart or from the pipeline's own gap check.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from tests.helpers import T0, publish

QUIET, BUSY = "F03-QUIET", "F03-BUSY"
STEP = 900.0
KIND = "dq_concentrator_dropout"


async def collect_until(consumer: AIOKafkaConsumer, found: list[dict],
                        done: Callable[[list[dict]], bool], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not done(found):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s; alerts seen: {found}")
        batches = await consumer.getmany(timeout_ms=500)
        found += [json.loads(r.value) for recs in batches.values() for r in recs]


def dropouts(alerts: list[dict], status: str) -> list[dict]:
    return [a for a in alerts if a["kind"] == KIND and a["status"] == status]


@pytest.mark.integration
def test_silent_area_alert_reaches_the_alerts_topic_while_it_is_silent(
        tmp_path: Path, mosquitto_url: str, kafka_url: str, metrics_url: str) -> None:
    overrides = base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "silence")
    overrides["kafka"]["partitions"] = 1
    config = write_config(tmp_path / "gridwatch.yaml", overrides)
    settings = load_settings(config)
    prefix = settings.mqtt.topic_prefix

    def uploads(areas: tuple[str, ...], steps: range) -> list[tuple[str, bytes]]:
        return [(f"{prefix}/{area}/C-{area}/readings",
                 json.dumps(batch(area, "F03", T0 + STEP * step, [221.0] * 6)).encode())
                for step in steps for area in areas]

    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    workers = [spawn(config, "worker", "--stats-file", str(tmp_path / "worker1.json"),
                     log=tmp_path / "worker1.log")]

    async def scenario() -> tuple[list[dict], list[dict]]:
        consumer = AIOKafkaConsumer(settings.kafka.alerts_topic,
                                    bootstrap_servers=bootstrap_servers(kafka_url),
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            await asyncio.to_thread(wait_for, lambda: read_stats(tmp_path / "bridge.json")
                                    .get("connected"), 60, "the bridge to connect")
            first = uploads((QUIET, BUSY), range(3)) + uploads((BUSY,), range(3, 7))
            await asyncio.to_thread(publish, mosquitto_url, first)
            alerts: list[dict] = []
            await collect_until(consumer, alerts, lambda seen: dropouts(seen, "firing"), 90)
            while_silent = list(alerts)
            await asyncio.to_thread(stop, workers[0])
            workers.append(spawn(config, "worker", "--stats-file", str(tmp_path / "worker2.json"),
                                 log=tmp_path / "worker2.log"))
            await asyncio.to_thread(wait_for, lambda: (tmp_path / "worker2.json").exists(), 60,
                                    "the second worker to start")
            await asyncio.sleep(3)      # its timer has run: a forgotten silence would fire again
            await asyncio.to_thread(publish, mosquitto_url, uploads((QUIET, BUSY), range(7, 8)))
            await collect_until(consumer, alerts, lambda seen: dropouts(seen, "resolved"), 60)
            await asyncio.sleep(2)      # time for a second firing, if any, to show
            alerts += [json.loads(r.value) for recs in (await consumer.getmany(timeout_ms=500))
                       .values() for r in recs]
            return while_silent, alerts
        finally:
            await consumer.stop()

    try:
        while_silent, alerts = asyncio.run(scenario())
    finally:
        stop(bridge)
        for worker in workers:
            stop(worker)
        for log in ("worker1.log", "worker2.log"):
            print((tmp_path / log).read_text()[-2000:])

    fired = dropouts(while_silent, "firing")
    assert [(a["entity"], a["area"], a["started_at"], a["detector"]) for a in fired] == [
        (f"C-{QUIET}", QUIET, T0 + 3 * STEP, "silence")]
    assert fired[0]["at"] >= T0 + 6 * STEP
    assert dropouts(while_silent, "resolved") == []
    assert [a["started_at"] for a in dropouts(alerts, "firing")] == [T0 + 3 * STEP]
    assert [(a["entity"], a["started_at"], a["detector"])
            for a in dropouts(alerts, "resolved")] == [(f"C-{QUIET}", T0 + 3 * STEP, "silence")]
