"""Alert dispatcher benchmark on a real Kafka-protocol broker: intake rate and notify latency.

Why on a real broker: the dispatcher's cost per alert is a Kafka fetch, a
JSON parse, one SQLite (WAL, fsync) transaction per fetched batch and the
engine's bookkeeping; only a real broker and a real file show it. tansu is
started on a free port; the dispatcher runs in this process; a local
webhook receiver stands in for the inspection team.

Two measurements:
- intake: a burst of findings (distinct alerts spread over many areas),
  timed until every one is stored and its offset committed (alerts/s);
- latency: alerts produced one by one at a steady pace, each in a new
  group; time from producing the record to the webhook receiving the
  notification (p50, p99), with the default ``group_wait_s`` and with 0.

Usage: ``python -m bench.alerts [--burst N] [--paced N] [--json]``
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
from typing import Any

from aiokafka import AIOKafkaProducer

from gridwatch.alerts.dispatcher import run_dispatcher
from gridwatch.alerts.sink import WebhookSink
from gridwatch.config import Settings, WebhookReceiver
from gridwatch.devstack.stack import free_port, tansu_service
from gridwatch.streams.topics import bootstrap_servers
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.kinds import LOW_VOLTAGE_ZONE

T0 = 1_767_650_400.0


def finding(i: int, run: str) -> bytes:
    area = f"{run}-F{i // 50:03d}-A{i % 50:02d}"
    return json.dumps(Finding(kind=LOW_VOLTAGE_ZONE, entity=area, entity_type="area",
                              area=area, feeder=area.rsplit("-", 1)[0], started_at=T0 + i,
                              at=T0 + i, detector="bench").to_dict()).encode()


def settings_for(kafka_url: str, state: Path, hook: str, name: str, group_wait_s: float
                 ) -> Settings:
    settings = Settings()
    settings.kafka.url = kafka_url
    settings.kafka.alerts_topic = f"bench-alerts-{name}"
    settings.kafka.deadletter_topic = f"bench-dead-{name}"
    settings.kafka.partitions = 1
    settings.kafka.session_timeout_s, settings.kafka.heartbeat_interval_s = 2.0, 0.3
    settings.kafka.rebalance_timeout_s = 1.0
    settings.alerts.group_id = f"bench-{name}"
    settings.alerts.store_path = str(state / f"{name}.sqlite")
    settings.alerts.webhooks = [WebhookReceiver(url=hook)]
    settings.alerts.mqtt_enabled = False
    settings.alerts.group_wait_s = group_wait_s
    settings.alerts.tick_s = 0.01
    return settings


async def wait_for(condition: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.005)


async def intake(kafka_url: str, state: Path, burst: int) -> dict[str, float]:
    sink = WebhookSink()
    settings = settings_for(kafka_url, state, await sink.start(), "intake", 0.5)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url), linger_ms=20)
    await producer.start()
    for i in range(burst):
        await producer.send(settings.kafka.alerts_topic, finding(i, "B"), key=b"k")
    await producer.flush()
    await producer.stop()
    stop, stats = asyncio.Event(), {}
    task = asyncio.create_task(run_dispatcher(settings, stop, stats))
    await wait_for(lambda: stats.get("alerts_received", 0) > 0, 60)
    started = time.perf_counter()
    first = stats["alerts_received"]
    await wait_for(lambda: stats.get("alerts_stored", 0) >= burst, 300)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await sink.stop()
    return {"alerts": burst, "seconds": round(elapsed, 3),
            "alerts_per_s": round((burst - first) / elapsed, 1)}


async def latency(kafka_url: str, state: Path, paced: int, group_wait_s: float
                  ) -> dict[str, float]:
    arrivals: dict[str, float] = {}
    sink = WebhookSink(on_receive=lambda r: arrivals.setdefault(
        r.body["alerts"][0]["entity"], r.at))
    name = f"latency-{str(group_wait_s).replace('.', '_')}"
    settings = settings_for(kafka_url, state, await sink.start(), name, group_wait_s)
    stop, stats = asyncio.Event(), {}
    task = asyncio.create_task(run_dispatcher(settings, stop, stats))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url))
    await producer.start()
    await producer.send_and_wait(settings.kafka.alerts_topic, finding(10_000, "W"), key=b"k")
    await wait_for(lambda: arrivals, 60)
    sent: dict[str, float] = {}
    for i in range(paced):
        raw = finding(i, "P")
        sent[json.loads(raw)["entity"]] = time.time()
        await producer.send_and_wait(settings.kafka.alerts_topic, raw, key=b"k")
        await asyncio.sleep(0.05)
    await wait_for(lambda: all(e in arrivals for e in sent), 60)
    await producer.stop()
    stop.set()
    await task
    await sink.stop()
    waits = sorted(arrivals[e] - t for e, t in sent.items())
    return {"group_wait_s": group_wait_s, "alerts": paced,
            "p50_s": round(statistics.median(waits), 4),
            "p99_s": round(waits[min(len(waits) - 1, int(0.99 * len(waits)))], 4)}


async def main_async(burst: int, paced: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        port = free_port()
        broker = tansu_service(state, "127.0.0.1", port, "")
        broker.start(timeout_s=30)
        try:
            url = f"kafka://127.0.0.1:{port}"
            return {"benchmark": "alerts",
                    "intake": await intake(url, state, burst),
                    "latency": [await latency(url, state, paced, 0.5),
                                await latency(url, state, paced, 0.0)]}
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=5000, help="alerts in the intake burst")
    parser.add_argument("--paced", type=int, default=100, help="alerts timed one by one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(main_async(args.burst, args.paced))
    if args.json:
        print(json.dumps(result))
        return
    intake_ = result["intake"]
    print(f"intake: {intake_['alerts']} alerts in {intake_['seconds']} s = "
          f"{intake_['alerts_per_s']} alerts/s (parse + store + group, offsets committed)")
    for lat in result["latency"]:
        print(f"notify latency (group_wait {lat['group_wait_s']} s): p50 {lat['p50_s']} s, "
              f"p99 {lat['p99_s']} s over {lat['alerts']} alerts", file=sys.stdout)


if __name__ == "__main__":
    main()
