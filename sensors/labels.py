"""Ground-truth vocabulary: every problem kind the simulator injects and detectors name.

Why a shared constant list: the simulator writes labels with these kinds and
the detectors emit `Finding.kind` with the same strings, so the evaluation
harness can score one against the other without a translation table. Each
kind has the *entity level* it is labelled at (a meter, an area, a feeder or
a concentrator); the matching rule in `gridwatch.detectors.evaluation`
relies on it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

METER, AREA, FEEDER, CONCENTRATOR = "meter", "area", "feeder", "concentrator"

THEFT_KINDS = (
    "theft_bypass",
    "theft_night_bypass",
    "theft_meter_stopped",
    "theft_phase_tamper",
    "theft_reverse_energy",
    "theft_tamper_event",
)
LOSS_KINDS = ("leakage",)
VOLTAGE_KINDS = ("low_voltage_zone",)
FAULT_KINDS = (
    "outage_area",
    "outage_feeder",
    "meter_power_loss",
    "phase_loss",
    "transformer_overload",
    "voltage_sag",
    "voltage_swell",
)
DATA_QUALITY_KINDS = (
    "dq_concentrator_dropout",
    "dq_stuck_meter",
    "dq_duplicate",
    "dq_out_of_order",
    "dq_clock_skew",
)

KIND_ENTITY_LEVEL: dict[str, str] = {
    "theft_bypass": METER,
    "theft_night_bypass": METER,
    "theft_meter_stopped": METER,
    "theft_phase_tamper": METER,
    "theft_reverse_energy": METER,
    "theft_tamper_event": METER,
    "leakage": AREA,
    "low_voltage_zone": AREA,
    "outage_area": AREA,
    "outage_feeder": FEEDER,
    "meter_power_loss": METER,
    "phase_loss": AREA,
    "transformer_overload": AREA,
    "voltage_sag": AREA,
    "voltage_swell": AREA,
    "dq_concentrator_dropout": CONCENTRATOR,
    "dq_stuck_meter": METER,
    "dq_duplicate": CONCENTRATOR,
    "dq_out_of_order": CONCENTRATOR,
    "dq_clock_skew": METER,
}

KINDS: tuple[str, ...] = THEFT_KINDS + LOSS_KINDS + VOLTAGE_KINDS + FAULT_KINDS + DATA_QUALITY_KINDS

KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "theft": THEFT_KINDS,
    "leakage": LOSS_KINDS,
    "voltage": VOLTAGE_KINDS,
    "fault": FAULT_KINDS,
    "data_quality": DATA_QUALITY_KINDS,
}


def group_of(kind: str) -> str:
    """The reporting group a kind belongs to ("other" for kinds outside the list).

    >>> group_of("theft_bypass"), group_of("dq_duplicate"), group_of("made_up")
    ('theft', 'data_quality', 'other')
    """
    for group, kinds in KIND_GROUPS.items():
        if kind in kinds:
            return group
    return "other"


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


def write_labels(labels: list[Label], path: str | Path) -> None:
    """Write labels as a JSON list (sorted by start) next to the data they describe."""
    ordered = sorted(labels, key=lambda lb: (lb.start, lb.kind, lb.entity))
    Path(path).write_text(json.dumps([lb.to_dict() for lb in ordered], indent=1) + "\n")


def read_labels(path: str | Path) -> list[Label]:
    """Read labels written by `write_labels`; unknown kinds are an error, not skipped."""
    raw = json.loads(Path(path).read_text())
    labels = []
    for i, item in enumerate(raw):
        if item.get("kind") not in KIND_ENTITY_LEVEL:
            raise ValueError(f"{path}: label {i} has unknown kind {item.get('kind')!r}")
        labels.append(Label(**item))
    return labels
