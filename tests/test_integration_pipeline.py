"""Integration: MQTT -> bridge -> Kafka -> Faust worker -> alerts + metrics, all real.

A low-voltage area and a healthy one publish over a real Mosquitto; the
bridge and one Faust worker run as real processes against a real
Kafka-protocol broker (tansu); the dispatcher delivers to a real local HTTP
receiver; metrics are read back from a real VictoriaMetrics.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from gridwatch.alerts.dispatcher import run_dispatcher
from gridwatch.config import load_settings
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.streams.stats import read_stats
from gridwatch.streams.topics import bootstrap_servers
from tests.helpers import T0, WebhookReceiver, publish

LOW, HEALTHY = "F01-LOW", "F01-OK"


def metric_series(metrics_url: str, selector: str) -> list[dict]:
    query = urllib.parse.urlencode({"match[]": selector})
    with urllib.request.urlopen(f"{metrics_url}/api/v1/export?{query}") as response:
        return [json.loads(line) for line in response.read().splitlines() if line.strip()]


async def produce_raw(kafka_url: str, topic: str, key: bytes, value: bytes) -> None:
    """Write a record straight into a topic, bypassing the bridge's validation."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers(kafka_url))
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def deadletters(kafka_url: str, topic: str, timeout_s: float = 20) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers(kafka_url),
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=int(timeout_s * 1000))
        return [json.loads(r.value) for records in batches.values() for r in records]
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_low_voltage_area_alerts_end_to_end(tmp_path: Path, mosquitto_url: str, kafka_url: str,
                                            metrics_url: str) -> None:
    receiver = WebhookReceiver()
    overrides = base_config(tmp_path, mosquitto_url, kafka_url, metrics_url, "e2e")
    overrides["alerts"]["webhooks"] = [{"url": receiver.url}]
    overrides.setdefault("detectors", {})["forecast"] = {"enabled": True}  # opt-in forecasting
    config = write_config(tmp_path / "gridwatch.yaml", overrides)
    settings = load_settings(config)
    prefix = settings.mqtt.topic_prefix
    worker = spawn(config, "worker", "--stats-file", str(tmp_path / "worker.json"),
                   log=tmp_path / "worker.log")
    bridge = spawn(config, "bridge", "--stats-file", str(tmp_path / "bridge.json"),
                   log=tmp_path / "bridge.log")

    async def scenario() -> dict:
        await receiver.start()
        stop_dispatch = asyncio.Event()
        stats: dict = {}
        dispatcher = asyncio.create_task(run_dispatcher(settings, stop_dispatch, stats))
        try:
            await asyncio.to_thread(wait_for, lambda: read_stats(tmp_path / "bridge.json")
                                    .get("connected"), 60, "the bridge to connect")
            messages = []
            for step in range(8):  # two hours of 15-minute intervals
                ts = T0 + 900 * step
                for area, volts in ((LOW, [185.0] * 8 + [200.0] * 2), (HEALTHY, [221.0] * 10)):
                    payload = json.dumps(batch(area, "F01", ts, volts)).encode()
                    messages.append((f"{prefix}/{area}/C-{area}/readings", payload))
            messages.append((f"{prefix}/{HEALTHY}/C-{HEALTHY}/readings", b"{not json"))
            await asyncio.to_thread(publish, mosquitto_url, messages)
            await produce_raw(kafka_url, settings.kafka.readings_topic, HEALTHY.encode(),
                              b'{"schema": "gridwatch.batch.v1", "readings": "not a list"}')
            await asyncio.to_thread(wait_for, lambda: receiver.received, 120,
                                    "an alert at the webhook receiver")
            await asyncio.to_thread(wait_for, lambda: read_stats(tmp_path / "worker.json")
                                    .get("readings_processed", 0) >= 16 * 11, 60,
                                    "the worker to process every reading")
            await asyncio.sleep(2)  # would-be alerts for the healthy area have time to arrive
            return stats
        finally:
            stop_dispatch.set()
            await dispatcher
            await receiver.stop()

    try:
        stats = asyncio.run(scenario())
    finally:
        stop(bridge)
        stop(worker)
    for name in ("bridge", "worker"):
        print((tmp_path / f"{name}.log").read_text()[-3000:])

    alerts = [alert for notification in receiver.received for alert in notification["alerts"]]
    assert {a["entity"] for a in alerts} == {LOW}, receiver.received
    assert {a["kind"] for a in alerts} == {"low_voltage_zone"}
    assert stats.get("alerts_delivered", 0) >= 1

    rates = metric_series(metrics_url, f'{{__name__="gridwatch_area_voltage_qualification_rate",'
                                       f'area="{LOW}"}}')
    assert rates, "the low-voltage area's KPI was not found in VictoriaMetrics"
    assert min(rates[0]["values"]) < 0.5
    healthy = metric_series(metrics_url, f'{{__name__="gridwatch_area_voltage_qualification_rate",'
                                         f'area="{HEALTHY}"}}')
    assert healthy and min(healthy[0]["values"]) == 1.0

    forecast = metric_series(metrics_url, f'{{__name__="gridwatch_forecast_load",'
                                          f'area="{HEALTHY}"}}')
    assert forecast and forecast[0]["values"][0] > 0, "the forecaster's hourly load is missing"

    dead = asyncio.run(deadletters(kafka_url, settings.kafka.deadletter_topic))
    assert any("not JSON" in d["reason"] and d["mqtt_topic"].endswith("/readings") for d in dead)
    assert any(d["reason"].startswith("worker:") and d["record"]["readings"] == "not a list"
               for d in dead)
