"""The work-order HTTP API on a real local port: roles, teams, audit, and schemathesis."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from gridwatch.alerts.access import create_token
from gridwatch.alerts.api import serve_api
from gridwatch.alerts.model import alert_from_finding
from gridwatch.alerts.openapi import openapi_spec
from gridwatch.alerts.sqlite_store import SqliteAlertStore


class ApiServer:
    """The API in a background thread with its own event loop, over a seeded store."""

    def __init__(self, path: Path) -> None:
        self.store = SqliteAlertStore(path)
        self.tokens = {
            "admin": create_token(self.store, "root", "admin"),
            "operator": create_token(self.store, "desk", "operator"),
            "engineer": create_token(self.store, "tuner", "engineer"),
            "north": create_token(self.store, "li", "inspector", "north"),
            "south": create_token(self.store, "zhao", "inspector", "south"),
        }
        self.ids: dict[str, str] = {}
        for team, entity in (("north", "F01-A01-M001"), ("south", "F02-A01-M001")):
            alert = alert_from_finding({
                "kind": "theft_bypass", "entity": entity, "entity_type": "meter",
                "area": entity[:7], "feeder": entity[:3], "started_at": 1.767e9,
                "at": 1.767e9, "severity": "critical"}, received_at=1.767e9)
            alert.team = team
            self.ids[team] = self.store.upsert_alerts([alert])[0].id
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.url = ""

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            def started(url: str) -> None:
                self.url = url
                ready.set()

            self.runner = self.loop.run_until_complete(
                serve_api(self.store, "127.0.0.1", 0, started))
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def call(self, method: str, path: str, who: str | None,
             body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.store.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = ApiServer(tmp_path_factory.mktemp("api") / "alerts.sqlite")
    yield server
    server.close()


def test_inspector_cannot_see_or_touch_another_teams_work_order(api: ApiServer) -> None:
    north, south = api.ids["north"], api.ids["south"]
    status, listed = api.call("GET", "/api/v1/alerts", "north")
    assert status == 200 and [a["id"] for a in listed["alerts"]] == [north]
    assert api.call("GET", f"/api/v1/alerts/{south}", "north")[0] == 404
    for action, body in (("ack", {}), ("assign", {"assignee": "li"}),
                         ("comment", {"text": "mine now"}), ("close", {"finding": "false_alarm"})):
        assert api.call("POST", f"/api/v1/alerts/{south}/{action}", "north", body)[0] == 404
    assert api.call("GET", "/api/v1/alerts?team=south", "north")[0] == 403
    status, trail = api.call("GET", f"/api/v1/alerts/{south}/audit", "admin")
    assert status == 200 and trail["audit"] == []


def test_work_order_lifecycle_is_audited_with_who_and_when(api: ApiServer) -> None:
    north = api.ids["north"]
    assert api.call("POST", f"/api/v1/alerts/{north}/ack", "north", {"note": "on it"})[0] == 200
    assert api.call("POST", f"/api/v1/alerts/{north}/ack", "north", {})[0] == 409
    assert api.call("POST", f"/api/v1/alerts/{north}/assign", "north",
                    {"assignee": "li", "team": "south"})[0] == 403
    assert api.call("POST", f"/api/v1/alerts/{north}/assign", "north",
                    {"assignee": "li"})[0] == 200
    assert api.call("POST", f"/api/v1/alerts/{north}/start", "north")[0] == 200
    assert api.call("POST", f"/api/v1/alerts/{north}/comment", "engineer",
                    {"text": "night profile looks like a bypass"})[0] == 200
    assert api.call("POST", f"/api/v1/alerts/{north}/close", "engineer",
                    {"finding": "confirmed"})[0] == 403
    status, body = api.call("POST", f"/api/v1/alerts/{north}/close", "north",
                            {"finding": "nothing"})
    assert status == 400 and "finding must be one of" in body["error"]
    status, closed = api.call("POST", f"/api/v1/alerts/{north}/close", "north",
                              {"finding": "confirmed", "note": "bypass cable removed"})
    assert status == 200 and closed["work_state"] == "closed"
    assert api.call("POST", f"/api/v1/alerts/{north}/comment", "north", {"text": "x"})[0] == 200
    _, trail = api.call("GET", f"/api/v1/alerts/{north}/audit", "operator")
    assert [(e["actor"], e["action"]) for e in trail["audit"]] == [
        ("li", "acknowledge"), ("li", "assign"), ("li", "start"), ("tuner", "comment"),
        ("li", "close"), ("li", "comment")]
    assert trail["audit"][4]["details"] == {"finding": "confirmed", "note": "bypass cable removed",
                                            "from": "in_progress", "to": "closed"}
    assert all(e["at"] > 1.7e9 for e in trail["audit"])
    status, labels = api.call("GET", "/api/v1/labels", "engineer")
    assert status == 200
    assert [(lb["kind"], lb["entity"], lb["start"]) for lb in labels] == [
        ("theft_bypass", "F01-A01-M001", 1.767e9)]


def test_tokens_and_silences(api: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert api.call("GET", "/api/v1/alerts", None)[0] == 401
    api.tokens["forged"] = "gw_not-a-real-token"
    assert api.call("GET", "/api/v1/alerts", "forged")[0] == 401
    assert api.call("GET", "/api/v1/whoami", "north")[1] == {"name": "li", "role": "inspector",
                                                            "team": "north"}
    assert api.call("POST", "/api/v1/silences", "north",
                    {"matchers": ["area=F01-A01"], "comment": "x"})[0] == 403
    status, body = api.call("POST", "/api/v1/silences", "operator",
                            {"matchers": ['area=~"F01-("'], "comment": "switching"})
    assert status == 400 and "invalid regular expression" in body["error"]
    status, silence = api.call("POST", "/api/v1/silences", "operator",
                               {"matchers": ["feeder=F01"], "duration_s": 600,
                                "comment": "switching"})
    assert status == 201 and silence["author"] == "desk"
    assert silence["ends_at"] - silence["starts_at"] == pytest.approx(600)
    status, listed = api.call("GET", "/api/v1/silences", "north")
    assert [s["id"] for s in listed["silences"]] == [silence["id"]]
    assert api.call("DELETE", f"/api/v1/silences/{silence['id']}", "operator")[0] == 200
    assert api.call("DELETE", f"/api/v1/silences/{silence['id']}", "operator")[0] == 404
    assert api.call("GET", "/api/v1/silences", "north")[1]["silences"] == []
    assert "/api/v1/silences" in caplog.text
    assert not any(token in caplog.text for token in api.tokens.values())


# Built from the static document at import time (not through a fixture), so the test
# does not depend on pytest internals that change between pytest releases.
schema = schemathesis.openapi.from_dict(openapi_spec())
ADMIN_TOKEN: dict[str, str] = {}


@schema.auth()
class AdminToken:
    """Authenticates every generated request, so only the operations are fuzzed."""

    def get(self, case: Any, context: Any) -> str:
        return ADMIN_TOKEN.get("token", "")  # empty while pytest collects

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_openapi_and_never_errors(case: Any, api: ApiServer) -> None:
    """Every check but "schema-valid data is accepted": a silence whose matcher is not a
    matcher, or that ends before it starts, is schema-valid JSON and still a 400."""
    ADMIN_TOKEN["token"] = api.tokens["admin"]
    response = case.call_and_validate(base_url=api.url,
                                      excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
