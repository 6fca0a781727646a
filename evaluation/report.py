"""The HTML evaluation report: scores, per-kind plots and every miss and false alarm.

Why one self-contained file: engineers tuning a detector open it from a CI
artefact or a laptop; PNGs are embedded (base64), nothing to serve. Each kind
gets a score trace (the metric its detector judges, or the alerts' own
scores) for the areas concerned, with the labelled windows shaded and the
alerts marked true, explained or false, and a timeline of labels against
alerts per entity.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..vocabulary.kinds import KINDS, class_of  # noqa: E402
from ..vocabulary.labels import Label  # noqa: E402
from ..vocabulary.measurements import AREA_INTERVAL  # noqa: E402
from .matching import (  # noqa: E402
    AlertVerdict,
    Evaluation,
    KindScore,
    merge,
    tolerance_s,
)
from .runner import RunResult  # noqa: E402

DAY_S = 86_400.0
MAX_TRACES = 4
MAX_ZOOMS = 4
ZOOM_S = 12 * 3600.0
MAX_TIMELINE_ROWS = 14
VERDICT_COLOURS = {"true": "tab:green", "explained": "tab:gray", "false": "tab:red"}
def trace_for(kind: str) -> tuple[str, str]:
    """Which metric a kind's detector is judged on: the registry's (measurement, field)."""
    known = KINDS.get(kind)
    return known.metric if known is not None else (AREA_INTERVAL, "readings")


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _png(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _trace_areas(labels: list[Label], verdicts: list[AlertVerdict]) -> list[str]:
    areas = [lb.area for lb in labels if lb.area] + [v.alert.area for v in verdicts]
    return list(dict.fromkeys(a for a in areas if a))[:MAX_TRACES]


def _full_range_traces(ax: plt.Axes, kind: str, labels: list[Label],
                       verdicts: list[AlertVerdict], run: RunResult, origin: float) -> None:
    """The kind's metric over the whole run for the areas concerned (or the alert scores)."""
    measurement, field_name = trace_for(kind)
    drawn = False
    for area in _trace_areas(labels, verdicts):
        trace = run.traces.get((measurement, field_name, area))
        if trace is None or not trace.ts:
            continue
        ax.plot([(t - origin) / DAY_S for t in trace.ts], trace.values, lw=0.7, label=area)
        drawn = True
    if drawn:
        ax.set_ylabel(f"{field_name}\n({measurement})", fontsize=8)
        ax.legend(loc="upper right", fontsize=7)
    else:
        for verdict in verdicts:
            ax.vlines((verdict.alert.at - origin) / DAY_S, 0, verdict.alert.score,
                      colors=VERDICT_COLOURS[verdict.verdict], lw=1.2)
        ax.set_ylabel("alert score", fontsize=8)
    for label in labels:
        ax.axvspan((label.start - origin) / DAY_S, (label.end - origin) / DAY_S,
                   color="tab:orange", alpha=0.15)
    for verdict in verdicts:
        ax.axvline((verdict.alert.at - origin) / DAY_S, color=VERDICT_COLOURS[verdict.verdict],
                   lw=0.8, ls="--")


def _zoomed_trace(ax: plt.Axes, kind: str, label: Label, verdicts: list[AlertVerdict],
                  run: RunResult) -> None:
    """The metric around one short label, in hours from its start."""
    measurement, field_name = trace_for(kind)
    lo, hi = label.start - ZOOM_S, label.end + ZOOM_S
    areas = [label.area] if label.area else sorted(
        area for area, feeder in run.area_feeder.items() if feeder == label.feeder)
    for area in areas[:MAX_TRACES]:
        trace = run.traces.get((measurement, field_name, area))
        if trace is None:
            continue
        points = [(t, v) for t, v in zip(trace.ts, trace.values, strict=True) if lo <= t <= hi]
        if points:
            ax.plot([(t - label.start) / 3600 for t, _ in points], [v for _, v in points],
                    lw=0.9, marker=".", ms=3, label=area)
    ax.axvspan(0, (label.end - label.start) / 3600, color="tab:orange", alpha=0.2)
    for verdict in verdicts:
        if lo <= verdict.alert.at <= hi and verdict.alert.entity in (label.entity, label.area,
                                                                     verdict.alert.area):
            ax.axvline((verdict.alert.at - label.start) / 3600,
                       color=VERDICT_COLOURS[verdict.verdict], lw=1.0, ls="--")
    ax.set_title(label.entity, fontsize=7)
    if len(areas) > 1:
        ax.legend(fontsize=6, loc="lower right")
    ax.set_xlabel("hours from label start", fontsize=7)
    ax.tick_params(labelsize=7)


def _timeline(ax: plt.Axes, kind: str, labels: list[Label], verdicts: list[AlertVerdict],
              origin: float) -> None:
    """Labelled windows (with the tolerance hatched) and alerts, one row per entity."""
    entities = list(dict.fromkeys([lb.entity for lb in labels]
                                  + [v.alert.entity for v in verdicts]))[:MAX_TIMELINE_ROWS]
    row = {entity: i for i, entity in enumerate(entities)}
    for label in labels:
        if label.entity in row:
            y, start = row[label.entity], (label.start - origin) / DAY_S
            ax.barh(y, (label.end - label.start) / DAY_S, left=start, height=0.6,
                    color="tab:orange", alpha=0.6)
            ax.barh(y, tolerance_s(kind) / DAY_S, left=(label.end - origin) / DAY_S,
                    height=0.6, color="tab:orange", alpha=0.2, hatch="//")
    for verdict in verdicts:
        if verdict.alert.entity in row:
            ax.plot((verdict.alert.at - origin) / DAY_S, row[verdict.alert.entity], marker="v",
                    color=VERDICT_COLOURS[verdict.verdict], ms=7, ls="none")
    ax.set_yticks(range(len(entities)), entities, fontsize=7)
    ax.set_xlabel("days since start of run")
    ax.invert_yaxis()


def kind_figure(kind: str, labels: list[Label], verdicts: list[AlertVerdict],
                run: RunResult, origin: float) -> str:
    """Score traces (top) and label/alert timeline (bottom) of one kind, as base64 PNG.

    Kinds whose labels last under a day (faults, most data-quality problems) get one
    zoomed trace per label, since a 15-minute sag is invisible on a 60-day axis.
    """
    short = bool(labels) and max(lb.end - lb.start for lb in labels) < DAY_S
    columns = min(len(labels), MAX_ZOOMS) if short else 1
    fig = plt.figure(figsize=(11, 5.4))
    grid = fig.add_gridspec(2, columns, height_ratios=[3, 2])
    if short:
        for i, label in enumerate(labels[:columns]):
            _zoomed_trace(fig.add_subplot(grid[0, i]), kind, label, verdicts, run)
        measurement, field_name = trace_for(kind)
        fig.axes[0].set_ylabel(f"{field_name}\n({measurement})", fontsize=8)
    else:
        _full_range_traces(fig.add_subplot(grid[0, :]), kind, labels, verdicts, run, origin)
    _timeline(fig.add_subplot(grid[1, :]), kind, labels, verdicts, origin)
    fig.suptitle(f"{kind}: labelled windows (orange), alerts (green true, red false, "
                 f"grey explained)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _score_row(group: str, name: str, s: KindScore) -> str:
    return (f"<tr><td>{group}</td><td>{name}</td><td>{s.events}</td><td>{s.alerts}</td>"
            f"<td>{s.explained_alerts}</td><td>{_fmt(s.precision)}</td><td>{_fmt(s.recall)}</td>"
            f"<td>{_fmt(s.f1)}</td><td>{_delay(s.delay(50))}</td><td>{_delay(s.delay(95))}</td>"
            f"</tr>")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _delay(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 3600:.1f} h" if abs(value) < 2 * DAY_S else f"{value / DAY_S:.1f} d"


def _evidence(finding: Any) -> str:
    payload = {"observed": finding.observed, "threshold": finding.threshold,
               "evidence": finding.evidence}
    text = json.dumps(payload, indent=1, default=str)
    return f"<details><summary>evidence</summary><pre>{html.escape(text)}</pre></details>"


def render_html(evaluation: Evaluation, labels: list[Label], run: RunResult,
                meta: dict[str, Any]) -> str:
    """The whole report as one HTML string."""
    origin = float(meta["start"])
    labels_by_kind: dict[str, list[Label]] = {}
    for label in labels:
        labels_by_kind.setdefault(label.kind, []).append(label)
    verdicts_by_kind: dict[str, list[AlertVerdict]] = {}
    for verdict in evaluation.verdicts:
        verdicts_by_kind.setdefault(verdict.alert.kind, []).append(verdict)
    kinds = sorted(evaluation.kinds, key=lambda k: (class_of(k), k))

    rows = []
    for group in dict.fromkeys(class_of(k) for k in kinds):
        members = [k for k in kinds if class_of(k) == group]
        rows += [_score_row(group, f"<a href='#{k}'>{k}</a>", evaluation.kinds[k])
                 for k in members]
        if len(members) > 1:
            pooled = merge([Evaluation({group: evaluation.kinds[k]}, []) for k in members])
            rows.append(_score_row(group, "<b>the group, pooled</b>", pooled.kinds[group]))
    sections = []
    for kind in kinds:
        png = kind_figure(kind, labels_by_kind.get(kind, []), verdicts_by_kind.get(kind, []),
                          run, origin)
        sections.append(f"<h3 id='{kind}'>{kind}</h3><img src='data:image/png;base64,{png}'>")
    missed = [(kind, lb) for kind in kinds for lb in evaluation.kinds[kind].missed]
    missed_rows = "".join(
        f"<tr><td>{k}</td><td>{html.escape(lb.entity)}</td><td>{_utc(lb.start)}</td>"
        f"<td>{_utc(lb.end)}</td><td><code>{html.escape(lb.detail)}</code></td>"
        f"<td>{html.escape(_nearby(lb, evaluation.verdicts))}</td></tr>" for k, lb in missed)
    false_rows = "".join(
        f"<tr><td>{v.alert.kind}</td><td>{html.escape(v.alert.entity)}</td>"
        f"<td>{_utc(v.alert.at)}</td><td>{_utc(v.alert.started_at)}</td>"
        f"<td>{html.escape(v.alert.reason)}</td><td>{_evidence(v.alert)}</td></tr>"
        for v in evaluation.verdicts if v.verdict == "false")
    errors = "".join(f"<li><code>{html.escape(msg)}</code>: {n} batches</li>"
                     for msg, n in sorted(run.dead_letters.items()))
    info = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in meta.items() if k != "labels")
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>GridWatch evaluation: {html.escape(str(meta.get('scenario', '')))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 7px;
font-size:13px;text-align:left;vertical-align:top}}img{{max-width:100%}}
pre{{white-space:pre-wrap;font-size:11px;max-width:500px}}</style></head><body>
<h1>GridWatch detector evaluation</h1>
<table>{info}</table>
<p>Matching rule: an alert is true when it has the label's kind, names the labelled entity
(or its area; a feeder label accepts areas on the feeder) and is raised between one hour
before the label starts and the label's end plus the kind's tolerance (hatched in the
timelines). Alerts caused by another labelled problem (e.g. area outages inside a feeder
outage) are <i>explained</i> and left out of precision. See
<code>gridwatch.evaluation.matching</code>.</p>
<h2>Scores per kind</h2>
<table><tr><th>group</th><th>kind</th><th>events</th><th>alerts</th><th>explained</th>
<th>precision</th><th>recall</th><th>F1</th><th>delay median</th><th>delay p95</th></tr>
{''.join(rows)}</table>
{f'<h2>Dead letters</h2><ul>{errors}</ul>' if errors else ''}
<h2>Missed labels ({len(missed)})</h2>
<table><tr><th>kind</th><th>entity</th><th>start (UTC)</th><th>end (UTC)</th><th>detail</th>
<th>other alerts on the entity meanwhile</th></tr>{missed_rows}</table>
<h2>False alerts ({sum(v.verdict == 'false' for v in evaluation.verdicts)})</h2>
<table><tr><th>kind</th><th>entity</th><th>raised (UTC)</th><th>condition since</th>
<th>reason</th><th>evidence</th></tr>{false_rows}</table>
<h2>Per-kind traces and timelines</h2>
{''.join(sections)}
</body></html>
"""


def _nearby(label: Label, verdicts: list[AlertVerdict]) -> str:
    """Alerts of other kinds on the missed label's entity during its window (mislabels)."""
    near = sorted({v.alert.kind for v in verdicts
                   if v.alert.entity in (label.entity, label.area)
                   and label.start - DAY_S <= v.alert.at <= label.end + tolerance_s(label.kind)})
    return ", ".join(near) or "none"


def write_report(path: str | Path, evaluation: Evaluation, labels: list[Label],
                 run: RunResult, meta: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(evaluation, labels, run, meta))
    return path
