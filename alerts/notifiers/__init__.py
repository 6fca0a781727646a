"""Notifiers: one module per channel, all behind `Notifier.send(notification)`.

`build_notifier` maps a policy `Integration` to its notifier; retries,
backoff and dead-letter records are the caller's (`gridwatch.alerts.delivery`),
so each notifier only knows how to make one attempt.
"""

from __future__ import annotations

import aiohttp

from gridwatch.alerts.notifiers.base import DeliveryError, Notifier
from gridwatch.alerts.notifiers.chat import ChatNotifier
from gridwatch.alerts.notifiers.email import EmailNotifier
from gridwatch.alerts.notifiers.mqtt import MqttNotifier, MqttPublisher
from gridwatch.alerts.notifiers.webhook import WebhookNotifier
from gridwatch.alerts.policy import Integration
from gridwatch.config import SmtpSettings

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
