"""The report's charts as PNG bytes (matplotlib, no display needed).

Why PNG inside the HTML: the report is mailed and archived as one file; a
PNG renders in every browser and mail client, needs no script, and is what
the management layer pastes into its own documents.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

from .kpis import AreaKpis, Trend  # noqa: E402
from .orders import TeamService  # noqa: E402

CLASS_COLOURS = {"negative": "#6a1b9a", "qualified": "#2e7d32", "high": "#c62828",
                 "no data": "#9e9e9e"}


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _percent(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else 100 * v for v in values]


def trend_chart(trend: Trend, hourly: bool) -> bytes:
    """Line loss, voltage qualification and outage minutes at each step."""
    figure, (loss, quality, outage) = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
    when = [datetime.fromtimestamp(t, UTC) for t in trend.ts]
    loss.plot(when, _percent(trend.line_loss_rate), marker=".", color="#c62828")
    loss.set_ylabel("line loss %")
    quality.plot(when, _percent(trend.voltage_qualification_rate), marker=".",
                 color="#1565c0")
    quality.set_ylabel("voltage qual. %")
    width = (1 / 24 if hourly else 1) * 0.8
    outage.bar(when, trend.outage_minutes, width=width, color="#6d4c41", align="edge")
    outage.set_ylabel("outage area-min")
    for axis in (loss, quality, outage):
        axis.grid(alpha=0.3)
    outage.set_xlabel("hour (UTC)" if hourly else "day (UTC)")
    figure.autofmt_xdate()
    return _png(figure)


def worst_loss_chart(areas: list[AreaKpis], high_loss: float) -> bytes:
    """The worst areas by line-loss rate, coloured by class, the high-loss line drawn."""
    figure, axis = plt.subplots(figsize=(8, 0.4 * max(len(areas), 3) + 1.2))
    names = [a.area for a in areas][::-1]
    values = [100 * (a.line_loss_rate or 0.0) for a in areas][::-1]
    colours = [CLASS_COLOURS[a.loss_class] for a in areas][::-1]
    axis.barh(names, values, color=colours)
    axis.axvline(100 * high_loss, color="#c62828", linestyle="--", linewidth=1,
                 label=f"high loss > {100 * high_loss:g} %")
    axis.axvline(0, color="#333", linewidth=0.8)
    axis.set_xlabel("line-loss rate %")
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)


def teams_chart(teams: list[TeamService]) -> bytes:
    """Work orders opened, closed and still open per team."""
    figure, axis = plt.subplots(figsize=(8, 3.2))
    names = [t.team for t in teams]
    x = range(len(names))
    for offset, (label, values, colour) in enumerate((
            ("opened", [t.opened for t in teams], "#1565c0"),
            ("closed", [t.closed for t in teams], "#2e7d32"),
            ("open at end", [t.open_at_end for t in teams], "#f9a825"))):
        axis.bar([i + (offset - 1) * 0.27 for i in x], values, width=0.27, label=label,
                 color=colour)
    axis.set_xticks(list(x), names)
    axis.set_ylabel("work orders")
    axis.legend()
    axis.grid(axis="y", alpha=0.3)
    return _png(figure)


def kinds_chart(by_kind: dict[str, int]) -> bytes:
    """Alerts started in the period, by kind."""
    figure, axis = plt.subplots(figsize=(8, 0.32 * max(len(by_kind), 3) + 1.2))
    kinds = list(by_kind)[::-1]
    axis.barh(kinds, [by_kind[k] for k in kinds], color="#455a64")
    axis.set_xlabel("alerts")
    axis.grid(axis="x", alpha=0.3)
    return _png(figure)
