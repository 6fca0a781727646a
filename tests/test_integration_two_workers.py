"""Integration: two Faust workers share the areas; every batch is processed exactly once.

Scale-out is Kafka partitions plus more workers in one consumer group. Two
worker processes join the same group on the real broker; after the
rebalance each owns part of the readings topic's partitions, and between
them they process every published reading once.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.devstack.stack import free_port
from gridwatch.streams.stats import read_stats
from tests.test_integration_pipeline import T0, publish

AREAS = [f"F03-A{i:02d}" for i in range(12)]
INTERVALS = 3
METERS = 4


@pytest.mark.integration
def test_two_workers_split_the_areas_and_process_each_batch_once(
        tmp_path: Path, mosquitto_url: str, kafka_url: str, metrics_url: str) -> None:
    overrides = base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "pair")
    overrides["kafka"]["partitions"] = 4
    configs = []
    for n in (1, 2):
        overrides["worker"] |= {"web_port": free_port(), "data_dir": str(tmp_path / f"w{n}")}
        configs.append(write_config(tmp_path / f"worker{n}.yaml", overrides))
    settings = load_settings(configs[0])
    bridge = spawn(configs[0], "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")
    workers = [spawn(config, "worker", "--stats-file", str(tmp_path / f"w{n}.json"),
                     log=tmp_path / f"w{n}.log") for n, config in enumerate(configs)]

    def processed() -> list[int]:
        return [read_stats(tmp_path / f"w{n}.json").get("readings_processed", 0)
                for n in range(2)]

    expected = len(AREAS) * INTERVALS * (METERS + 1)
    try:
        wait_for(lambda: read_stats(tmp_path / "bridge.json").get("connected"), 60, "bridge")
        wait_for(lambda: all((tmp_path / f"w{n}.json").exists() for n in range(2)), 90,
                 "both workers")
        publish(mosquitto_url, [
            (f"{settings.mqtt.topic_prefix}/{area}/C-{area}/readings",
             json.dumps(batch(area, "F03", T0 + 900 * step, [221.0] * METERS)).encode())
            for step in range(INTERVALS) for area in AREAS])
        wait_for(lambda: sum(processed()) >= expected, 120, "all readings to be processed")
        time.sleep(3)  # a batch processed twice would show up in the counts by now
    finally:
        for process in [bridge, *workers]:
            stop(process)
    counts = processed()
    assert sum(counts) == expected
    assert all(c > 0 for c in counts), f"one worker got no partition: {counts}"
