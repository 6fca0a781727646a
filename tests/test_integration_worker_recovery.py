"""Integration: an area's detector state and its metric points survive a worker restart.

The second test kills the worker (``kill -9``) while its metrics writer still
buffers the points of batches whose state is already in the changelog: the
restarted worker must write them again (every sample in VictoriaMetrics),
and stop within 5 s of SIGTERM with its buffer flushed.

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
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from gridwatch.config import load_settings
from gridwatch.devstack.processes import (
    base_config,
    batch,
    spawn,
    stop,
    stopped_within,
    wait_for,
    write_config,
)
from gridwatch.streams.lag import TANSU_END_OFFSET_ERROR
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from gridwatch.vocabulary.measurements import AREA_INTERVAL, series_name
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


def stored_steps(metrics_url: str, feeder: str) -> dict[str, list[int]]:
    """Per area, the intervals (steps from T0) whose read-count sample is in the store (raw
    samples from the export API: a query would fill a missing interval from the one before)."""
    match = f'{series_name(AREA_INTERVAL, "readings")}{{feeder="{feeder}"}}'
    address = f"{metrics_url}/api/v1/export?{urllib.parse.urlencode({'match[]': match})}"
    with urllib.request.urlopen(address, timeout=10) as response:
        series = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    return {s["metric"]["area"]: sorted(round((ms / 1000 - T0) / 900) for ms in s["timestamps"])
            for s in series}


@pytest.mark.integration
def test_no_metric_sample_lost_when_the_worker_is_killed(tmp_path: Path, mosquitto_url: str,
                                                         kafka_url: str, metrics_url: str) -> None:
    """kill -9 while the metrics writer still buffers points of batches already applied."""
    overrides = base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "killmetrics")
    overrides["metrics"]["flush_interval_ms"] = 60_000   # every point still buffered at the kill
    config = write_config(tmp_path / "gridwatch.yaml", overrides)
    prefix = load_settings(config).mqtt.topic_prefix
    areas, feeder, steps, meters = [f"F07-K{i}" for i in range(4)], "F07", 8, 3

    def uploads(first: int, last: int) -> list[tuple[str, bytes]]:
        return [(f"{prefix}/{area}/C-{area}/readings",
                 json.dumps(batch(area, feeder, T0 + 900 * step, [221.0] * meters)).encode())
                for step in range(first, last) for area in areas]

    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    stats = tmp_path / "worker.json"
    worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker1.log")
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        publish(mosquitto_url, uploads(0, steps // 2))
        wait_for(lambda: read_stats(stats).get("batches", 0) >= len(areas) * steps // 2, 90,
                 "the first worker to apply the first half")
        time.sleep(6)                     # the state reaches the changelog, the points do not
        worker.kill()
        worker.wait()
        stats.rename(tmp_path / "worker1.json")
        worker = spawn(config, "worker", "--stats-file", str(stats), log=tmp_path / "worker2.log")
        # the killed member leaves the group only when its session times out: publish after
        # that rebalance (a record in flight across it is not what this test is about)
        time.sleep(load_settings(config).kafka.session_timeout_s + 3)
        publish(mosquitto_url, uploads(steps // 2, steps))
        wait_for(lambda: read_stats(stats).get("batches", 0) >= len(areas) * steps // 2, 90,
                 "the second worker to apply the second half")
        stop_s = stopped_within(worker, 5)   # SIGTERM: stop, flushing the writer's buffer
        reemitted = read_stats(stats)["metrics_reemitted"]
    finally:
        stop(worker)
        stop(bridge)
    time.sleep(2)                         # written samples become searchable within a second
    stored = stored_steps(metrics_url, feeder)
    assert reemitted > 0 and stop_s < 5
    for area in areas:
        first_half = [step for step in stored[area] if step < steps // 2]
        # no hole: every batch the recovered state holds as applied has its sample stored.
        # The last ones may be missing with tansu: it under-reports a changelog's end offset
        # by up to 4 records, so Faust recovers the table without its last writes (README)
        assert first_half == list(range(len(first_half))), area
        assert len(first_half) >= steps // 2 - TANSU_END_OFFSET_ERROR // 2, area
        assert stored[area][len(first_half):] == list(range(steps // 2, steps)), area
