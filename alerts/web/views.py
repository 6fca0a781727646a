"""The work-order pages: log in, list the team's orders, open one, act on it.

Why every action is a plain form POST answered by a redirect: it works on
any phone browser without script, a reload never repeats an action, and the
actions go through the same `WorkOrders` checks (role, team, state) and the
same audit trail as the JSON API. A refused action re-renders the order with
the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from ..access import PERMISSIONS, AccessDenied, Actor, token_digest
from ..links import UI_PREFIX, order_path
from ..model import CLOSE_FINDINGS, Alert
from ..store import AlertQuery, AlertStore
from ..workorders import WorkOrderConflict, WorkOrderNotFound, WorkOrders
from . import html
from .chart import line_chart
from .readings import ReadingsSource
from .sessions import Session, Sessions, new_secret, same_secret

STORE = web.AppKey("page_store", AlertStore)
ORDERS = web.AppKey("page_orders", WorkOrders)
SESSIONS = web.AppKey("page_sessions", Sessions)
READINGS = web.AppKey("page_readings", ReadingsSource)
SECURE_COOKIE = web.AppKey("page_secure_cookie", bool)
ACTOR = web.RequestKey("page_actor", Actor)
SESSION = web.RequestKey("page_session", Session)
SESSION_COOKIE = "gw_session"
LOGIN_COOKIE = "gw_login"
LIST_LIMIT = 500
SHOW = {"open": "Open", "closed": "Closed", "all": "All"}
FINDING_TEXT = {"confirmed": "confirmed (theft or fault found)",
                "not_confirmed": "not confirmed (nothing found on site)",
                "repaired": "repaired (fault fixed on site)",
                "false_alarm": "false alarm (the data was wrong)"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store", "X-Frame-Options": "DENY",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html",
                        headers=SECURITY_HEADERS)


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location} | SECURITY_HEADERS)


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str,
                value: str) -> None:
    response.set_cookie(name, value, path=UI_PREFIX, httponly=True, samesite="Lax",
                        secure=request.app[SECURE_COOKIE])


@web.middleware
async def session_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pages need a live session; forms need its CSRF secret."""
    if request.path == f"{UI_PREFIX}/login":
        return await handler(request)
    session = request.app[SESSIONS].find(request.cookies.get(SESSION_COOKIE))
    token = request.app[STORE].find_token(session.token_sha256) if session else None
    if session is None or token is None:
        target = request.path_qs if request.method == "GET" else f"{UI_PREFIX}/"
        return _redirect(f"{UI_PREFIX}/login?next={quote(target, safe='')}")
    request[SESSION] = session
    request[ACTOR] = Actor(token.name, token.role, token.team)
    if request.method == "POST":
        form = await request.post()
        if not same_secret(session.csrf, form.get("csrf")):
            return _html(html.page("Refused", '<p class="note error">The form is stale or '
                                   "was not sent by this page; reload and try again.</p>"), 403)
    return await handler(request)


def _safe_next(target: str) -> str:
    """Only our own pages, so the login cannot be used to bounce elsewhere.

    >>> _safe_next("/ui/orders/x"), _safe_next("//evil.example/"), _safe_next("https://x")
    ('/ui/orders/x', '/ui/', '/ui/')
    """
    return target if target.startswith(f"{UI_PREFIX}/") and "//" not in target \
        and "\\" not in target else f"{UI_PREFIX}/"


def _login_page(next_path: str, login_secret: str, problem: str = "") -> str:
    note = f'<p class="note error">{html.esc(problem)}</p>' if problem else ""
    return html.page("Log in", f"""{note}<section><h1>Log in</h1>
<p>Paste the API token you were given (<code>gridwatch alerts token add ...</code>).</p>
<form class="action" method="post" action="{UI_PREFIX}/login">
<input type="hidden" name="csrf" value="{html.esc(login_secret)}">
<input type="hidden" name="next" value="{html.esc(next_path)}">
<label>Token <input type="password" name="token" autocomplete="current-password" required>
</label><button type="submit">Log in</button></form></section>""")


def _login_response(request: web.Request, next_path: str, problem: str = "",
                    status: int = 200) -> web.Response:
    """The login form with a fresh secret, also set as a cookie (double submit)."""
    secret = new_secret()
    response = _html(_login_page(next_path, secret, problem), status)
    _set_cookie(request, response, LOGIN_COOKIE, secret)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    return _login_response(request, _safe_next(request.query.get("next", "")))


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    next_path = _safe_next(str(form.get("next", "")))
    if not same_secret(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf")):
        return _login_response(request, next_path, "The login form expired; try again.", 403)
    token = str(form.get("token", "")).strip()
    stored = request.app[STORE].find_token(token_digest(token)) if token else None
    if stored is None:
        return _login_response(request, next_path, "Unknown token.", 401)
    session = request.app[SESSIONS].open(stored.token_sha256)
    response = _redirect(next_path)
    _set_cookie(request, response, SESSION_COOKIE, session.id)
    response.del_cookie(LOGIN_COOKIE, path=UI_PREFIX)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app[SESSIONS].close(request[SESSION].id)
    response = _redirect(f"{UI_PREFIX}/login")
    response.del_cookie(SESSION_COOKIE, path=UI_PREFIX)
    return response


def _who(request: web.Request) -> str:
    actor = request[ACTOR]
    return f"{actor.name} ({actor.role}{', team ' + actor.team if actor.team else ''})"


def _page(request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
    return _html(html.page(title, body, _who(request), request[SESSION].csrf), status)


def _order_row(alert: Alert) -> list[str]:
    link = f'<a href="{html.esc(order_path(alert.id))}">{html.esc(alert.kind)}</a>'
    return [html.badge(alert.severity), link, html.esc(alert.entity), html.esc(alert.area),
            html.esc(html.when(alert.started_at)), html.esc(alert.status),
            html.badge(alert.work_state), html.esc(alert.assignee)]


async def order_list(request: web.Request) -> web.StreamResponse:
    show = request.query.get("show", "open")
    if show not in SHOW:
        return _page(request, "Work orders", '<p class="note error">show must be one of '
                     f'{", ".join(SHOW)}</p>', 400)
    actor = request[ACTOR]
    alerts = request.app[ORDERS].list(actor, AlertQuery(limit=LIST_LIMIT))
    if show != "all":
        alerts = [a for a in alerts if (a.work_state == "closed") == (show == "closed")]
    tabs = " ".join(f'<a href="?show={key}">' + (f"<strong>{text}</strong>" if key == show
                                                  else text) + "</a>"
                    for key, text in SHOW.items())
    scope = f"team {actor.team}" if actor.team_bound else "all teams"
    rows = [_order_row(a) for a in alerts]
    body = (f"<h1>Work orders ({html.esc(scope)})</h1><nav>{tabs}</nav><section>"
            + html.table(["severity", "kind", "entity", "area", "started", "condition",
                          "work order", "assignee"], rows, "No work orders here.")
            + "</section>")
    return _page(request, "Work orders", body)


def _form(request: web.Request, alert: Alert, action: str, button: str, fields: str = "") -> str:
    target = html.esc(f"{order_path(alert.id)}/{action}")
    return (f'<form class="action" method="post" action="{target}" data-action="{action}">'
            f'<input type="hidden" name="csrf" value="{html.esc(request[SESSION].csrf)}">'
            f'{fields}<button type="submit">{html.esc(button)}</button></form>')


def _actions(request: web.Request, alert: Alert) -> str:
    actor = request[ACTOR]
    forms = []
    can_work = actor.role in PERMISSIONS["work"]
    if can_work and alert.work_state == "new":
        forms.append(_form(request, alert, "ack", "Acknowledge",
                           '<label>Note <input name="note" maxlength="4000"></label>'))
    if can_work and alert.work_state != "closed":
        team = ('<label>Team <input name="team" maxlength="200"></label>'
                if actor.role in PERMISSIONS["reassign_team"] else "")
        forms.append(_form(request, alert, "assign", "Assign",
                           '<label>Assignee <input name="assignee" required maxlength="200" '
                           f'value="{html.esc(alert.assignee or actor.name)}"></label>{team}'))
        if alert.work_state != "in_progress":
            forms.append(_form(request, alert, "start", "Start work"))
        options = "".join(f'<option value="{f}">{html.esc(FINDING_TEXT[f])}</option>'
                          for f in CLOSE_FINDINGS)
        forms.append(_form(request, alert, "close", "Close with this finding",
                           f'<label>Finding <select name="finding" required>{options}</select>'
                           '</label><label>Note <input name="note" maxlength="4000"></label>'))
    forms.append(_form(request, alert, "comment", "Add comment",
                       '<label>Comment <textarea name="text" required maxlength="4000" rows="2">'
                       "</textarea></label>"))
    if alert.work_state == "closed" and actor.role in PERMISSIONS["reopen"]:
        forms.append(_form(request, alert, "reopen", "Reopen",
                           '<label>Reason <input name="reason" required maxlength="4000">'
                           "</label>"))
    return "".join(forms)


async def _chart(request: web.Request, alert: Alert) -> str:
    source = request.app.get(READINGS)
    if source is None:
        return "<p>No metrics store configured for this page.</p>"
    readings = await asyncio.to_thread(source.for_alert, alert)
    caption = (f"{readings.metric} ({readings.unit}) for {readings.scope}; shaded: the alert"
               + (f"; dashed: the limit {readings.reference:g} {readings.unit}"
                  if readings.reference is not None else "")
               + (f". {readings.problem}" if readings.problem else ""))
    chart = line_chart(readings.points, readings.unit, readings.window, readings.metric,
                       readings.reference)
    return (f"<figure>{chart}"
            f"<figcaption>{html.esc(caption)}</figcaption></figure>")


def _audit(request: web.Request, alert: Alert) -> str:
    """The trail as a list (it reads on a phone), oldest first."""
    entries = request.app[ORDERS].audit(request[ACTOR], alert.id)
    if not entries:
        return "<p>No changes yet.</p>"
    items = []
    for entry in entries:
        details = "; ".join(f"{k}: {html.value_text(v)}" for k, v in entry.details.items()
                            if v not in ("", None))
        items.append(f'<li><small>{html.esc(html.when(entry.at))} - {html.esc(entry.actor)}'
                     f'</small><br><strong class="action">{html.esc(entry.action)}</strong> '
                     f"{html.esc(details)}</li>")
    return f'<ol class="audit">{"".join(items)}</ol>'


async def _order_page(request: web.Request, alert: Alert, note: str = "", error: str = "",
                      status: int = 200) -> web.Response:
    banner = (f'<p class="note error">{html.esc(error)}</p>' if error else
              f'<p class="note ok">{html.esc(note)}</p>' if note else "")
    loss = (f"{alert.estimated_loss_kwh_per_day:.1f} kWh/day"
            if alert.estimated_loss_kwh_per_day is not None else None)
    finding = FINDING_TEXT.get(alert.finding, alert.finding)
    facts = {"entity": alert.entity, "area": alert.area, "feeder": alert.feeder,
             "condition": alert.status, "started": html.when(alert.started_at),
             "last seen": html.when(alert.last_seen), "cleared": html.when(alert.ended_at),
             "team": alert.team, "assignee": alert.assignee, "finding": finding,
             "score": f"{alert.score:.2f}", "estimated loss": loss, "id": alert.id}
    details = "".join(f"<dt>{html.esc(k)}</dt><dd>{html.esc(v)}</dd>" for k, v in facts.items())
    body = f"""{banner}<h1>{html.badge(alert.severity)} {html.esc(alert.kind)} on
{html.esc(alert.entity)} {html.badge(alert.work_state)}</h1>
<section><p class="reason">{html.esc(alert.reason)}</p><dl>{details}</dl></section>
<section><h2>Readings</h2>{await _chart(request, alert)}</section>
<section><h2>Evidence</h2><h3>Observed</h3>{html.mapping(alert.observed)}
<h3>Threshold</h3>{html.mapping(alert.threshold)}<h3>Details</h3>{html.mapping(alert.evidence)}
</section><section><h2>Act</h2>{_actions(request, alert)}</section>
<section id="audit"><h2>Audit trail</h2>{_audit(request, alert)}</section>"""
    return _page(request, f"{alert.kind} {alert.entity}", body, status)


def _missing(request: web.Request, alert_id: str) -> web.Response:
    return _page(request, "Not found", f'<p class="note error">No work order '
                 f"{html.esc(alert_id[:80])} for you.</p>", 404)


async def order(request: web.Request) -> web.StreamResponse:
    alert_id = request.match_info["alert_id"]
    try:
        alert = request.app[ORDERS].get(request[ACTOR], alert_id)
    except WorkOrderNotFound:
        return _missing(request, alert_id)
    done = request.query.get("done", "")
    return await _order_page(request, alert, f"Done: {done}." if done in ACTIONS else "")


def _field(form: dict[str, str], name: str) -> str:
    return form.get(name, "")


ACTIONS: dict[str, Callable[[WorkOrders, Actor, str, dict[str, str]], Alert]] = {
    "ack": lambda o, a, i, f: o.acknowledge(a, i, _field(f, "note")),
    "assign": lambda o, a, i, f: o.assign(a, i, _field(f, "assignee"), _field(f, "team")),
    "start": lambda o, a, i, f: o.start(a, i),
    "comment": lambda o, a, i, f: o.comment(a, i, _field(f, "text")),
    "close": lambda o, a, i, f: o.close(a, i, _field(f, "finding"), _field(f, "note")),
    "reopen": lambda o, a, i, f: o.reopen(a, i, _field(f, "reason")),
}


async def act(request: web.Request) -> web.StreamResponse:
    alert_id, action = request.match_info["alert_id"], request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    orders, actor = request.app[ORDERS], request[ACTOR]
    try:
        ACTIONS[action](orders, actor, alert_id, form)
    except WorkOrderNotFound:
        return _missing(request, alert_id)
    except (WorkOrderConflict, AccessDenied, ValueError) as exc:
        status = 409 if isinstance(exc, WorkOrderConflict) else \
            403 if isinstance(exc, AccessDenied) else 400
        return await _order_page(request, orders.get(actor, alert_id), error=str(exc),
                                 status=status)
    return _redirect(f"{order_path(alert_id)}?done={action}")
