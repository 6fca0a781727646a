"""The page's HTML: one layout, small helpers, every value escaped on the way out.

Why Python string templates: a handful of pages do not justify a template
engine; each helper escapes what it is given (`html.escape`), so a reason or
a comment typed by anyone cannot inject markup. The CSS is inline and
mobile first: one column on a phone, tables scroll sideways.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from ..links import UI_PREFIX

CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1c2430;
background:#f3f5f8}header{background:#14324f;color:#fff;padding:.6rem 1rem;display:flex;
flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between}
header a{color:#fff}header form{margin:0}main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 .8rem}h2{font-size:1.05rem;margin:.2rem 0 .4rem}
h3{font-size:.95rem;margin:.6rem 0 .2rem;color:#4a5666}figure{margin:0}
ol.audit{list-style:none;padding:0;margin:0}ol.audit li{padding:.4rem 0;
border-bottom:1px solid #e2e6ec}ol.audit small{color:#4a5666}
section{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;
box-shadow:0 1px 2px #0002}.scroll{overflow-x:auto}table{border-collapse:collapse;
width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e2e6ec;
vertical-align:top}th{font-weight:600;color:#4a5666}dl{display:grid;
grid-template-columns:max-content 1fr;gap:.2rem .8rem;margin:0}dt{color:#4a5666}dd{margin:0}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;
background:#e2e6ec}.critical{background:#c62828;color:#fff}.warning{background:#f9a825}
.info{background:#90caf9}.closed{background:#2e7d32;color:#fff}.new{background:#6a1b9a;
color:#fff}form.action{display:grid;gap:.4rem;margin:.6rem 0;padding-top:.6rem;
border-top:1px solid #e2e6ec}input,select,textarea,button{font:inherit;padding:.55rem;
border:1px solid #b8c1cc;border-radius:6px;width:100%}button{background:#14324f;color:#fff;
border:0;cursor:pointer;min-height:2.75rem}header button{width:auto;min-height:auto;
padding:.3rem .8rem;background:#2d5a86}.note{padding:.6rem 1rem;border-radius:6px;
margin:0 0 1rem}.ok{background:#e8f5e9}.error{background:#ffebee}nav a{margin-right:1rem}
.chart{width:100%;height:auto}.chart .line{fill:none;stroke:#1565c0;stroke-width:2}
.chart .axis{stroke:#8894a3}.chart .reference{stroke:#c62828;stroke-dasharray:4 3}
.chart .window{fill:#ffcdd2;opacity:.6}.chart text{font-size:11px;
fill:#4a5666}@media(min-width:48rem){form.action{grid-template-columns:1fr 1fr auto;
align-items:end}form.action label{grid-column:auto}}
"""


def esc(value: object) -> str:
    """Text for HTML, whatever it was: None shows as a dash.

    >>> esc('<b>"x"</b>'), esc(None)
    ('&lt;b&gt;&quot;x&quot;&lt;/b&gt;', '-')
    """
    return "-" if value is None or value == "" else escape(str(value))


def when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def value_text(value: Any) -> str:
    """A finding's observed/threshold/evidence value as short text."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:600]
    return str(value)


def badge(text: str, css_class: str = "") -> str:
    return f'<span class="badge {escape(css_class or text)}">{esc(text)}</span>'


def table(headers: list[str], rows: list[list[str]], empty: str = "nothing yet") -> str:
    """A table of already-rendered cells (callers escape)."""
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>' \
           f"</table></div>"


def mapping(values: dict[str, Any]) -> str:
    """A finding's dict as a definition list."""
    if not values:
        return "<p>-</p>"
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(value_text(v))}</dd>"
                    for k, v in values.items())
    return f"<dl>{items}</dl>"


def page(title: str, body: str, who: str = "", csrf: str = "") -> str:
    """The whole document around `body`; a logout button when someone is logged in."""
    account = ""
    if who:
        account = (f'<form method="post" action="{UI_PREFIX}/logout">{esc(who)} '
                   f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
                   f'<button type="submit">Log out</button></form>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)} - GridWatch</title><style>{CSS}</style></head><body>"
            f'<header><a href="{UI_PREFIX}/"><strong>GridWatch work orders</strong></a>'
            f"{account}</header><main>{body}</main></body></html>")
