"""One notification to one integration: attempts with backoff within a retry window.

Why here and not in each notifier: every channel needs the same patience
(exponential backoff up to a ceiling, no retry for a permanent refusal,
at most ``retry_window_s`` of attempts in a row) and the same way of
reporting a window that ended without success: a dead-letter row in the
store that an operator can inspect with `gridwatch alerts deadletters`.
That row is a record, not the end of the news: the engine keeps what the
integration is owed and replays it after a backoff until it is delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from .notification import Notification
from .notifiers.base import DeliveryError, Notifier
from .store import AlertStore, DeliveryDeadLetter

log = logging.getLogger(__name__)


class Deliverer:
    """Retries one integration's notification; never raises, returns success.

    ``alerts_delivered`` counts each alert state (firing, resolved) once, on its
    first successful delivery to any receiver; ``notifications_sent`` counts
    every successful delivery.
    """

    def __init__(self, store: AlertStore, retries: int, backoff_s: float, backoff_max_s: float,
                 stats: dict[str, Any], window_s: float = float("inf")) -> None:
        self.store, self.retries = store, retries
        self.backoff_s, self.backoff_max_s, self.window_s = backoff_s, backoff_max_s, window_s
        self.stats = stats
        self._delivered: set[tuple[str, str]] = set()

    async def deliver(self, notifier: Notifier, notification: Notification) -> bool:
        attempts, delay, error = 0, self.backoff_s, ""
        started = time.monotonic()
        while True:
            attempts += 1
            try:
                await notifier.send(notification)
            except DeliveryError as exc:
                error = str(exc)
                if (exc.permanent or attempts > self.retries
                        or time.monotonic() - started + delay > self.window_s):
                    break
                self.stats["delivery_retries"] = self.stats.get("delivery_retries", 0) + 1
                log.info("delivery to %s failed (attempt %d): %s; retrying in %.2fs",
                         notification.integration, attempts, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
            except Exception as exc:  # a notifier bug must still leave a dead-letter record
                log.exception("notifier %s failed unexpectedly", notification.integration)
                error = f"unexpected {type(exc).__name__}: {exc}"
                break
            else:
                self.stats["notifications_sent"] = self.stats.get("notifications_sent", 0) + 1
                news = {(a.id, a.status) for a in notification.firing + notification.resolved}
                self.stats["alerts_delivered"] = (self.stats.get("alerts_delivered", 0)
                                                  + len(news - self._delivered))
                self._delivered |= news
                return True
        log.warning("delivery to %s failed %d times (%s); kept, to be replayed",
                    notification.integration, attempts, error)
        self.stats["delivery_failures"] = self.stats.get("delivery_failures", 0) + 1
        self.store.add_delivery_deadletter(DeliveryDeadLetter(
            integration=notification.integration, group_key=notification.group_key,
            at=time.time(), attempts=attempts, error=error, payload=notification.payload()))
        return False
