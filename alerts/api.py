"""The work-order HTTP API (aiohttp), described by `gridwatch.alerts.openapi`.

Why aiohttp: it is already a dependency (webhooks, the dispatcher) and the
API is small; every request is validated against the same limits the
OpenAPI document states, and every refusal is a JSON ``{"error": reason}``
with the right status, never a stack trace. The access log leaves out
headers, so bearer tokens never reach a log file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ..config import Settings
from ..streams.promql import PromQuery
from ..vocabulary.findings import SEVERITIES
from .access import AccessDenied, Actor, authenticate
from .dispatcher import open_store
from .field_labels import field_labels, findings_csv
from .links import UI_PREFIX
from .model import STATUSES, WORK_STATES
from .openapi import (
    MAX_EPOCH,
    MAX_FILTER,
    MAX_LIMIT,
    MAX_NAME,
    MAX_SILENCE_S,
    MAX_TEXT,
    openapi_spec,
)
from .silences import SilenceError, new_silence
from .store import AlertQuery, AlertStore
from .web import PageOptions, add_pages
from .web.readings import ReadingsSource
from .workorders import WorkOrderConflict, WorkOrderNotFound, WorkOrders

log = logging.getLogger(__name__)
STORE = web.AppKey("store", AlertStore)
ORDERS = web.AppKey("orders", WorkOrders)
ACTOR = web.RequestKey("actor", Actor)
PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json"})
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'
DEFAULT_SILENCE_S = 3600.0
MAX_MATCHERS = 20
QUERY_PARAMS = {
    "/api/v1/alerts": frozenset({"status", "work_state", "severity", "kind", "area", "feeder",
                                 "team", "assignee", "started_since", "limit", "offset"}),
    "/api/v1/labels": frozenset({"format", "since"}),
}


class BadRequest(ValueError):
    """The request does not satisfy the API description."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def errors_and_auth(request: web.Request,
                          handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
    """Authenticate, then map domain errors to HTTP statuses."""
    if request.match_info.http_exception is not None or request.path.startswith(UI_PREFIX + "/"):
        return await handler(request)  # the pages log in by session (gridwatch.alerts.web)
    route = request.match_info.route.resource
    allowed = QUERY_PARAMS.get(route.canonical if route else "", frozenset())
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        return _error(400, f"unknown query parameter {unknown[0][:MAX_NAME]!r}")
    if request.path not in PUBLIC_PATHS:
        actor = authenticate(request.app[STORE], request.headers.get("Authorization"))
        if actor is None:
            return _error(401, "missing or unknown bearer token")
        request[ACTOR] = actor
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except AccessDenied as exc:
        return _error(403, str(exc))
    except WorkOrderNotFound as exc:
        return _error(404, str(exc))
    except WorkOrderConflict as exc:
        return _error(409, str(exc))
    except (BadRequest, SilenceError, ValueError) as exc:
        return _error(400, str(exc))


def _actor(request: web.Request) -> Actor:
    return request[ACTOR]


async def _json_body(request: web.Request, allowed: dict[str, type | tuple[type, ...]],
                     required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not request.can_read_body:
        if required:
            raise BadRequest(f"a JSON object with {', '.join(required)} is required")
        return {}
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    for key, value in body.items():
        if key not in allowed:
            raise BadRequest(f"unknown field {key!r} (allowed: {', '.join(allowed)})")
        if isinstance(value, bool) or not isinstance(value, allowed[key]):
            raise BadRequest(f"field {key!r} has the wrong type")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise BadRequest(f"field {key!r} is longer than {MAX_TEXT} characters")
    missing = [k for k in required if k not in body]
    if missing:
        raise BadRequest(f"missing field {missing[0]!r}")
    return body


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"query parameter {name!r} must be an integer") from exc
    if not low <= value <= high:
        raise BadRequest(f"query parameter {name!r} must be between {low} and {high}")
    return value


def _number_param(request: web.Request, name: str, low: float, high: float) -> float:
    try:
        value = float(request.query.get(name, low))
    except ValueError as exc:
        raise BadRequest(f"query parameter {name!r} must be a number") from exc
    return _bounded(value, f"query parameter {name!r}", low, high)


def _choice_param(request: web.Request, name: str, choices: tuple[str, ...]) -> str:
    value = request.query.get(name)
    if value is None:
        return ""
    if value not in choices:
        raise BadRequest(f"query parameter {name!r} must be one of {', '.join(choices)}")
    return value


def _text_param(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if len(value) > MAX_FILTER:
        raise BadRequest(f"query parameter {name!r} is longer than {MAX_FILTER} characters")
    return value


def _alert_id(request: web.Request) -> str:
    alert_id = request.match_info["alert_id"]
    if len(alert_id) > MAX_NAME:
        raise WorkOrderNotFound(f"no work order {alert_id[:40]!r}...")
    return alert_id


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_spec())


async def whoami(request: web.Request) -> web.Response:
    return web.json_response(asdict(_actor(request)))


async def list_alerts(request: web.Request) -> web.Response:
    query = AlertQuery(
        status=_choice_param(request, "status", STATUSES),
        work_state=_choice_param(request, "work_state", WORK_STATES),
        severity=_choice_param(request, "severity", SEVERITIES),
        kind=_text_param(request, "kind"), area=_text_param(request, "area"),
        feeder=_text_param(request, "feeder"), team=_text_param(request, "team"),
        assignee=_text_param(request, "assignee"),
        started_since=_number_param(request, "started_since", 0.0, MAX_EPOCH),
        limit=_int_param(request, "limit", 100, 1, MAX_LIMIT),
        offset=_int_param(request, "offset", 0, 0, 10**9))
    alerts = request.app[ORDERS].list(_actor(request), query)
    return web.json_response({"alerts": [a.to_dict() for a in alerts], "count": len(alerts)})


async def get_alert(request: web.Request) -> web.Response:
    alert = request.app[ORDERS].get(_actor(request), _alert_id(request))
    return web.json_response(alert.to_dict())


async def audit(request: web.Request) -> web.Response:
    entries = request.app[ORDERS].audit(_actor(request), _alert_id(request))
    return web.json_response({"audit": [asdict(e) for e in entries]})


async def acknowledge(request: web.Request) -> web.Response:
    body = await _json_body(request, {"note": str})
    alert = request.app[ORDERS].acknowledge(_actor(request), _alert_id(request),
                                            body.get("note", ""))
    return web.json_response(alert.to_dict())


async def assign(request: web.Request) -> web.Response:
    body = await _json_body(request, {"assignee": str, "team": str}, ("assignee",))
    alert = request.app[ORDERS].assign(_actor(request), _alert_id(request), body["assignee"],
                                       body.get("team", ""))
    return web.json_response(alert.to_dict())


async def start(request: web.Request) -> web.Response:
    alert = request.app[ORDERS].start(_actor(request), _alert_id(request))
    return web.json_response(alert.to_dict())


async def comment(request: web.Request) -> web.Response:
    body = await _json_body(request, {"text": str}, ("text",))
    alert = request.app[ORDERS].comment(_actor(request), _alert_id(request), body["text"])
    return web.json_response(alert.to_dict())


async def close(request: web.Request) -> web.Response:
    body = await _json_body(request, {"finding": str, "note": str}, ("finding",))
    alert = request.app[ORDERS].close(_actor(request), _alert_id(request), body["finding"],
                                      body.get("note", ""))
    return web.json_response(alert.to_dict())


async def reopen(request: web.Request) -> web.Response:
    body = await _json_body(request, {"reason": str}, ("reason",))
    alert = request.app[ORDERS].reopen(_actor(request), _alert_id(request), body["reason"])
    return web.json_response(alert.to_dict())


async def list_silences(request: web.Request) -> web.Response:
    _actor(request).require("read")
    silences = request.app[STORE].list_silences(now=time.time())
    return web.json_response({"silences": [asdict(s) for s in silences]})


def _bounded(value: float, what: str, low: float, high: float, low_open: bool = False) -> float:
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        raise BadRequest(f"{what} must be {'>' if low_open else '>='} {low:g} and <= {high:g}")
    return value


async def create_silence(request: web.Request) -> web.Response:
    actor = _actor(request)
    actor.require("silence")
    number = (int, float)
    body = await _json_body(request, {"matchers": list, "starts_at": number, "ends_at": number,
                                      "duration_s": number, "comment": str},
                            ("matchers", "comment"))
    now = time.time()
    starts_at = _bounded(float(body.get("starts_at", now)), "starts_at", 0, MAX_EPOCH)
    if "ends_at" in body:
        ends_at = _bounded(float(body["ends_at"]), "ends_at", 0, MAX_EPOCH)
    else:
        ends_at = starts_at + _bounded(float(body.get("duration_s", DEFAULT_SILENCE_S)),
                                       "duration_s", 0, MAX_SILENCE_S, low_open=True)
    if len(body["matchers"]) > MAX_MATCHERS:
        raise BadRequest(f"a silence takes at most {MAX_MATCHERS} matchers")
    silence = new_silence(body["matchers"], starts_at, ends_at, actor.name, body["comment"], now)
    request.app[STORE].add_silence(silence)
    log.info("silence %s created by %s: %s", silence.id, actor.name, silence.matchers)
    return web.json_response(asdict(silence), status=201)


async def expire_silence(request: web.Request) -> web.Response:
    actor = _actor(request)
    actor.require("silence")
    store = request.app[STORE]
    silence_id = request.match_info["silence_id"]
    if not store.expire_silence(silence_id, time.time()):
        return _error(404, f"no active silence {silence_id[:MAX_NAME]!r}")
    silence = store.get_silence(silence_id)
    assert silence is not None
    log.info("silence %s expired by %s", silence_id, actor.name)
    return web.json_response(asdict(silence))


async def labels(request: web.Request) -> web.Response:
    _actor(request).require("export")
    fmt = _choice_param(request, "format", ("json", "csv")) or "json"
    since = _number_param(request, "since", 0.0, MAX_EPOCH)
    closed = request.app[STORE].closed_alerts(since)
    if fmt == "csv":
        return web.Response(text=findings_csv(closed), content_type="text/csv")
    return web.json_response([label.to_dict() for label in field_labels(closed).labels])


def create_app(store: AlertStore, pages: PageOptions | None = None) -> web.Application:
    """The API application over `store` (the caller owns and closes the store),
    with the work-order pages under ``/ui/``."""
    app = web.Application(middlewares=[errors_and_auth], client_max_size=256 * 1024)
    app[STORE] = store
    app[ORDERS] = WorkOrders(store)
    app.router.add_get("/healthz", health)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/api/v1/whoami", whoami)
    app.router.add_get("/api/v1/alerts", list_alerts)
    app.router.add_get("/api/v1/alerts/{alert_id}", get_alert)
    app.router.add_get("/api/v1/alerts/{alert_id}/audit", audit)
    for name, handler in (("ack", acknowledge), ("assign", assign), ("start", start),
                          ("comment", comment), ("close", close), ("reopen", reopen)):
        app.router.add_post(f"/api/v1/alerts/{{alert_id}}/{name}", handler)
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", create_silence)
    app.router.add_delete("/api/v1/silences/{silence_id}", expire_silence)
    app.router.add_get("/api/v1/labels", labels)
    add_pages(app, store, pages or PageOptions())
    return app


def page_options(settings: Settings) -> PageOptions:
    """The pages read readings from the configured metrics store."""
    readings = ReadingsSource(PromQuery(settings.metrics.url, timeout_s=5.0),
                              settings.detectors.data_quality.interval_s,
                              settings.detectors.low_voltage.single_phase.lower_v)
    return PageOptions(readings, settings.alerts.api.session_ttl_s,
                       secure_cookie=settings.alerts.public_url.startswith("https://"))


async def run_api(settings: Settings, stop: asyncio.Event,
                  started: Callable[[str], None] | None = None) -> None:
    """Serve the API of `settings.alerts.api` over the configured store until `stop` is set."""
    api = settings.alerts.api
    context = None
    if api.cert_file:  # both set: the configuration refuses one without the other
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(api.cert_file, api.key_file)
    store = open_store(settings)
    try:
        runner = await serve_api(store, api.host, api.port, started, page_options(settings),
                                 context)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        store.close()


async def serve_api(store: AlertStore, host: str, port: int,
                    started: Callable[[str], None] | None = None,
                    pages: PageOptions | None = None,
                    ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    """Start the API on host:port (HTTPS with `ssl_context`); returns the runner
    (call ``cleanup()`` to stop)."""
    runner = web.AppRunner(create_app(store, pages), access_log_format=ACCESS_LOG_FORMAT)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    bound = runner.addresses[0][1]
    if started:
        started(f"{'https' if ssl_context else 'http'}://{host}:{bound}")
    return runner
