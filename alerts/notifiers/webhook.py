"""JSON webhook, signed so the receiver can tell GridWatch from an impostor.

Headers: ``X-GridWatch-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + body>``
(only with a secret), ``X-GridWatch-Timestamp`` (epoch seconds, lets the
receiver refuse replays) and ``Idempotency-Key`` (the notification id, lets
it drop a second delivery of the same news after a dispatcher crash).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp

from ..notification import Notification
from .base import DeliveryError

RETRYABLE_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a receiver recomputes to verify a delivery.

    >>> sign("k", "1700000000", b"{}")[:15]
    'sha256=c6ef4734'
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


async def post_json(session: aiohttp.ClientSession, url: str, body: bytes,
                    headers: dict[str, str], timeout_s: float) -> str:
    """POST `body`; return the response text, or raise DeliveryError saying what failed."""
    try:
        async with session.post(url, data=body, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            text = await response.text()
            if response.status >= 300:
                permanent = response.status < 500 and response.status not in RETRYABLE_STATUS
                raise DeliveryError(f"HTTP {response.status} from receiver", permanent)
            return text
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


class WebhookNotifier:
    def __init__(self, session: aiohttp.ClientSession, url: str, secret: str,
                 timeout_s: float) -> None:
        self.session, self.url, self.secret, self.timeout_s = session, url, secret, timeout_s

    async def send(self, notification: Notification) -> None:
        body = json.dumps(notification.payload()).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-GridWatch-Timestamp": timestamp,
                   "Idempotency-Key": notification.id}
        if self.secret:
            headers["X-GridWatch-Signature"] = sign(self.secret, timestamp, body)
        await post_json(self.session, self.url, body, headers, self.timeout_s)
