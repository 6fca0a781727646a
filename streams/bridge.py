"""MQTT -> Kafka bridge: validate each concentrator batch, key it by area, lose nothing.

Why this shape:
- QoS 1 with a persistent session and *manual* acknowledgement: a message
  is acknowledged to the MQTT broker only after Kafka has confirmed it, so
  a bridge crash makes the broker redeliver instead of dropping readings.
- Validation happens here, once, against the versioned schema and the
  plausibility bounds; a rejected payload is not an error to retry but data
  to keep: it goes to the dead-letter topic with the raw bytes (or, over
  ``bridge.deadletter_max_bytes``, their digest, size and a prefix), the
  MQTT topic and the reason.
- Records are keyed by transformer area, so one area's batches land in one
  partition, in order, at one worker that holds that area's state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ..clients.kafka import client_options
from ..clients.mqtt import broker_address, configure
from ..config import Settings
from ..detectors.redelivery import BATCH_ID_HEADER, batch_id
from ..vocabulary.schema import SchemaError, parse_batch
from .deadletter import deadletter_record
from .plausibility import check_batch
from .stats import write_stats
from .topics import ensure_topics

log = logging.getLogger(__name__)


@dataclass
class BridgeCounters:
    received: int = 0
    batches_forwarded: int = 0
    readings_forwarded: int = 0
    deadletters: int = 0
    kafka_retries: int = 0
    connected: bool = False
    reconnects: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Routed:
    """Where one MQTT message goes: the readings topic or the dead-letter topic."""

    mid: int
    qos: int
    topic: str
    key: bytes
    value: bytes
    readings: int = 0
    dead: bool = False
    batch_id: str = ""      # stable id of the upload (payload digest), so a redelivery is known

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka record headers: the batch id of a forwarded upload."""
        return [(BATCH_ID_HEADER, self.batch_id.encode())] if self.batch_id else []


@dataclass
class MqttKafkaBridge:
    settings: Settings
    stats_path: str | None = None
    counters: BridgeCounters = field(default_factory=BridgeCounters)

    def route(self, mqtt_topic: str, payload: bytes, mid: int = 0, qos: int = 1) -> Routed:
        """Decide where one MQTT message goes, with the reason if it is rejected."""
        kafka = self.settings.kafka
        try:
            if len(payload) > self.settings.bridge.max_payload_bytes:
                raise SchemaError(f"payload of {len(payload)} bytes exceeds bridge."
                                  f"max_payload_bytes={self.settings.bridge.max_payload_bytes}")
            batch = parse_batch(payload)
            topic_area, topic_concentrator = _topic_ids(mqtt_topic, self.settings.mqtt.topic_prefix)
            if (batch.area, batch.concentrator) != (topic_area, topic_concentrator):
                raise SchemaError(f"payload names area {batch.area!r} / concentrator "
                                  f"{batch.concentrator!r} but was published on {mqtt_topic!r}")
            check_batch(batch, self.settings.bridge.plausible)
        except SchemaError as exc:
            return self._dead(mqtt_topic, payload, str(exc), mid, qos)
        except Exception as exc:  # a validator bug must cost one dead letter, not the bridge
            log.exception("validating a payload from %s failed unexpectedly", mqtt_topic)
            return self._dead(mqtt_topic, payload, f"bridge could not validate the payload "
                              f"({type(exc).__name__}: {exc})", mid, qos)
        return Routed(mid, qos, kafka.readings_topic, batch.area.encode(), payload,
                      readings=len(batch.readings), batch_id=batch_id(payload))

    def _dead(self, mqtt_topic: str, payload: bytes, reason: str, mid: int, qos: int) -> Routed:
        record = deadletter_record(reason, mqtt_topic, payload,
                                   self.settings.bridge.deadletter_max_bytes)
        return Routed(mid, qos, self.settings.kafka.deadletter_topic,
                      mqtt_topic.encode("utf-8", "replace")[:1024], record, dead=True)

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_topics(self.settings.kafka)
        producer = AIOKafkaProducer(acks="all", linger_ms=self.settings.bridge.linger_ms,
                                    max_request_size=8_000_000,
                                    **client_options(self.settings.kafka))
        await producer.start()
        queue: asyncio.Queue[mqtt.MQTTMessage] = asyncio.Queue()
        client = self._mqtt_client(asyncio.get_running_loop(), queue)
        try:
            while not stop.is_set():
                messages = await self._next_messages(queue, stop)
                if messages:
                    await self._forward(producer, client, messages, stop)
                write_stats(self.stats_path, self.counters.as_dict())
        finally:
            client.disconnect()
            client.loop_stop()
            await producer.stop()
            write_stats(self.stats_path, self.counters.as_dict())

    def _mqtt_client(self, loop: asyncio.AbstractEventLoop,
                     queue: asyncio.Queue[mqtt.MQTTMessage]) -> mqtt.Client:
        cfg = self.settings.mqtt
        client = configure(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                                       clean_session=False, manual_ack=True), cfg)
        client.reconnect_delay_set(max(1, int(cfg.reconnect_min_s)), int(cfg.reconnect_max_s))
        subscription = f"{cfg.topic_prefix}/+/+/readings"

        def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            if reason.is_failure:
                log.error("MQTT connect refused: %s", reason)
                return
            c.subscribe(subscription, qos=cfg.qos)

        def on_subscribe(c: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                         props: Any) -> None:
            # connected only once subscribed: a message published before that has no
            # subscriber (the persistent session does not exist yet) and is dropped
            self.counters.connected = True
            log.info("bridge subscribed to %s", subscription)

        def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                          props: Any) -> None:
            self.counters.connected = False
            self.counters.reconnects += 1
            log.warning("MQTT disconnected (%s); reconnecting with backoff", reason)

        def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, message)

        client.on_connect, client.on_disconnect = on_connect, on_disconnect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        client.connect_async(*broker_address(cfg), keepalive=cfg.keepalive_s)
        client.loop_start()
        return client

    async def _next_messages(self, queue: asyncio.Queue[mqtt.MQTTMessage],
                             stop: asyncio.Event) -> list[mqtt.MQTTMessage]:
        """Up to ``bridge.batch_max`` messages, waiting at most ``linger_ms`` after the first."""
        try:
            first = await asyncio.wait_for(queue.get(), timeout=0.5)
        except TimeoutError:
            return []
        messages = [first]
        deadline = time.monotonic() + self.settings.bridge.linger_ms / 1000
        while len(messages) < self.settings.bridge.batch_max:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and queue.empty():
                break
            try:
                messages.append(queue.get_nowait() if not queue.empty()
                                else await asyncio.wait_for(queue.get(), timeout=remaining))
            except TimeoutError:
                break
        return messages

    async def _forward(self, producer: AIOKafkaProducer, client: mqtt.Client,
                       messages: list[mqtt.MQTTMessage], stop: asyncio.Event) -> None:
        """Produce a batch, retrying until Kafka has all of it, then acknowledge to MQTT."""
        routed = [self.route(m.topic, m.payload, m.mid, m.qos) for m in messages]
        self.counters.received += len(routed)
        delay = self.settings.mqtt.reconnect_min_s
        while True:
            try:
                futures = [await producer.send(r.topic, value=r.value, key=r.key,
                                               headers=r.headers()) for r in routed]
                await asyncio.gather(*futures)
                break
            except KafkaError as exc:
                self.counters.kafka_retries += 1
                log.warning("Kafka produce failed (%s); retrying in %.1f s", exc, delay)
                if stop.is_set():
                    return  # unacknowledged: the MQTT broker redelivers after restart
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.mqtt.reconnect_max_s)
        for r in routed:
            client.ack(r.mid, r.qos)
            if r.dead:
                self.counters.deadletters += 1
                log.info("dead-lettered a payload from %s", r.key.decode(errors="replace"))
            else:
                self.counters.batches_forwarded += 1
                self.counters.readings_forwarded += r.readings


def _topic_ids(mqtt_topic: str, prefix: str) -> tuple[str, str]:
    """``<prefix>/<area>/<concentrator>/readings`` -> (area, concentrator)."""
    rest = mqtt_topic[len(prefix) + 1:] if mqtt_topic.startswith(prefix + "/") else ""
    parts = rest.split("/")
    if len(parts) != 3 or parts[2] != "readings":
        raise SchemaError(f"MQTT topic {mqtt_topic!r} is not {prefix}/<area>/<concentrator>/"
                          "readings")
    return parts[0], parts[1]
