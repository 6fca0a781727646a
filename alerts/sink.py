"""A local webhook receiver that verifies signatures and keeps what it received.

Why it ships with the service: whoever integrates GridWatch with a ticketing
system first wants to see exactly what arrives and check their HMAC code
against a known-good verifier (`gridwatch alerts sink --port 9000 --secret
KEY` prints each notification). The tests use the same receiver as the
real HTTP endpoint the dispatcher delivers to; it can be told to fail, to
play a dead or flaky receiver.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .notifiers.webhook import sign


@dataclass
class Received:
    """One POST the sink accepted."""

    at: float
    headers: dict[str, str]
    body: dict[str, Any]
    signature_ok: bool | None


@dataclass
class WebhookSink:
    """An aiohttp app on 127.0.0.1; `fail_with` > 0 makes it answer that HTTP status."""

    secret: str = ""
    fail_with: int = 0
    on_receive: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        raw = await request.read()
        if self.fail_with:
            return web.Response(status=self.fail_with, text="failing on purpose")
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return web.Response(status=400, text="body is not JSON")
        signature_ok = None
        if self.secret:
            expected = sign(self.secret, request.headers.get("X-GridWatch-Timestamp", ""), raw)
            signature_ok = hmac.compare_digest(expected,
                                               request.headers.get("X-GridWatch-Signature", ""))
            if not signature_ok:
                return web.Response(status=401, text="bad signature")
        item = Received(time.time(), dict(request.headers), body, signature_ok)
        self.received.append(item)
        if self.on_receive:
            self.on_receive(item)
        self._arrived.set()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}/hook"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout_s: float) -> list[Received]:
        """Wait until at least `count` notifications arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return list(self.received)
