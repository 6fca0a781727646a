"""Episodes: each condition fires once when it starts and resolves once when it clears.

Why a shared book-keeper: every detector has the same duty towards the
alerts service (one ``firing`` finding per episode, one ``resolved`` with the
same ``started_at``, nothing in between), and the open episodes must survive
a worker restart. They are kept in the area state's scalars as
``{"kind|entity": {...}}`` so a replay after recovery does not fire twice.
"""

from __future__ import annotations

from typing import Any

from ..vocabulary.findings import FIRING, RESOLVED, Finding
from ..vocabulary.kinds import kind_of


class Episodes:
    """Open conditions of one area, and the findings produced in this batch.

    >>> store: dict = {}
    >>> ep = Episodes(store, "A1", "F1")
    >>> ep.fire("outage_area", "A1", "area", at=900, detector="faults", reason="dark")
    >>> ep.fire("outage_area", "A1", "area", at=1800, detector="faults", reason="dark")
    >>> ep.resolve("outage_area", "A1", at=2700, reason="back")
    >>> [(f.status, f.started_at, f.at) for f in ep.findings]
    [('firing', 900.0, 900.0), ('resolved', 900.0, 2700.0)]
    >>> store
    {}
    """

    def __init__(self, store: dict[str, dict[str, Any]], area: str, feeder: str) -> None:
        self.store = store
        self.area = area
        self.feeder = feeder
        self.findings: list[Finding] = []

    @staticmethod
    def key(kind: str, entity: str) -> str:
        return f"{kind}|{entity}"

    def is_open(self, kind: str, entity: str) -> bool:
        return self.key(kind, entity) in self.store

    def open_entities(self, kind: str) -> list[str]:
        if not self.store:                 # the usual case: asked many times per interval
            return []
        prefix = f"{kind}|"
        return [k[len(prefix):] for k in self.store if k.startswith(prefix)]

    def fire(self, kind: str, entity: str, entity_type: str, *, at: float, detector: str,
             reason: str, started_at: float | None = None, score: float = 1.0,
             severity: str | None = None, observed: dict[str, Any] | None = None,
             threshold: dict[str, Any] | None = None, evidence: dict[str, Any] | None = None,
             loss_kwh_per_day: float | None = None) -> None:
        """Open an episode and emit its firing finding; a no-op while it is already open.

        ``severity`` defaults to the kind's registered one (`gridwatch.vocabulary.kinds`).
        """
        key = self.key(kind, entity)
        if key in self.store:
            return
        start = float(at if started_at is None else started_at)
        severity = severity or kind_of(kind).severity
        self.store[key] = {"started_at": start, "entity_type": entity_type,
                           "detector": detector, "severity": severity, "last_seen": float(at)}
        self.findings.append(Finding(
            kind=kind, entity=entity, entity_type=entity_type, area=self.area,
            feeder=self.feeder, started_at=start, at=float(at), status=FIRING,
            severity=severity, detector=detector, score=round(float(score), 4),
            observed=observed or {}, threshold=threshold or {}, reason=reason,
            evidence=evidence or {},
            estimated_loss_kwh_per_day=(None if loss_kwh_per_day is None
                                        else round(float(loss_kwh_per_day), 3)),
        ))

    def touch(self, kind: str, entity: str, at: float) -> None:
        """Note that an open episode's condition was seen again at `at` (see `sweep`)."""
        opened = self.store.get(self.key(kind, entity))
        if opened is not None:
            opened["last_seen"] = float(at)

    def sweep(self, kind: str, at: float, quiet_s: float, reason: str) -> None:
        """Resolve episodes of `kind` whose condition has not been seen for `quiet_s`.

        For conditions made of discrete signs (tamper events, duplicates) there is
        no "clear" reading, only the absence of new signs.
        """
        for entity in self.open_entities(kind):
            opened = self.store[self.key(kind, entity)]
            if at - opened.get("last_seen", opened["started_at"]) >= quiet_s:
                self.resolve(kind, entity, at=at, reason=reason)

    def resolve(self, kind: str, entity: str, *, at: float, reason: str,
                observed: dict[str, Any] | None = None, score: float = 0.0) -> None:
        """Close an open episode and emit its resolved finding; a no-op if none is open."""
        opened = self.store.pop(self.key(kind, entity), None)
        if opened is None:
            return
        self.findings.append(Finding(
            kind=kind, entity=entity, entity_type=opened["entity_type"], area=self.area,
            feeder=self.feeder, started_at=opened["started_at"], at=float(at),
            status=RESOLVED, severity=opened["severity"], detector=opened["detector"],
            score=round(float(score), 4), observed=observed or {}, reason=reason,
        ))
