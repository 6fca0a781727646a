"""Markdown chat robots of the kind WeCom (企业微信) and DingTalk (钉钉) groups accept.

Both take ``{"msgtype": "markdown", ...}`` and answer HTTP 200 with
``{"errcode": 0}`` on success and a non-zero errcode otherwise, so the body,
not only the status, decides whether the message arrived. DingTalk robots
with "signature" security want ``timestamp`` and ``sign`` query parameters
(HMAC-SHA256 of ``timestamp\\nsecret`` keyed by the secret, base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from ..notification import Notification, render_markdown
from .base import DeliveryError
from .webhook import post_json


def chat_body(style: str, notification: Notification) -> dict[str, Any]:
    text = render_markdown(notification)
    if style == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": notification.title(), "text": text}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def dingtalk_signed_url(url: str, secret: str, now_ms: int) -> str:
    string_to_sign = f"{now_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={now_ms}&sign={sign}"


class ChatNotifier:
    def __init__(self, session: aiohttp.ClientSession, url: str, style: str, secret: str,
                 timeout_s: float) -> None:
        self.session, self.url, self.style = session, url, style
        self.secret, self.timeout_s = secret, timeout_s

    async def send(self, notification: Notification) -> None:
        url = self.url
        if self.style == "dingtalk" and self.secret:
            url = dingtalk_signed_url(url, self.secret, int(time.time() * 1000))
        body = json.dumps(chat_body(self.style, notification), ensure_ascii=False).encode()
        text = await post_json(self.session, url, body,
                               {"Content-Type": "application/json"}, self.timeout_s)
        try:
            answer = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeliveryError(f"chat robot answered with non-JSON: {text[:80]!r}") from exc
        errcode = answer.get("errcode", 0) if isinstance(answer, dict) else None
        if errcode != 0:
            raise DeliveryError(f"chat robot refused the message: {text[:200]}")
