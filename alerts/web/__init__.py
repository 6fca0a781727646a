"""The work-order page for inspectors, served under ``/ui/`` by the alerts API.

Why a sub-application: the page authenticates by cookie session and CSRF
secret, the JSON API by bearer token; mounting the pages as their own aiohttp
application keeps the two schemes apart while sharing the server, the store
and the `WorkOrders` rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..links import UI_PREFIX
from ..store import AlertStore
from ..workorders import WorkOrders
from . import views
from .readings import ReadingsSource
from .sessions import Sessions


@dataclass
class PageOptions:
    """What the page needs beyond the store."""

    readings: ReadingsSource | None = None
    session_ttl_s: float = 43_200.0
    secure_cookie: bool = False


def add_pages(app: web.Application, store: AlertStore, options: PageOptions) -> None:
    """Mount the work-order pages on `app` under ``/ui/``."""
    pages = web.Application(middlewares=[views.session_auth], client_max_size=64 * 1024)
    pages[views.STORE] = store
    pages[views.ORDERS] = WorkOrders(store)
    pages[views.SESSIONS] = Sessions(options.session_ttl_s)
    pages[views.SECURE_COOKIE] = options.secure_cookie
    if options.readings is not None:
        pages[views.READINGS] = options.readings
    pages.router.add_get("/", views.order_list)
    pages.router.add_get("/login", views.login_form)
    pages.router.add_post("/login", views.login)
    pages.router.add_post("/logout", views.logout)
    pages.router.add_get("/orders/{alert_id}", views.order)
    pages.router.add_post("/orders/{alert_id}/{action}", views.act)
    app.add_subapp(UI_PREFIX, pages)
