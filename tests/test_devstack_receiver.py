"""The local receiver of `gridwatch up`: becomes the default webhook and tallies alert kinds."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from gridwatch.config import Settings, WebhookReceiver
from gridwatch.devstack.receiver import LocalReceiver, needs_local_receiver


def test_a_configured_webhook_or_policy_needs_no_local_receiver() -> None:
    settings = Settings()
    assert needs_local_receiver(settings)
    settings.alerts.policy_file = "policy.yaml"
    assert not needs_local_receiver(settings)
    settings = Settings()
    settings.alerts.webhooks = [WebhookReceiver(url="http://example.invalid/hook")]
    assert not needs_local_receiver(settings)


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_local_receiver_counts_each_alert_once_per_kind_over_http() -> None:
    async def scenario() -> tuple[LocalReceiver, Settings]:
        settings = Settings()
        receiver = LocalReceiver()
        url = await receiver.start(settings)
        try:
            firing = {"alerts": [{"id": "a1", "kind": "outage_area", "status": "firing"},
                                 {"id": "a2", "kind": "phase_loss", "status": "firing"}]}
            resolved = {"alerts": [{"id": "a1", "kind": "outage_area", "status": "resolved"}]}
            for body in (firing, resolved):
                assert await asyncio.to_thread(_post, url, body) == 200
        finally:
            await receiver.stop()
        return receiver, settings

    receiver, settings = asyncio.run(scenario())
    assert [hook.url for hook in settings.alerts.webhooks] == [receiver.sink.url]
    assert receiver.notifications == 2
    assert dict(receiver.kinds) == {"outage_area": 1, "phase_loss": 1}
