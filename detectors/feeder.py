"""Feeder outage: every area of a feeder dark together, judged across areas.

Why a separate step: one `AreaPipeline.process` call sees one area only, so
it reports ``outage_area``. When all areas of a 10 kV feeder go dark in the
same interval the fault is upstream (the feeder breaker), and the field crew
needs one ``outage_feeder`` alert, not one per transformer.

How the detection stage uses it (`DetectionStage.judge_feeder`, in the
worker and the evaluator alike): one `FeederOutages` per feeder state (its
`to_dict` fits a Faust table keyed by feeder) hears every area's report::

    findings = feeders.observe(report.area, report.feeder, report.ts, report.findings)

`observe` returns the findings to publish: everything except outage
findings passes through at once; an area's ``outage_area`` firing is held
until every known area of the feeder has reported an interval at or after
its start. If they all went dark within ``window_s`` of each other, one
``outage_feeder`` firing is published instead of the area ones (and one
resolved when the first area has supply again); otherwise the held area
findings are released unchanged.
"""

from __future__ import annotations

from typing import Any

from ..vocabulary.findings import FIRING, RESOLVED, Finding
from ..vocabulary.kinds import OUTAGE_AREA, OUTAGE_FEEDER

NAME = "feeder_outage"
JUDGED_KINDS = frozenset({OUTAGE_AREA})   # what an area reports for its feeder to judge


class FeederOutages:
    """Cross-area aggregation of area outages into feeder outages.

    >>> agg = FeederOutages(window_s=900)
    >>> def out(area, ts, status="firing"):
    ...     return Finding("outage_area", area, "area", area, "F1", 900.0, ts, status=status)
    >>> agg.observe("A1", "F1", 0.0, [])
    []
    >>> agg.observe("A2", "F1", 0.0, [])
    []
    >>> agg.observe("A1", "F1", 900.0, [out("A1", 900.0)])
    []
    >>> [(f.kind, f.entity) for f in agg.observe("A2", "F1", 900.0, [out("A2", 900.0)])]
    [('outage_feeder', 'F1')]
    >>> [(f.kind, f.status) for f in agg.observe("A1", "F1", 1800.0,
    ...                                         [out("A1", 1800.0, "resolved")])]
    [('outage_feeder', 'resolved')]
    """

    def __init__(self, window_s: float = 900.0, state: dict[str, Any] | None = None) -> None:
        self.window_s = window_s
        state = state or {}
        self.areas: dict[str, dict[str, float]] = state.get("areas", {})
        self.held: dict[str, list[dict[str, Any]]] = state.get("held", {})
        self.feeder_open: dict[str, float] = state.get("feeder_open", {})
        self.absorbed: dict[str, list[str]] = state.get("absorbed", {})

    def to_dict(self) -> dict[str, Any]:
        """Plain state for a Faust table; rebuild with ``FeederOutages(state=...)``."""
        return {"areas": self.areas, "held": self.held, "feeder_open": self.feeder_open,
                "absorbed": self.absorbed}

    def observe(self, area: str, feeder: str, ts: float, findings: list[Finding]
                ) -> list[Finding]:
        """Record that `area` has reported up to `ts`; return the findings to publish."""
        known = self.areas.setdefault(feeder, {})
        known[area] = max(ts, known.get(area, ts))
        out: list[Finding] = []
        for finding in findings:
            if finding.kind != OUTAGE_AREA:
                out.append(finding)
            elif finding.status == FIRING:
                self.held.setdefault(feeder, []).append(finding.to_dict())
            elif finding.entity in self.absorbed.get(feeder, []):
                self.absorbed[feeder].remove(finding.entity)
                if feeder in self.feeder_open:
                    out += self._resolve_feeder(feeder, finding)
            else:
                held = self.held.get(feeder, [])
                mine = [Finding.from_dict(h) for h in held if h["entity"] == finding.entity]
                self.held[feeder] = [h for h in held if h["entity"] != finding.entity]
                out += mine + [finding]
        return out + self._decide(feeder)

    def _decide(self, feeder: str) -> list[Finding]:
        held = self.held.get(feeder, [])
        if not held:
            return []
        known = self.areas[feeder]
        start = min(h["started_at"] for h in held)
        if any(seen < start for seen in known.values()):
            return []
        dark = {h["entity"] for h in held if h["started_at"] - start <= self.window_s}
        self.held[feeder] = []
        if len(known) > 1 and dark >= set(known):
            first = Finding.from_dict(held[0])
            self.feeder_open[feeder] = start
            self.absorbed[feeder] = sorted(dark)
            return [Finding(
                kind=OUTAGE_FEEDER, entity=feeder, entity_type="feeder", area="",
                feeder=feeder, started_at=start, at=max(h["at"] for h in held), status=FIRING,
                severity="critical", detector=NAME, score=1.0,
                observed={"dark_areas": sorted(dark)},
                threshold={"areas_on_feeder": len(known), "window_s": self.window_s},
                reason=(f"All {len(known)} areas of feeder {feeder} lost supply together: "
                        f"the fault is on the feeder, not in an area."),
                evidence={"first_area_finding": first.reason})]
        return [Finding.from_dict(h) for h in held]

    def _resolve_feeder(self, feeder: str, finding: Finding) -> list[Finding]:
        start = self.feeder_open.pop(feeder)
        return [Finding(kind=OUTAGE_FEEDER, entity=feeder, entity_type="feeder", area="",
                        feeder=feeder, started_at=start, at=finding.at, status=RESOLVED,
                        severity="critical", detector=NAME, score=0.0,
                        reason=f"Supply is back on feeder {feeder} (area {finding.entity}).")]
