"""Closed work orders fed back to detector tuning as ground-truth labels.

Why only ``confirmed`` and ``repaired``: a label says "this problem was really
there"; an inspector's ``false_alarm`` or ``not_confirmed`` says the
opposite and must not become a positive label. Labels are written in the
format of `gridwatch.vocabulary.labels` (what `gridwatch evaluate` reads), so
field results and simulated scenarios are scored the same way. All closed
work orders, negatives included, can be exported as CSV for a person to read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..vocabulary.labels import Label, is_labelled_kind
from .model import Alert

POSITIVE_FINDINGS = ("confirmed", "repaired")
CSV_COLUMNS = ("id", "kind", "entity", "entity_type", "area", "feeder", "start", "end",
               "finding", "team", "assignee", "closed_at")


@dataclass
class LabelExport:
    labels: list[Label]
    negatives: int
    unknown_kinds: dict[str, int]


def field_labels(closed: list[Alert]) -> LabelExport:
    """Labels of the confirmed or repaired findings among closed work orders.

    The episode ends when the detector saw it clear, or else when it was closed.
    """
    labels: list[Label] = []
    negatives = 0
    unknown: dict[str, int] = {}
    for alert in closed:
        if alert.finding not in POSITIVE_FINDINGS:
            negatives += 1
            continue
        if not is_labelled_kind(alert.kind):
            unknown[alert.kind] = unknown.get(alert.kind, 0) + 1
            continue
        end = alert.ended_at if alert.ended_at is not None else alert.closed_at
        labels.append(Label(kind=alert.kind, entity=alert.entity, entity_type=alert.entity_type,
                            area=alert.area, feeder=alert.feeder, start=alert.started_at,
                            end=max(end or alert.last_seen, alert.last_seen),
                            detail=f"field finding {alert.finding}, work order {alert.id}"))
    return LabelExport(labels, negatives, unknown)


def findings_csv(closed: list[Alert]) -> str:
    """Every closed work order with its finding, one CSV row each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for a in closed:
        writer.writerow([a.id, a.kind, a.entity, a.entity_type, a.area, a.feeder, a.started_at,
                         a.ended_at if a.ended_at is not None else "", a.finding, a.team,
                         a.assignee, a.closed_at])
    return out.getvalue()
