"""Alerts on an MQTT topic, for field terminals and the control-room wall.

One paho client per dispatcher, connected in its own network thread with
automatic reconnect; each publish is QoS 1 and waits for the broker's
PUBACK (in a worker thread), so "delivered" means the broker has it.
"""

from __future__ import annotations

import asyncio
import json
import threading

import paho.mqtt.client as mqtt

from ...clients.mqtt import broker_address, configure
from ...config import MqttSettings
from ..notification import Notification
from .base import DeliveryError


class MqttPublisher:
    """A lazily connected, shared MQTT client for every MQTT integration."""

    def __init__(self, settings: MqttSettings, client_id: str, timeout_s: float = 5.0) -> None:
        self.settings, self.client_id, self.timeout_s = settings, client_id, timeout_s
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object,
                    reason: mqtt.ReasonCode, properties: object) -> None:
        if not reason.is_failure:
            self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: mqtt.ReasonCode, properties: object) -> None:
        self._connected.clear()

    def _ensure_client(self) -> mqtt.Client:
        with self._lock:
            if self._client is None:
                client = configure(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                               client_id=self.client_id), self.settings)
                client.on_connect = self._on_connect
                client.on_disconnect = self._on_disconnect
                client.reconnect_delay_set(int(max(1, self.settings.reconnect_min_s)),
                                           int(max(1, self.settings.reconnect_max_s)))
                client.connect_async(*broker_address(self.settings),
                                     keepalive=self.settings.keepalive_s)
                client.loop_start()
                self._client = client
            return self._client

    def publish_blocking(self, topic: str, payload: bytes) -> None:
        client = self._ensure_client()
        if not self._connected.wait(self.timeout_s):
            raise DeliveryError(f"MQTT broker {self.settings.url} not reachable")
        info = client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise DeliveryError(f"MQTT publish failed: {mqtt.error_string(info.rc)}")
        info.wait_for_publish(self.timeout_s)
        if not info.is_published():
            raise DeliveryError("MQTT broker did not acknowledge the publish in time")

    async def publish(self, topic: str, payload: bytes) -> None:
        await asyncio.to_thread(self.publish_blocking, topic, payload)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client.loop_stop()
                self._client = None


class MqttNotifier:
    def __init__(self, publisher: MqttPublisher, topic: str) -> None:
        self.publisher, self.topic = publisher, topic

    async def send(self, notification: Notification) -> None:
        try:
            await self.publisher.publish(self.topic, json.dumps(notification.payload()).encode())
        except (OSError, RuntimeError, ValueError) as exc:
            if isinstance(exc, DeliveryError):
                raise
            raise DeliveryError(f"MQTT {type(exc).__name__}: {exc}") from exc
