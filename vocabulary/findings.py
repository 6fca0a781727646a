"""What every detector hands back: a Finding, an alert-to-be with its evidence.

Detectors judge; they do not deliver. A Finding says which entity is in
which condition since when, and why (observed values, the threshold or
baseline they were judged against, a score and a sentence a person can read).
The alerts service turns findings into alerts, work orders and notifications.

A detector reports a condition twice at most: once ``firing`` when it starts
and once ``resolved`` when it clears; both carry the same ``started_at``,
which is what makes the alert id stable across replays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FIRING = "firing"
RESOLVED = "resolved"
SEVERITIES = ("info", "warning", "critical")


@dataclass(slots=True)
class Finding:
    """One detector's verdict about one entity at one moment."""

    kind: str
    entity: str
    entity_type: str
    area: str
    feeder: str
    started_at: float
    at: float
    status: str = FIRING
    severity: str = "warning"
    detector: str = ""
    score: float = 1.0
    observed: dict[str, Any] = field(default_factory=dict)
    threshold: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    estimated_loss_kwh_per_day: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)
