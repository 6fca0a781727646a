"""Notifiers: one module per channel, all behind `Notifier.send(notification)`.

`build_notifier` maps a policy `Integration` to its notifier; retries,
backoff and dead-letter records are the caller's (`gridwatch.alerts.delivery`),
so each notifier only knows how to make one attempt.
"""

from __future__ import annotations

import aiohttp

from ...config import SmtpSettings
from ..policy import Integration
from .base import DeliveryError, Notifier
from .chat import ChatNotifier
from .email import EmailNotifier
from .mqtt import MqttNotifier, MqttPublisher
from .webhook import WebhookNotifier

__all__ = ["DeliveryError", "Notifier", "build_notifier"]


def build_notifier(integration: Integration, session: aiohttp.ClientSession,
                   smtp: SmtpSettings, mqtt: MqttPublisher) -> Notifier:
    if integration.type == "webhook":
        return WebhookNotifier(session, integration.url, integration.secret,
                               integration.timeout_s)
    if integration.type == "chat":
        return ChatNotifier(session, integration.url, integration.style, integration.secret,
                            integration.timeout_s)
    if integration.type == "email":
        return EmailNotifier(smtp, integration.to)
    return MqttNotifier(mqtt, integration.topic)
