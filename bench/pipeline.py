"""End-to-end benchmark on the real stack: MQTT publish -> bridge -> Kafka -> worker -> alert.

Why on real services: the latency an operator sees is dominated by the
hops (MQTT, the bridge's batching, Kafka, Faust's fetch loop), not by the
detectors, so it can only be measured with real brokers over sockets.
Mosquitto, tansu and VictoriaMetrics are started on free ports; the bridge
and one worker run as child processes exactly as in production.

Two measurements:
- throughput: a burst of area batches published as fast as MQTT takes them,
  timed until the worker has processed every reading (readings/s end to end);
- latency: areas that turn low-voltage one by one at a steady pace; for each
  alert, time from publishing the batch that triggered it (the finding's
  ``at``) to the alert record arriving on the alerts topic (p50, p99).

Usage: ``python -m bench.pipeline [--areas N] [--meters N] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from aiokafka import AIOKafkaConsumer

from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.devstack.stack import (
    free_port,
    host_port,
    mosquitto_service,
    tansu_service,
    victoria_metrics_service,
)
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers

T0 = 1_767_650_400.0


def connect(url: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{free_port()}")
    client.connect(*host_port(url, 1883))
    client.loop_start()
    return client


def throughput(client: mqtt.Client, prefix: str, stats: Path, areas: int, meters: int,
               intervals: int) -> dict[str, float]:
    already = read_stats(stats).get("readings_processed", 0)
    total = areas * intervals * (meters + 1)
    started = time.perf_counter()
    infos = [client.publish(f"{prefix}/T{a:03d}/C-T{a:03d}/readings",
                            json.dumps(batch(f"T{a:03d}", "FT", T0 + 900 * i,
                                             [221.0] * meters)).encode(), qos=1)
             for i in range(intervals) for a in range(areas)]
    for info in infos:
        info.wait_for_publish(60)
    wait_for(lambda: read_stats(stats).get("readings_processed", 0) - already >= total, 300,
             "the worker to process the burst")
    elapsed = time.perf_counter() - started
    return {"readings": total, "seconds": round(elapsed, 2),
            "readings_per_s": round(total / elapsed)}


async def latency(client: mqtt.Client, prefix: str, kafka_url: str, topic: str, areas: int,
                  meters: int, pace_s: float) -> dict[str, float]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers(kafka_url),
                                auto_offset_reset="latest")
    await consumer.start()
    await consumer.seek_to_end()
    sent: dict[tuple[str, float], float] = {}
    delays: list[float] = []

    async def collect(deadline: float) -> None:
        while time.monotonic() < deadline and len(delays) < areas:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    alert = json.loads(record.value)
                    key = (alert["entity"], alert["at"])
                    if alert["status"] == "firing" and key in sent:
                        delays.append(now - sent.pop(key))

    collector = asyncio.create_task(collect(time.monotonic() + areas * pace_s * 6 + 60))
    for step in range(6):  # six low intervals: enough for any sustained-low rule
        for a in range(areas):
            area = f"L{a:03d}"
            ts = T0 + 900 * step
            payload = json.dumps(batch(area, "FL", ts, [185.0] * meters)).encode()
            sent[(area, ts)] = time.monotonic()
            client.publish(f"{prefix}/{area}/C-{area}/readings", payload, qos=1)
            await asyncio.sleep(pace_s)
    await collector
    await consumer.stop()
    if not delays:
        return {"alerts": 0}
    ordered = sorted(delays)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"alerts": len(delays), "p50_s": round(statistics.median(ordered), 3),
            "p99_s": round(p99, 3), "max_s": round(ordered[-1], 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=40)
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--intervals", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        tmp.chmod(0o755)  # Mosquitto, started as root, drops to its own user and must get in
        urls = {"mqtt": free_port(), "kafka": free_port(), "metrics": free_port()}
        services = [mosquitto_service(tmp, "127.0.0.1", urls["mqtt"], "mosquitto"),
                    tansu_service(tmp, "127.0.0.1", urls["kafka"], ""),
                    victoria_metrics_service(tmp, "127.0.0.1", urls["metrics"],
                                             "victoria-metrics")]
        mqtt_url = f"mqtt://127.0.0.1:{urls['mqtt']}"
        kafka_url = f"kafka://127.0.0.1:{urls['kafka']}"
        metrics_url = f"http://127.0.0.1:{urls['metrics']}"
        processes = []
        try:
            for service in services:
                service.start(30)
            config = write_config(tmp / "bench.yaml",
                                  base_config(tmp, mqtt_url, kafka_url, metrics_url, "bench"))
            settings = load_settings(config)
            print("starting bridge and worker ...", file=sys.stderr)
            processes = [spawn(config, "bridge", "--stats-file", str(tmp / "bridge.json"),
                               log=tmp / "bridge.log"),
                         spawn(config, "worker", "--stats-file", str(tmp / "worker.json"),
                               log=tmp / "worker.log")]
            wait_for(lambda: read_stats(tmp / "bridge.json").get("connected")
                     and (tmp / "worker.json").exists(), 90, "bridge and worker")
            client = connect(mqtt_url)
            prefix = settings.mqtt.topic_prefix
            # warm-up: the first records wait for the partition assignment
            throughput(client, prefix, tmp / "worker.json", 4, 2, 1)
            print("throughput burst ...", file=sys.stderr)
            burst = throughput(client, prefix, tmp / "worker.json", args.areas, args.meters,
                               args.intervals)
            print("alert latency ...", file=sys.stderr)
            lat = asyncio.run(latency(client, prefix, kafka_url, settings.kafka.alerts_topic,
                                      min(args.areas, 30), args.meters, 0.02))
            client.loop_stop()
        finally:
            for process in processes:
                stop(process)
            for service in reversed(services):
                service.stop()
    result = {"pipeline": {"throughput": burst, "alert_latency": lat,
                           "meters_per_area": args.meters}}
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
