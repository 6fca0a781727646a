"""Ground truth: one injected or confirmed problem, what it is, where and when.

Why on the ground floor: the simulator writes labels, field crews' closed
work orders become labels (`gridwatch.alerts.field_labels`), and the
evaluation scores findings against them; all three speak the same record.
A label's kind must be a registered, labelled kind (`gridwatch.vocabulary.kinds`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .kinds import KINDS


@dataclass(frozen=True, slots=True)
class Label:
    """One injected problem: what, where (entity plus its area and feeder), and when.

    ``start`` and ``end`` are epoch seconds; the problem is present for readings
    with ``start < ts <= end`` (readings are stamped at their interval's end).
    ``area`` is empty for feeder-level labels.
    """

    kind: str
    entity: str
    entity_type: str
    area: str
    feeder: str
    start: float
    end: float
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def is_labelled_kind(kind: object) -> bool:
    """Is ``kind`` a registered kind that labels may carry?

    >>> is_labelled_kind("theft_bypass"), is_labelled_kind("metering_fault"), is_labelled_kind(3)
    (True, False, False)
    """
    known = KINDS.get(kind) if isinstance(kind, str) else None
    return known is not None and known.labelled


def write_labels(labels: list[Label], path: str | Path) -> None:
    """Write labels as a JSON list (sorted by start) next to the data they describe."""
    ordered = sorted(labels, key=lambda lb: (lb.start, lb.kind, lb.entity))
    Path(path).write_text(json.dumps([lb.to_dict() for lb in ordered], indent=1) + "\n")


def read_labels(path: str | Path) -> list[Label]:
    """Read labels written by `write_labels`; unknown kinds are an error, not skipped."""
    raw = json.loads(Path(path).read_text())
    labels = []
    for i, item in enumerate(raw):
        if not is_labelled_kind(item.get("kind")):
            raise ValueError(f"{path}: label {i} has unknown kind {item.get('kind')!r}")
        labels.append(Label(**item))
    return labels
