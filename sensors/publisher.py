"""Publishing concentrator batches to MQTT, paced to simulated time.

Why paced by ``sent_at``: a concentrator uploads a while after each interval
ends; replaying that rhythm (accelerated by ``speed``) is what makes the live
stream look like a real one to the bridge, including late and duplicated
uploads. Publishing is QoS 1 and waits for every acknowledgement before
returning, so a count returned here is a count the broker accepted (apart
from ``unconfirmed`` ones sent just as the connection dropped, which paho
resends on reconnect). While the broker is away, publishing waits for the
reconnection rather than failing.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Iterable

import paho.mqtt.client as mqtt

from ..clients.mqtt import broker_address, configure
from ..config import MqttSettings, Settings
from ..vocabulary.schema import Batch
from .malformed import corrupt
from .offline import scenario_run
from .scenarios import load_scenario
from .simulator import Simulator
from .stream import iter_batches

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0
RECONNECT_WAIT_S = 60.0
MAX_INFLIGHT = 200


def readings_topic(prefix: str, batch: Batch) -> str:
    """``<prefix>/<area>/<concentrator>/readings``, the topic the bridge subscribes to."""
    return f"{prefix}/{batch.area}/{batch.concentrator}/readings"


class MqttPublisher:
    """A connected paho-mqtt 2.x client publishing at QoS 1 from a background loop."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.qos = settings.qos
        self.client = configure(mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                            client_id=client_id, clean_session=True), settings)
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.connected = threading.Event()
        self.unconfirmed = 0
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
        host, port = broker_address(settings)
        try:
            self.client.connect(host, port, keepalive=settings.keepalive_s)
        except OSError as exc:
            raise ConnectionError(f"cannot connect to MQTT broker {settings.url}: {exc}") from exc
        self.client.loop_start()
        if not self.connected.wait(CONNECT_TIMEOUT_S):
            self.client.loop_stop()
            raise ConnectionError(f"MQTT broker {settings.url} did not accept the connection "
                                  f"within {CONNECT_TIMEOUT_S:.0f} s")
        self.pending: list[mqtt.MQTTMessageInfo] = []

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        if not reason.is_failure:
            self.connected.set()
        else:
            log.error("MQTT connection refused: %s", reason)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: mqtt.ReasonCode, properties: object) -> None:
        self.connected.clear()
        if reason.is_failure:
            log.warning("MQTT connection lost (%s); paho reconnects with backoff", reason)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at the configured QoS, waiting out a broker restart first."""
        if not self.connected.wait(RECONNECT_WAIT_S):
            raise ConnectionError(f"MQTT broker unreachable for {RECONNECT_WAIT_S:.0f} s")
        info = self.client.publish(topic, payload, qos=self.qos)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            raise ConnectionError(f"MQTT publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.pending.append(info)
        if len(self.pending) >= MAX_INFLIGHT:
            self.flush()

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until the broker acknowledged everything published so far."""
        deadline = time.monotonic() + timeout_s
        for info in self.pending:
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                # lost the connection as it was sent: paho keeps it and resends on reconnect
                self.unconfirmed += 1
                continue
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise TimeoutError(f"MQTT broker did not acknowledge a message within "
                                   f"{timeout_s:.0f} s")
        self.pending.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.disconnect()
            self.client.loop_stop()


class PacedPublisher:
    """Publishes batches when their simulated send time comes, with optional garbage.

    ``bad_rate`` is the expected fraction of malformed messages among all
    published ones: after each good batch, malformed copies follow while a coin
    with that probability comes up heads (a geometric count, mean
    bad_rate / (1 - bad_rate) per good batch).
    """

    def __init__(self, sink: MqttPublisher, topic_prefix: str, speed: float, bad_rate: float,
                 seed: int, stop_event: threading.Event | None, deadline: float | None,
                 not_before_wall_clock: bool = False) -> None:
        if not 0.0 <= bad_rate < 1.0:
            raise ValueError(f"bad_rate must be in [0, 1), got {bad_rate}")
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.sink, self.prefix, self.speed, self.bad_rate = sink, topic_prefix, speed, bad_rate
        self.rng = random.Random(seed)
        self.stop_event = stop_event or threading.Event()
        self.deadline = deadline
        self.not_before_wall_clock = not_before_wall_clock
        self.sim_origin: float | None = None
        self.wall_origin = 0.0
        self.sent_until = 0.0
        self.counts = {"batches_published": 0, "readings_published": 0, "bad_published": 0}

    def stopped(self) -> bool:
        return self.stop_event.is_set() or (self.deadline is not None
                                            and time.monotonic() >= self.deadline)

    def _wait_until(self, sent_at: float) -> bool:
        """Sleep until the simulated ``sent_at`` is due; False if stopped meanwhile.

        With ``not_before_wall_clock``, a batch is also never sent before its
        ``sent_at`` has come on the wall clock: a stream back-dated to end at
        "now" is replayed at ``speed`` and then goes on at the real pace.
        """
        if self.sim_origin is None:
            self.sim_origin, self.wall_origin = sent_at, time.monotonic()
        due = self.wall_origin + (sent_at - self.sim_origin) / self.speed
        while True:
            if self.stopped():
                return False
            remaining = due - time.monotonic()
            if self.not_before_wall_clock:
                remaining = max(remaining, sent_at - time.time())
            if remaining <= 0:
                return True
            wake = min(remaining, 0.2)
            if self.deadline is not None:
                wake = min(wake, max(self.deadline - time.monotonic(), 0.0))
            self.stop_event.wait(wake)

    def publish_all(self, batches: Iterable[Batch]) -> bool:
        """Publish in order; False once stopped (by the event or the deadline)."""
        for batch in batches:
            if not self._wait_until(batch.sent_at):
                return False
            topic = readings_topic(self.prefix, batch)
            self.sink.publish(topic, batch.to_json())
            self.sent_until = batch.sent_at
            self.counts["batches_published"] += 1
            self.counts["readings_published"] += len(batch.readings)
            while self.bad_rate and self.rng.random() < self.bad_rate:
                _, payload = corrupt(batch, self.rng)
                self.sink.publish(topic, payload)
                self.counts["bad_published"] += 1
        return True


def history_start(history_h: float, interval_s: int, now: float) -> float:
    """The start of a stream whose ``history_h`` hours end at ``now`` (on an interval boundary).

    >>> history_start(24.0, 900, 1_000_000.0) == 1_000_000.0 - 1_000_000.0 % 900 - 86_400
    True
    """
    return now - now % interval_s - round(history_h * 3600 / interval_s) * interval_s


def run_live(settings: Settings, duration_s: float | None = None, bad_rate: float = 0.0,
             stop_event: threading.Event | None = None,
             history_h: float = 0.0) -> dict[str, float]:
    """Publish the simulated grid of ``settings.simulator`` to ``settings.mqtt`` until stopped.

    The grid is the configured one (with one low-voltage area), or, when
    ``simulator.scenario`` names a scenario file, that scenario's grid and
    problems for its number of days (labels: `gridwatch simulate --out`).
    With ``history_h`` > 0 the stream starts that many hours before now
    (instead of at ``simulator.start`` or the scenario's start), is replayed
    at ``simulator.speed`` and then follows the wall clock, so its readings
    are stamped with the recent past and present.
    Runs until ``duration_s`` wall seconds have passed, ``stop_event`` is set or
    a scenario ends (with none of these, forever). Returns the counts of
    published batches, readings and malformed messages, plus the simulated
    span covered. A wrong scenario file raises `ScenarioError`.
    """
    sim_settings = settings.simulator
    days: int | None = None
    scenario = load_scenario(sim_settings.scenario) if sim_settings.scenario else None
    interval_s = sim_settings.interval_s if scenario is None else scenario.interval_s
    start = history_start(history_h, interval_s, time.time()) if history_h > 0 else None
    if scenario is not None:
        if start is not None:
            scenario = dataclasses.replace(scenario, start=start)
        run = scenario_run(scenario, sim_settings.seed)
        simulator, days = run.simulator, run.days
    else:
        simulator = Simulator.from_settings(sim_settings, start)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    client_id = f"gridwatch-sim-{sim_settings.seed}-{random.getrandbits(32):08x}"
    sink = MqttPublisher(settings.mqtt, client_id)
    pacer = PacedPublisher(sink, settings.mqtt.topic_prefix, sim_settings.speed, bad_rate,
                           sim_settings.seed, stop_event, deadline,
                           not_before_wall_clock=history_h > 0)
    started = time.monotonic()
    last_ts = simulator.start
    try:
        for day in simulator.days(days):
            more = pacer.publish_all(iter_batches(day.rows))
            if not more:
                break
            last_ts = float(day.readings.ts[-1])
    finally:
        sink.close()
    result: dict[str, float] = dict(pacer.counts)
    result["unconfirmed"] = sink.unconfirmed
    result["simulated_days_completed"] = (last_ts - simulator.start) / 86_400.0
    result["sent_until"] = pacer.sent_until
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result
