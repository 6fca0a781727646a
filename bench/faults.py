"""Fault injection on the real stack: what a crash costs in readings, samples and alerts.

Why on real services: what is lost in a crash depends on what Mosquitto,
the Kafka-protocol broker and the metrics store keep, which no mock knows.
Each scenario replays a labelled stream (``--areas`` areas of one feeder,
``--steps`` intervals, one area's voltage low throughout: one
``low_voltage_zone`` expected) through the bridge and the worker on real
Mosquitto, tansu and VictoriaMetrics, injecting one fault half way:

* ``baseline``: none;
* ``worker_kill9``: the worker is killed (SIGKILL) while the second half
  streams in, and restarted 8 s later;
* ``bridge_kill9``: the bridge is killed while uploads arrive and restarted
  (the MQTT broker redelivers what it had not acknowledged);
* ``redelivery``: every upload of the second half is published twice, byte
  for byte, as an at-least-once transport may deliver it.

Per scenario it prints readings published / processed (the sum of the
areas' interval read counts in the store) / lost, metric samples expected /
stored, alerts expected / raised (on the alerts topic), duplicate firing
alerts and ``dq_duplicate`` alerts (false: the stream has no duplicated
reading). The worker is stopped with SIGTERM at the end and must stop
within 5 s (``worker_stop_s``).

    python -m bench.faults --json                      # every scenario, the long version
    python -m bench.faults --scenarios worker_kill9 --steps 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from aiokafka import AIOKafkaConsumer
from tqdm import tqdm

from gridwatch.config import host_port, load_settings
from gridwatch.devstack.processes import (
    base_config,
    batch,
    spawn,
    stop,
    stopped_within,
    wait_for,
    write_config,
)
from gridwatch.devstack.stack import (
    free_port,
    mosquitto_service,
    tansu_service,
    victoria_metrics_service,
)
from gridwatch.streams.promql import PromQuery
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from gridwatch.vocabulary.kinds import DQ_DUPLICATE, LOW_VOLTAGE_ZONE
from gridwatch.vocabulary.measurements import AREA_INTERVAL, series_name

T0 = 1_767_650_400.0
FEEDER = "F01"
SCENARIOS = ("baseline", "worker_kill9", "bridge_kill9", "redelivery")


class Stream:
    """The labelled stream: uploads per step, what the detectors must find in it."""

    def __init__(self, prefix: str, areas: int, steps: int, meters: int) -> None:
        self.areas = [f"{FEEDER}-A{i:02d}" for i in range(areas)]
        self.low = self.areas[0]
        self.prefix, self.steps, self.meters = prefix, steps, meters

    def uploads(self, first: int, last: int) -> list[tuple[str, bytes]]:
        out = []
        for step in range(first, last):
            for area in self.areas:
                volts = [185.0 if area == self.low else 222.0] * self.meters
                out.append((f"{self.prefix}/{area}/C-{area}/readings",
                            json.dumps(batch(area, FEEDER, T0 + 900 * step, volts)).encode()))
        return out

    @property
    def readings(self) -> int:
        return len(self.areas) * self.steps * (self.meters + 1)

    @property
    def samples(self) -> int:
        return len(self.areas) * self.steps

    @property
    def expected_alerts(self) -> set[tuple[str, str]]:
        return {(LOW_VOLTAGE_ZONE, self.low)}


def publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"faults-{free_port()}")
    client.connect(*host_port(url, 1883))
    client.loop_start()
    for info in [client.publish(topic, payload, qos=1) for topic, payload in messages]:
        info.wait_for_publish(30)
    client.loop_stop()
    client.disconnect()


async def alerts_on(kafka_url: str, topic: str) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers(kafka_url),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        found: list[dict[str, Any]] = []
        quiet = 0
        while quiet < 3:
            got = await consumer.getmany(timeout_ms=1000)
            records = [json.loads(r.value) for recs in got.values() for r in recs]
            found += records
            quiet = 0 if records else quiet + 1
        return found
    finally:
        await consumer.stop()


def stored(metrics_url: str, stream: Stream) -> tuple[int, int]:
    """(samples, readings) of the stream's areas in the store."""
    selector = f'{series_name(AREA_INTERVAL, "readings")}{{feeder="{FEEDER}"}}'
    query = PromQuery(metrics_url)
    at = T0 + 900 * stream.steps
    samples = query.instant(f"sum(count_over_time({selector}[30d]))", at)
    readings = query.instant(f"sum(sum_over_time({selector}[30d]))", at)
    return (int(samples[0].points[0][1]) if samples else 0,
            int(readings[0].points[0][1]) if readings else 0)


def numbers(stats: dict[str, Any]) -> dict[str, float]:
    """The numeric counters of a stats file (to add up over worker restarts)."""
    return {k: v for k, v in stats.items() if isinstance(v, (int, float))
            and not isinstance(v, bool)}


def run_scenario(name: str, tmp: Path, urls: dict[str, str], args: argparse.Namespace
                 ) -> dict[str, Any]:
    """Replay the stream through a fresh bridge and worker, injecting the fault ``name``."""
    work = tmp / name
    work.mkdir()
    overrides = base_config(work, urls["mqtt"], urls["kafka"], urls["metrics"],
                            f"faults-{name}".replace("_", "-"))
    overrides["metrics"]["flush_interval_ms"] = 1000          # the production default
    config = write_config(work / "gridwatch.yaml", overrides)
    settings = load_settings(config)
    stream = Stream(settings.mqtt.topic_prefix, args.areas, args.steps, args.meters)
    bridge_stats, worker_stats = work / "bridge.json", work / "worker.json"

    def bridge() -> subprocess.Popen:
        return spawn(config, "bridge", "--stats-file", str(bridge_stats),
                     log=work / f"bridge-{time.monotonic_ns()}.log")

    def worker() -> subprocess.Popen:
        return spawn(config, "worker", "--stats-file", str(worker_stats),
                     log=work / f"worker-{time.monotonic_ns()}.log")

    processes = {"bridge": bridge(), "worker": worker()}
    counters: Counter[str] = Counter()
    half = args.steps // 2
    try:
        wait_for(lambda: read_stats(bridge_stats).get("connected"), 60, "the bridge")
        publish(urls["mqtt"], stream.uploads(0, half))
        wait_for(lambda: read_stats(worker_stats).get("batches", 0)
                 >= len(stream.areas) * half, args.timeout_s, "the first half")
        second = stream.uploads(half, args.steps)
        if name == "redelivery":
            second = [m for m in second for _ in range(2)]
        if name in ("worker_kill9", "bridge_kill9"):
            # killed while the second half streams in: records in flight, points buffered
            sender = threading.Thread(target=publish, args=(urls["mqtt"], second))
            sender.start()
            time.sleep(args.kill_after_s)
            victim = "worker" if name == "worker_kill9" else "bridge"
            processes[victim].kill()
            processes[victim].wait()
            if victim == "worker":
                counters.update(numbers(read_stats(worker_stats)))
                worker_stats.unlink()
                time.sleep(8)             # restarted 8 s later, as in issue 12's run
            sender.join()
            processes[victim] = worker() if victim == "worker" else bridge()
        else:
            publish(urls["mqtt"], second)
        expected = stream.samples
        try:
            wait_for(lambda: stored(urls["metrics"], stream)[0] >= expected
                     or read_stats(worker_stats).get("batches", 0) + counters["batches"]
                     >= len(stream.areas) * args.steps, args.timeout_s, "the second half")
        except AssertionError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
        time.sleep(2)
        stop_s = stopped_within(processes["worker"], 5)
        counters.update(numbers(read_stats(worker_stats)))
        alerts = asyncio.run(alerts_on(urls["kafka"], settings.kafka.alerts_topic))
    finally:
        for process in processes.values():
            stop(process)
    time.sleep(2)
    samples, readings = stored(urls["metrics"], stream)
    firing = [(a["kind"], a["entity"], a["started_at"]) for a in alerts if a["status"] == "firing"]
    found = {(kind, entity) for kind, entity, _ in firing}
    return {
        "readings_published": stream.readings, "readings_processed": readings,
        "readings_lost": stream.readings - readings,
        "samples_expected": stream.samples, "samples_stored": samples,
        "alerts_expected": len(stream.expected_alerts),
        "alerts_raised": len(stream.expected_alerts & found),
        "duplicate_alerts": len(firing) - len(set(firing)),
        "false_dq_duplicate": sum(kind == DQ_DUPLICATE for kind, _ in found),
        "redelivered_skipped": counters["redelivered_skipped"],
        "metrics_reemitted": counters["metrics_reemitted"],
        "worker_stop_s": round(stop_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--areas", type=int, default=8)
    parser.add_argument("--meters", type=int, default=20)
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    parser.add_argument("--kill-after-s", type=float, default=0.5,
                        help="how long after the second half starts streaming the kill comes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        tmp.chmod(0o755)  # Mosquitto, started as root, drops to its own user and must get in
        ports = {"mqtt": free_port(), "kafka": free_port(), "metrics": free_port()}
        services = [mosquitto_service(tmp, "127.0.0.1", ports["mqtt"], "mosquitto"),
                    tansu_service(tmp, "127.0.0.1", ports["kafka"], ""),
                    victoria_metrics_service(tmp, "127.0.0.1", ports["metrics"],
                                             "victoria-metrics")]
        urls = {"mqtt": f"mqtt://127.0.0.1:{ports['mqtt']}",
                "kafka": f"kafka://127.0.0.1:{ports['kafka']}",
                "metrics": f"http://127.0.0.1:{ports['metrics']}"}
        try:
            for service in services:
                service.start(30)
            for name in tqdm(args.scenarios, desc="fault scenarios", file=sys.stderr):
                results[name] = run_scenario(name, tmp, urls, args)
        finally:
            for service in reversed(services):
                service.stop()
    if args.json:
        print(json.dumps({"faults": results}))
    else:
        for name, row in results.items():
            print(f"{name:14s} readings {row['readings_processed']}/{row['readings_published']} "
                  f"(lost {row['readings_lost']})  samples {row['samples_stored']}/"
                  f"{row['samples_expected']}  alerts {row['alerts_raised']}/"
                  f"{row['alerts_expected']}  duplicates {row['duplicate_alerts']}  "
                  f"false dq_duplicate {row['false_dq_duplicate']}  "
                  f"worker stop {row['worker_stop_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
