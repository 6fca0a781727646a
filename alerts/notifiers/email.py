"""E-mail through an SMTP relay (smtplib in a worker thread, so the event loop never waits)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from ...config import SmtpSettings
from ..notification import Notification, render_text
from .base import DeliveryError


class EmailNotifier:
    def __init__(self, smtp: SmtpSettings, to: list[str]) -> None:
        self.smtp, self.to = smtp, to

    def _message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = notification.title()
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(self.to)
        message["Message-ID"] = f"<{notification.id}@gridwatch>"
        message.set_content(render_text(notification))
        return message

    def _send_blocking(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_s) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.username:
                client.login(self.smtp.username, self.smtp.password)
            client.send_message(message)

    async def send(self, notification: Notification) -> None:
        message = self._message(notification)
        try:
            await asyncio.to_thread(self._send_blocking, message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused every recipient: {exc}", permanent=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused (code {exc.smtp_code})",
                                permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}") from exc
