"""A small line chart as inline SVG, drawn on the server.

Why SVG by hand: the page must work on a phone without a build step or a
script library, and one polyline with two axis labels is all an inspector
needs to see the readings that triggered a work order. The SVG scales to
the screen width (``viewBox``); every text in it is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 400, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26


def _label(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%m-%d %H:%M")


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def line_chart(points: Sequence[tuple[float, float]], unit: str,
               window: tuple[float, float] | None = None, title: str = "",
               reference: float | None = None) -> str:
    """SVG of `points` (epoch, value), the alert's `window` shaded, a `reference`
    level (e.g. the voltage limit) dashed.

    >>> svg = line_chart([(0, 1.0), (900, 2.0), (1800, 1.5)], "V", (900, 1800), "min voltage",
    ...                  reference=0.5)
    >>> svg.startswith("<svg") and "<polyline" in svg and "<rect" in svg
    True
    >>> 'class="reference"' in svg
    True
    >>> "no readings" in line_chart([], "V")
    True
    """
    head = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title or unit)}" xmlns="http://www.w3.org/2000/svg">')
    if not points:
        return (f'{head}<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
                f'no readings stored for this period</text></svg>')
    t0, t1 = points[0][0], points[-1][0]
    values = [v for _, v in points] + ([reference] if reference is not None else [])
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    span_t = max(t1 - t0, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (min(max(t, t0), t1) - t0) / span_t * plot_w

    def y(v: float) -> float:
        return TOP + (high - v) / (high - low) * plot_h

    parts = [head]
    if window is not None:
        x0, x1 = x(window[0]), x(window[1])
        parts.append(f'<rect class="window" x="{x0:.1f}" y="{TOP}" '
                     f'width="{max(x1 - x0, 2):.1f}" height="{plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
                 f'y2="{TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    if reference is not None:
        parts.append(f'<line class="reference" x1="{LEFT}" y1="{y(reference):.1f}" '
                     f'x2="{WIDTH - RIGHT}" y2="{y(reference):.1f}"/>')
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    parts.append(f'<polyline class="line" points="{line}"/>')
    for value in (high, low):
        parts.append(f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f'{escape(_number(value))}</text>')
    parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}">{escape(_label(t0))}</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
                 f'{escape(_label(t1))} UTC</text>')
    parts.append(f'<text x="{LEFT + 4}" y="{TOP + 12}" class="unit">{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
