"""The work-order page and the report in a real browser: Debian chromium driven by Playwright.

The API server runs as `gridwatch alerts serve` over a real SQLite store
holding alerts from a simulated run, reading charts from a real
VictoriaMetrics; the browser is the machine's own chromium (Playwright's
browser download is never used). Screenshots are kept as artifacts in
``$GRIDWATCH_TEST_ARTIFACTS`` (default: the test's temporary directory).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from gridwatch.alerts.access import create_token
from gridwatch.alerts.links import order_path
from gridwatch.alerts.model import Alert
from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.devstack.processes import spawn, stop, wait_for, write_config
from gridwatch.devstack.stack import free_port, http_ok
from tests.views_data import alerts_of, fill_store, write_metrics

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GRIDWATCH_TEST_ARTIFACTS", tmp_path / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _pick(alerts: list[Alert], team: str) -> Alert:
    """An area alert of `team` whose chart has readings: a low-voltage zone if there is one."""
    mine = [a for a in alerts if a.team == team and a.area]
    for kind in ("low_voltage_zone", "theft_bypass", "transformer_overload"):
        for alert in mine:
            if alert.kind == kind:
                return alert
    return mine[0]


def _audit_actions(page: Page) -> list[str]:
    return page.locator("#audit li .action").all_inner_texts()


def test_inspector_acknowledges_comments_and_closes_a_work_order(
        tmp_path: Path, metrics_url: str, browser: Browser, artifacts: Path) -> None:
    data = write_metrics(metrics_url)
    store_path = tmp_path / "alerts.sqlite"
    store = fill_store(store_path, data)
    token = create_token(store, "north-inspector", "inspector", "north")
    alerts = [store.get_alert(a.id) for a in alerts_of(data)]
    target = _pick([a for a in alerts if a], "north")
    elsewhere = next(a for a in alerts if a and a.team != "north")
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path / "gridwatch.yaml", {
        "metrics": {"url": metrics_url},
        "alerts": {"store_path": str(store_path), "public_url": base,
                   "api": {"host": "127.0.0.1", "port": port}},
        "stack": {"state_dir": str(tmp_path / "state")}})
    server = spawn(config, "alerts", "serve", log=tmp_path / "api.log")
    try:
        wait_for(lambda: http_ok(f"{base}/healthz"), 30, "the alerts API")
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{base}{order_path(target.id)}")
        assert "/ui/login" in page.url
        page.fill("input[name=token]", "gw_wrong")
        page.click("button[type=submit]")
        assert "Unknown token" in page.inner_text("main")
        page.fill("input[name=token]", token)
        page.click("button[type=submit]")
        assert page.url == f"{base}{order_path(target.id)}"
        assert target.kind in page.inner_text("h1")

        polyline = page.locator("svg.chart polyline")
        assert polyline.count() == 1, page.inner_text("figure")
        assert len(polyline.get_attribute("points").split()) >= 10

        page.fill("form[data-action=ack] input[name=note]", "on my way")
        page.click("form[data-action=ack] button")
        assert "Done: ack." in page.inner_text("main")
        page.screenshot(path=str(artifacts / "work-order-acknowledged.png"), full_page=True)
        page.fill("form[data-action=comment] textarea[name=text]", "meter box <b>sealed</b>?")
        page.click("form[data-action=comment] button")
        page.select_option("form[data-action=close] select[name=finding]", "confirmed")
        page.fill("form[data-action=close] input[name=note]", "bypass cable removed")
        page.click("form[data-action=close] button")
        assert "Done: close." in page.inner_text("main")
        assert _audit_actions(page) == ["acknowledge", "comment", "close"]
        audit_text = page.inner_text("#audit")
        assert "north-inspector" in audit_text and "meter box <b>sealed</b>?" in audit_text
        assert page.locator("form[data-action=close]").count() == 0
        page.screenshot(path=str(artifacts / "work-order.png"), full_page=True)

        stale = page.request.post(f"{base}{order_path(target.id)}/comment",
                                  form={"text": "forged", "csrf": "guess"})
        assert stale.status == 403
        page.goto(f"{base}/ui/?show=all")
        links = page.locator("main table a").evaluate_all("els => els.map(e => e.href)")
        assert f"{base}{order_path(target.id)}" in links
        assert not any(elsewhere.id in link for link in links)
        page.goto(f"{base}{order_path(elsewhere.id)}")
        assert "No work order" in page.inner_text("main")
        page.screenshot(path=str(artifacts / "work-order-list.png"), full_page=True)
    finally:
        stop(server)
    store = SqliteAlertStore(store_path)
    closed = store.get_alert(target.id)
    assert closed is not None and (closed.work_state, closed.finding) == ("closed", "confirmed")
    assert [e.action for e in store.audit_trail(target.id)] == ["acknowledge", "comment",
                                                                "close"]
    store.close()


def test_report_renders_in_the_browser(tmp_path: Path, metrics_url: str, browser: Browser,
                                       artifacts: Path) -> None:
    data = write_metrics(metrics_url)
    store_path = tmp_path / "alerts.sqlite"
    fill_store(store_path, data).close()
    config = write_config(tmp_path / "gridwatch.yaml", {
        "metrics": {"url": metrics_url}, "alerts": {"store_path": str(store_path)},
        "stack": {"state_dir": str(tmp_path / "state")}})
    out = tmp_path / "report.html"
    month = re.sub(r"-\d\d$", "", _day_label(data.start))
    done = subprocess.run([sys.executable, "-m", "gridwatch", "-c", str(config), "report",
                           "--month", month, "--out", str(out)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(out.as_uri())
    assert month in page.inner_text("h1")
    widths = page.locator("img").evaluate_all("els => els.map(e => e.naturalWidth)")
    assert len(widths) >= 4 and all(w > 0 for w in widths)
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    first_chart = re.search(r'src="data:image/png;base64,([^"]+)"', out.read_text())
    assert first_chart is not None
    (artifacts / "report-trend.png").write_bytes(base64.b64decode(first_chart.group(1)))
    shutil.copy(out, artifacts / "report.html")


def _day_label(epoch: float) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")
