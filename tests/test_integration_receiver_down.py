"""Integration: a webhook receiver down longer than the retry window still gets every alert.

The fault this guards against: with the receiver down for a minute,
notifications were dead-lettered after their retries and never replayed,
and alerts that fired and resolved meanwhile never reached it at all. Here a
real local HTTP receiver is down (nothing listens on its port) through
several retry windows and a dispatcher restart, then comes back; it must
learn that the standing alert fires and that the short one fired and
resolved, each exactly once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gridwatch.alerts.sink import WebhookSink
from gridwatch.devstack.stack import free_port
from tests.test_alerts_dispatcher import Running, finding, make_settings, produce, wait_until

pytestmark = pytest.mark.integration
T0 = 1.767e9


def test_receiver_down_longer_than_the_retry_window_gets_everything_once(
        tmp_path: Path, kafka_url: str) -> None:
    async def scenario() -> None:
        port = free_port()
        settings = make_settings(tmp_path, kafka_url, "", [f"http://127.0.0.1:{port}/hook"])
        settings.alerts.retry_window_s = 0.3
        settings.alerts.replay_backoff_s = 0.4
        settings.alerts.replay_backoff_max_s = 1.0
        running = Running(settings)
        sink = WebhookSink()
        try:
            await produce(settings, [
                finding("low_voltage_zone", "F01-A01", started=T0),
                finding("transformer_overload", "F01-A02", started=T0),
                finding("transformer_overload", "F01-A02", started=T0, at=T0 + 900,
                        status="resolved"),
            ])
            assert await wait_until(lambda: running.stats["delivery_failures"] >= 2, 15)
            await running.close()  # owed news must survive a restart too
            running = Running(settings)
            await asyncio.sleep(1.5)
            assert running.stats["notifications_sent"] == 0
            await sink.start(port=port)
            received = await sink.wait_for(2, 15)
            await asyncio.sleep(1.5)  # anything more would be a duplicate
            received = list(sink.received)
        finally:
            await running.close()
            await sink.stop()
        told = sorted((a["kind"], a["status"], a["started_at"], a["ended_at"])
                      for r in received for a in r.body["alerts"])
        assert told == [("low_voltage_zone", "firing", T0, None),
                        ("transformer_overload", "resolved", T0, T0 + 900)]

    asyncio.run(scenario())
