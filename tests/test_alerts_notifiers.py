"""Notifiers against real local receivers: signed webhooks, chat robots, retries, dead letters."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gridwatch.alerts.delivery import Deliverer
from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.notification import Notification, render_text
from gridwatch.alerts.notifiers.chat import ChatNotifier
from gridwatch.alerts.notifiers.email import EmailNotifier
from gridwatch.alerts.notifiers.webhook import WebhookNotifier
from gridwatch.alerts.sink import WebhookSink
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.config import SmtpSettings
from gridwatch.devstack.stack import free_port

T0 = 1_767_571_200.0


def notification() -> Notification:
    alert = alert_from_finding({
        "kind": "theft_bypass", "entity": "F01-A01-M001", "entity_type": "meter",
        "area": "F01-A01", "feeder": "F01", "started_at": T0, "at": T0 + 900,
        "severity": "critical", "reason": "night consumption 8% of peers",
        "estimated_loss_kwh_per_day": 12.5}, received_at=T0)
    return Notification(id="ntf-1", receiver="north", integration="north/chats[0]",
                        group_key='route{area="F01-A01"}', group_labels={"area": "F01-A01"},
                        firing=[alert], resolved=[], sent_at=T0 + 901)


class ChatRobot:
    """A WeCom/DingTalk-like robot endpoint: answers errcode 0, or what it is told."""

    def __init__(self, errcode: int = 0) -> None:
        self.errcode, self.requests = errcode, []
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((str(request.url), await request.json()))
        return web.json_response({"errcode": self.errcode, "errmsg": "x"})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/robot/send", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/robot/send?access_token=t"

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def test_chat_robots_get_markdown_and_dingtalk_requests_are_signed() -> None:
    async def scenario() -> None:
        robot = ChatRobot()
        url = await robot.start()
        async with aiohttp.ClientSession() as session:
            await ChatNotifier(session, url, "wecom", "", 5).send(notification())
            await ChatNotifier(session, url, "dingtalk", "SECkey", 5).send(notification())
        await robot.stop()
        (wecom_url, wecom), (ding_url, ding) = robot.requests
        assert wecom["msgtype"] == "markdown"
        text = wecom["markdown"]["content"]
        assert text.startswith("### [GridWatch FIRING] 1 firing: area=F01-A01")
        assert "**CRITICAL theft_bypass on F01-A01-M001 (F01 / F01-A01 / F01-A01-M001)**" in text
        assert "estimated loss 12.5 kWh/day" in text
        assert ding["markdown"]["title"].startswith("[GridWatch FIRING]")
        query = parse_qs(urlparse(ding_url).query)
        stamp = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(b"SECkey", f"{stamp}\nSECkey".encode(),
                                             hashlib.sha256).digest()).decode()
        assert query["sign"] == [expected] and query["access_token"] == ["t"]
        assert "sign" not in parse_qs(urlparse(wecom_url).query)

    asyncio.run(scenario())


def test_retries_with_backoff_then_a_dead_letter_and_no_retry_when_refused() -> None:
    async def scenario() -> dict[str, Any]:
        store = SqliteAlertStore(":memory:")
        stats: dict[str, Any] = {}
        deliverer = Deliverer(store, retries=2, backoff_s=0.01, backoff_max_s=0.02, stats=stats)
        robot, wrong_key, flaky = ChatRobot(errcode=310000), WebhookSink(secret="right"), \
            WebhookSink(fail_with=502)
        robot_url, wrong_url, flaky_url = (await robot.start(), await wrong_key.start(),
                                           await flaky.start())
        async with aiohttp.ClientSession() as session:
            assert not await deliverer.deliver(ChatNotifier(session, robot_url, "wecom", "", 5),
                                               notification())
            assert not await deliverer.deliver(
                WebhookNotifier(session, wrong_url, "wrong", 5), notification())
            assert not await deliverer.deliver(WebhookNotifier(session, flaky_url, "", 5),
                                               notification())
            flaky.fail_with = 0
            assert await deliverer.deliver(WebhookNotifier(session, flaky_url, "", 5),
                                           notification())
        for server in (robot, wrong_key, flaky):
            await server.stop()
        letters = [(d.attempts, d.error.split(":")[0]) for d in store.delivery_deadletters()]
        assert letters == [(3, "HTTP 502 from receiver"), (1, "HTTP 401 from receiver"),
                           (3, "chat robot refused the message")]
        assert len(robot.requests) == 3 and wrong_key.attempts == 1 and flaky.attempts == 4
        assert json.loads(json.dumps(store.delivery_deadletters()[0].payload))["id"] == "ntf-1"
        return stats

    stats = asyncio.run(scenario())
    assert stats["delivery_failures"] == 3 and stats["notifications_sent"] == 1
    assert stats["delivery_retries"] == 4


def test_signed_webhook_verifies_with_the_shared_secret() -> None:
    async def scenario() -> None:
        sink = WebhookSink(secret="k3y")
        url = await sink.start()
        async with aiohttp.ClientSession() as session:
            await WebhookNotifier(session, url, "k3y", 5).send(notification())
        await sink.stop()
        (item,) = sink.received
        assert item.signature_ok is True
        assert item.headers["Idempotency-Key"] == "ntf-1"
        assert item.body["version"] == "gridwatch.notification.v1"
        assert item.body["alerts"][0]["estimated_loss_kwh_per_day"] == 12.5

    asyncio.run(scenario())


def test_email_text_names_place_time_reason_and_work_order() -> None:
    text = render_text(notification())
    assert "CRITICAL theft_bypass on F01-A01-M001 (F01 / F01-A01 / F01-A01-M001)" in text
    assert "since 2026-01-05 00:00 UTC, last seen 2026-01-05 00:15 UTC" in text
    assert "night consumption 8% of peers" in text
    assert "work order new" in text


class AuthMailBox:
    """A real aiosmtpd server that wants a login (AUTH PLAIN without TLS, test only)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port(),
                                     authenticator=self.authenticate, auth_required=True,
                                     auth_require_tls=False)

    @staticmethod
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"gw", b"pw")
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_and_a_refused_login_is_not_retried() -> None:
    mailbox = AuthMailBox()
    mailbox.controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=mailbox.controller.port, username="gw",
                            password="pw", sender="gridwatch@example.com")
        asyncio.run(EmailNotifier(smtp, ["north@example.com"]).send(notification()))
        smtp.password = "wrong"
        store = SqliteAlertStore(":memory:")
        deliverer = Deliverer(store, retries=3, backoff_s=0.01, backoff_max_s=0.01, stats={})
        ok = asyncio.run(deliverer.deliver(EmailNotifier(smtp, ["north@example.com"]),
                                           notification()))
    finally:
        mailbox.controller.stop()
    assert len(mailbox.messages) == 1 and b"Message-ID: <ntf-1@gridwatch>" in mailbox.messages[0]
    assert not ok
    assert [(d.attempts, d.error) for d in store.delivery_deadletters()] == [
        (1, "SMTP login refused (code 535)")]
