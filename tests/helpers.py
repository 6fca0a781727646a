"""Shared building blocks for tests: a webhook receiver; configs and child processes are in
`gridwatch.devstack.processes` (the benchmarks use them too)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gridwatch.devstack.stack import free_port


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
