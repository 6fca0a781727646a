"""The one method every channel implements, and how a failed attempt is reported."""

from __future__ import annotations

from typing import Protocol

from ..notification import Notification


class DeliveryError(RuntimeError):
    """One delivery attempt failed; `permanent` means retrying cannot help (e.g. HTTP 400)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Notifier(Protocol):
    async def send(self, notification: Notification) -> None:
        """Make one delivery attempt; raise DeliveryError when it did not arrive."""
