"""The live publisher against a real Mosquitto: every batch arrives, garbage is rejectable."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from gridwatch.config import Settings
from gridwatch.sensors.publisher import run_live
from gridwatch.vocabulary.schema import SchemaError, parse_batch


@contextlib.contextmanager
def subscribed(mosquitto_url: str, prefix: str) -> Iterator[list[tuple[str, bytes]]]:
    """The (topic, payload) messages a subscriber to ``<prefix>/#`` receives meanwhile."""
    received: list[tuple[str, bytes]] = []
    ready = threading.Event()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"test-sim-live-{time.monotonic_ns()}")
    client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda c, u, msg: received.append((msg.topic, msg.payload))
    url = urlparse(mosquitto_url)
    client.connect(url.hostname, url.port)
    client.loop_start()
    try:
        assert ready.wait(10)
        yield received
    finally:
        client.loop_stop()
        client.disconnect()


def wait_for_count(received: list, total: float) -> None:
    deadline = time.monotonic() + 10
    while len(received) < total and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.integration
def test_run_live_publishes_valid_batches_and_the_requested_garbage(mosquitto_url: str) -> None:
    settings = Settings()
    settings.mqtt.url = mosquitto_url
    settings.simulator.speed = 86_400.0 / 2          # one simulated day every 2 s
    with subscribed(mosquitto_url, settings.mqtt.topic_prefix) as received:
        result = run_live(settings, duration_s=3.0, bad_rate=0.2)
        total = result["batches_published"] + result["bad_published"]
        wait_for_count(received, total)
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


@pytest.mark.integration
def test_run_live_with_history_ends_at_now_and_never_runs_ahead(mosquitto_url: str) -> None:
    """Two back-dated hours are replayed at speed, then the stream waits for the wall clock."""
    settings = Settings()
    settings.mqtt.url = mosquitto_url
    settings.simulator.speed = 86_400.0 / 2
    started = time.time()
    with subscribed(mosquitto_url, settings.mqtt.topic_prefix) as received:
        result = run_live(settings, duration_s=3.0, history_h=2.0)
        wait_for_count(received, result["batches_published"])
    finished = time.time()
    stamps = [r.ts for _, payload in received for r in parse_batch(payload).readings]
    interval = settings.simulator.interval_s
    areas = settings.simulator.feeders * settings.simulator.areas_per_feeder
    assert len(received) == result["batches_published"] >= areas * (2 * 3600 // interval - 1)
    assert min(stamps) >= started - 2 * 3600 - interval
    assert finished - 2 * interval < max(stamps) <= finished
    assert started - 2 * interval < result["sent_until"] <= finished
