"""`gridwatch dashboards push` against a recorded exchange of the Grafana HTTP API.

Grafana cannot be installed here, so a local HTTP server replays the
exchange in ``tests/data/grafana_push_exchange.json`` (Grafana's documented
answers to each call, in order). The test checks the calls `grafana-client`
makes — method, path, bearer token, body — against the recording, and what
the command reports; a call out of order gets a 599 and fails the push.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gridwatch.cli import main

EXCHANGE = json.loads((Path(__file__).parent / "data" / "grafana_push_exchange.json").read_text())
TOKEN = "glsa_recorded_exchange"


class ReplayedGrafana(ThreadingHTTPServer):
    """Answers each request with the next recorded response; keeps what it was sent."""

    def __init__(self, exchange: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.exchange = list(exchange)
        self.received: list[dict[str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    server: ReplayedGrafana

    def _replay(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.received.append({"method": self.command, "path": self.path, "body": body,
                                     "authorization": self.headers.get("Authorization")})
        expected = self.server.exchange.pop(0) if self.server.exchange else None
        if expected is None or expected["request"] != {"method": self.command,
                                                       "path": self.path}:
            status, answer = 599, {"message": f"not in the recording: {self.command} {self.path}"}
        else:
            status, answer = expected["response"]["status"], expected["response"]["body"]
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _replay

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def grafana(request: pytest.FixtureRequest) -> Iterator[tuple[ReplayedGrafana, str]]:
    server = ReplayedGrafana(EXCHANGE[request.param])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("grafana", ["fresh_grafana"], indirect=True)
def test_push_to_a_fresh_grafana_creates_folder_datasources_and_every_dashboard(
        grafana: tuple[ReplayedGrafana, str], capsys: pytest.CaptureFixture[str]) -> None:
    server, url = grafana
    assert main(["dashboards", "push", "--url", url, "--token", TOKEN, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert server.exchange == []   # every recorded call was made, in order
    assert {r["authorization"] for r in server.received} == {f"Bearer {TOKEN}"}
    assert result["datasources"] == {"gridwatch-prometheus": "created",
                                     "gridwatch-influxdb": "created"}
    saved = [r["body"] for r in server.received if r["path"] == "/api/dashboards/db"]
    assert {b["folderUid"] for b in saved} == {"gridwatch"} and all(b["overwrite"] for b in saved)
    assert {b["dashboard"]["uid"] for b in saved} == set(result["dashboards"])
    assert all(link.startswith(f"{url}/d/") for link in result["dashboards"].values())
    folder = next(r["body"] for r in server.received if r["path"] == "/api/folders")
    assert folder == {"title": "GridWatch", "uid": "gridwatch"}


@pytest.mark.parametrize("grafana", ["provisioned_grafana"], indirect=True)
def test_push_again_updates_in_place(grafana: tuple[ReplayedGrafana, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    server, url = grafana
    assert main(["dashboards", "push", "--url", url, "--token", TOKEN]) == 0
    out = capsys.readouterr().out
    assert server.exchange == []
    assert "gridwatch-prometheus updated" in out and "gridwatch-influxdb updated" in out
    assert not any(r["method"] == "POST" and r["path"] == "/api/folders"
                   for r in server.received)


@pytest.mark.parametrize("grafana", ["bad_token"], indirect=True)
def test_a_refused_token_is_reported_not_raised(grafana: tuple[ReplayedGrafana, str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _, url = grafana
    assert main(["dashboards", "push", "--url", url, "--token", "wrong"]) == 1
    assert "invalid API key" in capsys.readouterr().out


def test_push_without_a_token_names_the_environment_variable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "push", "--url", "http://127.0.0.1:9"]) == 2
    assert "GRAFANA_TOKEN" in capsys.readouterr().out
