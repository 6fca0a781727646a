"""Shared building blocks for tests: a webhook receiver and an MQTT publisher.

Configs and child processes are in `gridwatch.devstack.processes` (the
benchmarks use them too). Tests import this module one way only:
``from tests.helpers import ...``.
"""

from __future__ import annotations

import json
from typing import Any

import paho.mqtt.client as mqtt
from aiohttp import web

from gridwatch.config import host_port
from gridwatch.devstack.stack import free_port

T0 = 1_767_650_400.0  # 2026-01-05T22:00Z: the evening peak of simulated time


def publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.connect(*host_port(url, 1883))
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


class WebhookReceiver:
    """A real HTTP server on a free port that records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        self.headers.append(dict(request.headers))
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
