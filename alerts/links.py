"""Where the work-order page lives, so notifications can link to it.

Why one module: the page's routes and the links in every notification must
agree; both take the paths from here. The base is what inspectors reach
(``alerts.public_url``, e.g. behind the utility's reverse proxy); without
one, the API's own address is the best guess and right for a local
`gridwatch up`.
"""

from __future__ import annotations

from urllib.parse import quote

from ..config import Settings

UI_PREFIX = "/ui"


def public_base_url(settings: Settings) -> str:
    """``alerts.public_url`` without a trailing slash, else the API's own address.

    >>> from gridwatch.config import Settings
    >>> public_base_url(Settings())
    'http://127.0.0.1:8090'
    """
    if settings.alerts.public_url:
        return settings.alerts.public_url.rstrip("/")
    api = settings.alerts.api
    return f"http://{api.host}:{api.port}"


def order_path(alert_id: str) -> str:
    """The page of one work order, relative to the base.

    >>> order_path("lvz-0fec6c63cb1471dd6086")
    '/ui/orders/lvz-0fec6c63cb1471dd6086'
    """
    return f"{UI_PREFIX}/orders/{quote(alert_id, safe='')}"


def work_order_url(base: str, alert_id: str) -> str:
    """Absolute link to one work order; empty when no base is known."""
    return f"{base}{order_path(alert_id)}" if base else ""
