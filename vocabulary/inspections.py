"""The outcome of an inspection: a closed work order, as the detection stage learns from it.

Why a record of its own on a Kafka topic keyed by area: the work order is
closed in the alerts service, the meter's theft features live in the
area's state on the worker that owns the area's partition. A record keyed
by area lands on that partition, where the worker applies it to the area's
inspection learner (`gridwatch.detectors.theft_watch`).

Which findings teach theft: ``confirmed`` is a thief, ``not_confirmed``
and ``false_alarm`` are honest customers; ``repaired`` (a fault fixed) says
nothing about theft.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

THEFT_VERDICTS: dict[str, bool] = {"confirmed": True, "not_confirmed": False,
                                   "false_alarm": False}


@dataclass(frozen=True)
class InspectionOutcome:
    """One closed work order about one meter.

    >>> o = InspectionOutcome.from_dict({"area": "A1", "meter": "m7", "kind": "theft_bypass",
    ...                                  "finding": "false_alarm", "alert_id": "tb-1",
    ...                                  "closed_at": 1.0})
    >>> o.confirmed, InspectionOutcome.from_dict(o.to_dict()) == o
    (False, True)
    >>> InspectionOutcome.from_dict({"area": "A1"})
    Traceback (most recent call last):
    ...
    ValueError: inspection outcome: field 'meter' must be a non-empty string, got None
    """

    area: str
    meter: str
    kind: str
    finding: str
    alert_id: str
    closed_at: float

    @property
    def confirmed(self) -> bool | None:
        """Theft confirmed (True), not found (False), or no theft verdict (None)."""
        return THEFT_VERDICTS.get(self.finding)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> InspectionOutcome:
        """Validate a record of the inspections topic; every bad field is named."""
        if not isinstance(data, dict):
            raise ValueError(f"inspection outcome: must be a JSON object, got "
                             f"{type(data).__name__}")
        for key in ("area", "meter", "kind", "finding", "alert_id"):
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"inspection outcome: field {key!r} must be a non-empty "
                                 f"string, got {value!r}")
        closed = data.get("closed_at")
        if isinstance(closed, bool) or not isinstance(closed, (int, float)) \
                or not math.isfinite(closed):
            raise ValueError(f"inspection outcome: field 'closed_at' must be epoch seconds, "
                             f"got {closed!r}")
        return cls(data["area"], data["meter"], data["kind"], data["finding"],
                   data["alert_id"], float(closed))
