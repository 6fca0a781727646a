"""The live publisher against a real Mosquitto: every batch arrives, garbage is rejectable."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from gridwatch.config import Settings
from gridwatch.sensors.publisher import run_live
from gridwatch.vocabulary.schema import SchemaError, parse_batch


@pytest.mark.integration
def test_run_live_publishes_valid_batches_and_the_requested_garbage(mosquitto_url: str) -> None:
    settings = Settings()
    settings.mqtt.url = mosquitto_url
    settings.simulator.speed = 86_400.0 / 2          # one simulated day every 2 s
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id="test-sim-live")
    client.on_connect = lambda c, *_: c.subscribe(f"{settings.mqtt.topic_prefix}/#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda c, u, msg: received.append((msg.topic, msg.payload))
    url = urlparse(mosquitto_url)
    client.connect(url.hostname, url.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        result = run_live(settings, duration_s=3.0, bad_rate=0.2)
        deadline = time.monotonic() + 10
        total = result["batches_published"] + result["bad_published"]
        while len(received) < total and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert result["batches_published"] >= 4 * 96        # four areas, at least one day
    assert result["bad_published"] > 0
    assert len(received) == total
    good = bad = 0
    for topic, payload in received:
        try:
            batch = parse_batch(payload)
        except SchemaError:
            bad += 1
            continue
        good += 1
        assert topic == f"gridwatch/v1/{batch.area}/{batch.concentrator}/readings"
        roles = [r.role for r in batch.readings]
        assert roles.count("area") == 1 and roles.count("customer") >= 15
    assert (good, bad) == (result["batches_published"], result["bad_published"])


def test_run_live_names_an_unreachable_broker() -> None:
    settings = Settings()
    settings.mqtt.url = "mqtt://127.0.0.1:1"          # nothing listens on port 1
    with pytest.raises(ConnectionError, match="cannot connect"):
        run_live(settings, duration_s=1.0, bad_rate=0.0, stop_event=threading.Event())
