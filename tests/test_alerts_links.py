"""Notifications link to the work-order page; page sessions lapse and end with their token."""

from __future__ import annotations

from gridwatch.alerts.engine import AlertEngine
from gridwatch.alerts.flapping import FlapDetector
from gridwatch.alerts.links import public_base_url
from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.notification import Notification, render_markdown, render_text
from gridwatch.alerts.policy import parse_policy
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.web.sessions import Sessions
from gridwatch.config import Settings, WebhookReceiver, load_settings

T0 = 1_767_571_200.0


def _notification(public_url: str) -> Notification:
    alert = alert_from_finding({
        "kind": "low_voltage_zone", "entity": "F01-A02", "entity_type": "area",
        "area": "F01-A02", "feeder": "F01", "started_at": T0, "at": T0 + 900}, received_at=T0)
    return Notification(id="ntf-1", receiver="north", integration="north/webhooks[0]",
                        group_key="g", group_labels={"area": "F01-A02"}, firing=[alert],
                        resolved=[], sent_at=T0, public_url=public_url)


def test_payload_text_and_markdown_carry_the_work_order_link() -> None:
    note = _notification("https://grid.example/ops")
    alert_id = note.firing[0].id
    link = f"https://grid.example/ops/ui/orders/{alert_id}"
    assert note.payload()["alerts"][0]["url"] == link
    assert f"open: {link}" in render_text(note)
    assert link in render_markdown(note)
    assert note.payload()["alerts"][0]["id"] == alert_id


def test_without_a_public_url_the_link_is_empty_and_not_printed() -> None:
    note = _notification("")
    assert note.payload()["alerts"][0]["url"] == ""
    assert "open:" not in render_text(note)


def test_public_url_setting_is_checked_and_defaults_to_the_api_address() -> None:
    settings = load_settings(environ={"GRIDWATCH__ALERTS__PUBLIC_URL": "https://x.example/",
                                      "GRIDWATCH__ALERTS__API__PORT": "9000"})
    assert public_base_url(settings) == "https://x.example"
    settings = load_settings(environ={"GRIDWATCH__ALERTS__API__PORT": "9000"})
    assert public_base_url(settings) == "http://127.0.0.1:9000"
    try:
        load_settings(environ={"GRIDWATCH__ALERTS__PUBLIC_URL": "grid.example"})
    except ValueError as exc:
        assert "alerts.public_url" in str(exc) and "http(s) URL" in str(exc)
    else:
        raise AssertionError("a public_url without a scheme was accepted")


def test_sessions_lapse_after_the_ttl_without_use_and_slide_with_use() -> None:
    now = {"t": 0.0}
    sessions = Sessions(ttl_s=100, clock=lambda: now["t"])
    session = sessions.open("digest")
    now["t"] = 90
    assert sessions.find(session.id) is session
    now["t"] = 180
    assert sessions.find(session.id) is session
    now["t"] = 281
    assert sessions.find(session.id) is None
    assert sessions.find(None) is None
    other = sessions.open("digest")
    sessions.close(other.id)
    assert sessions.find(other.id) is None
    assert session.csrf != other.csrf and len(session.id) >= 40


def test_the_engine_puts_the_public_url_into_every_notification() -> None:
    settings = Settings()
    settings.alerts.webhooks = [WebhookReceiver(url="http://127.0.0.1:9/hook")]
    settings.alerts.mqtt_enabled, settings.alerts.group_wait_s = False, 0.0
    store = SqliteAlertStore(":memory:")
    engine = AlertEngine(parse_policy(None, settings), store, FlapDetector(3600, 6),
                         public_url="https://grid.example")
    stored = store.upsert_alerts([_notification("").firing[0]])
    engine.ingest(stored, T0)
    (pending,) = engine.due(T0 + 1)
    assert pending.notification.payload()["alerts"][0]["url"] == \
        f"https://grid.example/ui/orders/{stored[0].id}"
    store.close()
