"""The local alert receiver `gridwatch up` delivers to when no receiver is configured.

Why: a first run with no webhook, mail or chat set up used to raise alerts
that reached nobody (``delivered 0``), so a new user could not tell whether
notification works at all. `up` starts the verifying `WebhookSink` on a free
local port, points ``alerts.webhooks`` at it and counts what arrives, per
problem kind, on its summary. A configured receiver (``alerts.webhooks`` or
an ``alerts.policy_file``) is left alone: the run then notifies it instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..alerts.sink import Received, WebhookSink
from ..config import Settings, WebhookReceiver


def needs_local_receiver(settings: Settings) -> bool:
    """True when the configuration names no webhook and no alert policy of its own."""
    return not settings.alerts.webhooks and not settings.alerts.policy_file


@dataclass
class LocalReceiver:
    """A `WebhookSink` plus the tallies the summary shows.

    ``kinds`` counts distinct alerts per problem kind (an alert notified
    again, or as resolved, is not counted twice).
    """

    sink: WebhookSink = field(default_factory=WebhookSink)
    notifications: int = 0
    kinds: Counter = field(default_factory=Counter)
    _seen: set[str] = field(default_factory=set)

    def count(self, item: Received) -> None:
        self.notifications += 1
        for alert in item.body.get("alerts", []):
            if alert.get("id") not in self._seen:
                self._seen.add(alert.get("id"))
                self.kinds[str(alert.get("kind"))] += 1

    async def start(self, settings: Settings) -> str:
        """Listen on a free local port and make it the default receiver's webhook."""
        self.sink.on_receive = self.count
        url = await self.sink.start()
        settings.alerts.webhooks = [WebhookReceiver(url=url)]
        return url

    async def stop(self) -> None:
        await self.sink.stop()
