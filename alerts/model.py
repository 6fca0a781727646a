"""The alert: a detector Finding as the inspection team and the control room see it.

Why a deterministic id: a Kafka record can be delivered twice (a crash
before the offset commit, a replayed stream, a recovered worker). The id is
a hash of kind, entity and episode start, so the second copy of an episode
updates the same alert instead of creating another work order or
notification.

An alert carries two independent states:

* ``status`` (``firing`` / ``resolved``) is the detector's: the condition
  is present or has cleared;
* ``work_state`` is the people's: new -> acknowledged -> assigned ->
  in_progress -> closed, closed always with a ``finding`` (confirmed, not
  confirmed, repaired, false alarm). A theft can clear in the data and still
  need a visit; a work order can be closed while the condition still fires.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..vocabulary.findings import FIRING, RESOLVED, SEVERITIES

STATUSES = (FIRING, RESOLVED)
WORK_STATES = ("new", "acknowledged", "assigned", "in_progress", "closed")
CLOSE_FINDINGS = ("confirmed", "not_confirmed", "repaired", "false_alarm")
MAX_RECORD_BYTES = 1_000_000


class AlertParseError(ValueError):
    """A record on the alerts topic is not a valid Finding; the message says why."""


def alert_id(kind: str, entity: str, started_at: float) -> str:
    """Stable id of one episode of one condition on one entity.

    >>> alert_id("low_voltage_zone", "F01-A01", 1767571200.0)
    'lvz-0fec6c63cb1471dd6086'
    >>> alert_id("low_voltage_zone", "F01-A01", 1767571200.0004) == alert_id(
    ...     "low_voltage_zone", "F01-A01", 1767571200.0)
    True
    """
    digest = hashlib.sha256(f"{kind}|{entity}|{started_at:.3f}".encode()).hexdigest()[:20]
    prefix = "".join(part[0] for part in kind.split("_") if part)[:4] or "a"
    return f"{prefix}-{digest}"


@dataclass
class Alert:
    """One episode of one condition on one entity, with its work order."""

    id: str
    kind: str
    severity: str
    entity: str
    entity_type: str
    area: str
    feeder: str
    started_at: float
    last_seen: float
    status: str = FIRING
    ended_at: float | None = None
    detector: str = ""
    score: float = 1.0
    reason: str = ""
    observed: dict[str, Any] = field(default_factory=dict)
    threshold: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    estimated_loss_kwh_per_day: float | None = None
    received_at: float = 0.0
    work_state: str = "new"
    team: str = ""
    assignee: str = ""
    finding: str = ""
    closed_at: float | None = None

    @property
    def meter(self) -> str:
        """The meter concerned, empty when the alert is about an area or a feeder."""
        return self.entity if self.entity_type == "meter" else ""

    def labels(self) -> dict[str, str]:
        """What routes, silences and inhibition rules match on."""
        return {
            "kind": self.kind, "severity": self.severity, "entity": self.entity,
            "entity_type": self.entity_type, "area": self.area, "feeder": self.feeder,
            "meter": self.meter, "detector": self.detector, "team": self.team,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def merge_sighting(stored: Alert, incoming: Alert) -> Alert:
    """The stored alert updated by a newer (or replayed) record of the same episode.

    The detector's facts come from the latest sighting; the work order, the
    first receipt and the team stay as people and routing left them. An
    episode once resolved stays resolved: a late, replayed ``firing`` record
    of the same episode must not reopen it.
    """
    merged = Alert.from_dict(stored.to_dict())
    if incoming.last_seen >= stored.last_seen:
        merged.last_seen = incoming.last_seen
        merged.severity, merged.score, merged.reason = (incoming.severity, incoming.score,
                                                        incoming.reason)
        merged.observed, merged.threshold = incoming.observed, incoming.threshold
        merged.evidence = incoming.evidence
        merged.estimated_loss_kwh_per_day = incoming.estimated_loss_kwh_per_day
    if incoming.status == RESOLVED and stored.status != RESOLVED:
        merged.status, merged.ended_at = RESOLVED, incoming.ended_at
    return merged


def _need_str(data: dict[str, Any], key: str, allow_empty: bool = False) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise AlertParseError(f"field '{key}' must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise AlertParseError(f"field '{key}' must not be empty")
    return value


def _need_time(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AlertParseError(f"field '{key}' must be a finite number of epoch seconds, "
                              f"got {value!r}")
    if value < 0:
        raise AlertParseError(f"field '{key}' must not be negative, got {value!r}")
    return float(value)


def _optional_mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AlertParseError(f"field '{key}' must be an object, got {type(value).__name__}")
    return value


def alert_from_finding(data: dict[str, Any], received_at: float) -> Alert:
    """Validate a `Finding.to_dict()` mapping and build the alert it describes."""
    if not isinstance(data, dict):
        raise AlertParseError(f"record must be a JSON object, got {type(data).__name__}")
    kind = _need_str(data, "kind")
    entity = _need_str(data, "entity")
    entity_type = _need_str(data, "entity_type")
    area = _need_str(data, "area", allow_empty=True)
    feeder = _need_str(data, "feeder", allow_empty=True)
    started_at = _need_time(data, "started_at")
    at = _need_time(data, "at")
    status = data.get("status", FIRING)
    if status not in STATUSES:
        raise AlertParseError(f"field 'status' must be one of {', '.join(STATUSES)}, "
                              f"got {status!r}")
    severity = data.get("severity", "warning")
    if severity not in SEVERITIES:
        raise AlertParseError(f"field 'severity' must be one of {', '.join(SEVERITIES)}, "
                              f"got {severity!r}")
    if at < started_at:
        raise AlertParseError(f"field 'at' ({at}) is before 'started_at' ({started_at})")
    score = data.get("score", 1.0)
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise AlertParseError(f"field 'score' must be a finite number, got {score!r}")
    loss = data.get("estimated_loss_kwh_per_day")
    if loss is not None and (isinstance(loss, bool) or not isinstance(loss, (int, float))
                             or not math.isfinite(loss)):
        raise AlertParseError(f"field 'estimated_loss_kwh_per_day' must be a number or null, "
                              f"got {loss!r}")
    reason = data.get("reason", "")
    detector = data.get("detector", "")
    if not isinstance(reason, str) or not isinstance(detector, str):
        raise AlertParseError("fields 'reason' and 'detector' must be strings")
    return Alert(
        id=alert_id(kind, entity, started_at), kind=kind, severity=severity, entity=entity,
        entity_type=entity_type, area=area, feeder=feeder, started_at=started_at, last_seen=at,
        status=status, ended_at=at if status == RESOLVED else None, detector=detector,
        score=float(score), reason=reason, observed=_optional_mapping(data, "observed"),
        threshold=_optional_mapping(data, "threshold"),
        evidence=_optional_mapping(data, "evidence"),
        estimated_loss_kwh_per_day=None if loss is None else float(loss),
        received_at=received_at,
    )


def parse_alert_record(value: bytes | None, received_at: float) -> Alert:
    """Decode one Kafka record value of the alerts topic, or say why it cannot be.

    >>> try:
    ...     parse_alert_record(b"not json", 0.0)
    ... except AlertParseError as exc:
    ...     print(exc)
    record is not valid JSON: Expecting value (char 0)
    """
    if value is None:
        raise AlertParseError("record has no value")
    if len(value) > MAX_RECORD_BYTES:
        raise AlertParseError(f"record of {len(value)} bytes exceeds {MAX_RECORD_BYTES}")
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        position = f" (char {exc.pos})" if isinstance(exc, json.JSONDecodeError) else ""
        raise AlertParseError(f"record is not valid JSON: {message}{position}") from exc
    return alert_from_finding(data, received_at)
