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
findings passes through at once; an area's ``outage_area`` (firing, and its
resolution if that comes before the judgement) is held until the feeder can
be judged on event time, the readings' timestamps, whatever order the areas'
reports arrive in. The areas of a feeder live on different partitions, and
after a crash and catch-up one partition may be hours of readings ahead of
another, so one area's outage can be over in its reports before another
area's reports have even reached its start. The judgement therefore waits:
every known area must have reported at least up to the earliest held
start. If all of them went dark within ``window_s`` of it, one
``outage_feeder`` firing is published instead of the area ones, and one
resolved at the earliest time an area had supply again, once every area has
reported up to that time (so no earlier return can still arrive). A feeder
knows the areas that have reported at least once. The held area findings are released unchanged
only once every area not dark has reported past ``start + window_s``, when
no report still to come could make the feeder dark.
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
    >>> agg.observe("A1", "F1", 1800.0, [out("A1", 1800.0, "resolved")])
    []
    >>> [(f.kind, f.status, f.at) for f in agg.observe("A2", "F1", 1800.0, [])]
    [('outage_feeder', 'resolved', 1800.0)]
    """

    def __init__(self, window_s: float = 900.0, state: dict[str, Any] | None = None) -> None:
        self.window_s = window_s
        state = state or {}
        self.areas: dict[str, dict[str, float]] = state.get("areas", {})
        self.held: dict[str, list[dict[str, Any]]] = state.get("held", {})
        self.feeder_open: dict[str, float] = state.get("feeder_open", {})
        self.absorbed: dict[str, list[str]] = state.get("absorbed", {})
        self.back: dict[str, list[dict[str, Any]]] = state.get("back", {})

    def to_dict(self) -> dict[str, Any]:
        """Plain state for a Faust table; rebuild with ``FeederOutages(state=...)``."""
        return {"areas": self.areas, "held": self.held, "feeder_open": self.feeder_open,
                "absorbed": self.absorbed, "back": self.back}

    def observe(self, area: str, feeder: str, ts: float, findings: list[Finding]
                ) -> list[Finding]:
        """Record that `area` has reported up to `ts`; return the findings to publish."""
        known = self.areas.setdefault(feeder, {})
        known[area] = max(ts, known.get(area, ts))
        held = self.held.setdefault(feeder, [])
        out: list[Finding] = []
        for finding in findings:
            if finding.kind != OUTAGE_AREA:
                out.append(finding)
            elif finding.status == FIRING or any(h["entity"] == finding.entity for h in held):
                held.append(finding.to_dict())      # judged with the rest of its feeder
            elif finding.entity in self.absorbed.get(feeder, []):
                self._area_back(feeder, finding.to_dict())
            else:
                out.append(finding)                 # the end of an outage already released
        return out + self._decide(feeder) + self._settle(feeder)

    def _decide(self, feeder: str) -> list[Finding]:
        """Judge the earliest held outage once the areas' reports allow it; repeat."""
        out: list[Finding] = []
        while True:
            held = self.held.get(feeder, [])
            firing = [h for h in held if h["status"] == FIRING]
            if not firing:
                return out
            known = self.areas[feeder]
            start = min(h["started_at"] for h in firing)
            if any(seen < start for seen in known.values()):
                return out
            dark = {h["entity"] for h in firing if h["started_at"] - start <= self.window_s}
            if len(known) > 1 and dark >= set(known):
                out += self._feeder_dark(feeder, start, dark)
            elif len(known) <= 1 or all(seen >= start + self.window_s
                                        for a, seen in known.items() if a not in dark):
                self.held[feeder] = [h for h in held if h["entity"] not in dark]
                out += [Finding.from_dict(h) for h in held if h["entity"] in dark]
            else:
                return out

    def _feeder_dark(self, feeder: str, start: float, dark: set[str]) -> list[Finding]:
        """One ``outage_feeder`` for the areas in ``dark``; resolved too if one is back."""
        held = self.held[feeder]
        mine = [h for h in held if h["entity"] in dark]
        self.held[feeder] = [h for h in held if h["entity"] not in dark]
        firing = [h for h in mine if h["status"] == FIRING]
        known = self.areas[feeder]
        self.feeder_open[feeder] = start
        self.absorbed[feeder] = sorted(dark)
        out = [Finding(
            kind=OUTAGE_FEEDER, entity=feeder, entity_type="feeder", area="",
            feeder=feeder, started_at=start, at=max(h["at"] for h in firing), status=FIRING,
            severity="critical", detector=NAME, score=1.0,
            observed={"dark_areas": sorted(dark)},
            threshold={"areas_on_feeder": len(known), "window_s": self.window_s},
            reason=(f"All {len(known)} areas of feeder {feeder} lost supply together: "
                    f"the fault is on the feeder, not in an area."),
            evidence={"first_area_finding": Finding.from_dict(firing[0]).reason})]
        for back in (h for h in mine if h["status"] == RESOLVED):
            self._area_back(feeder, back)
        return out

    def _area_back(self, feeder: str, resolved: dict[str, Any]) -> None:
        """An absorbed area has supply again: a candidate end of the feeder outage."""
        if resolved["entity"] in self.absorbed[feeder]:
            self.absorbed[feeder].remove(resolved["entity"])
            if feeder in self.feeder_open:
                self.back.setdefault(feeder, []).append(resolved)

    def _settle(self, feeder: str) -> list[Finding]:
        """Resolve the feeder outage at the earliest time an area was back, once every area
        has reported up to it (so no earlier return can still arrive)."""
        back = self.back.get(feeder)
        if not back or feeder not in self.feeder_open:
            return []
        first = min(back, key=lambda h: h["at"])
        if any(seen < first["at"] for seen in self.areas[feeder].values()):
            return []
        self.back[feeder] = []
        return self._resolve_feeder(feeder, Finding.from_dict(first))

    def _resolve_feeder(self, feeder: str, finding: Finding) -> list[Finding]:
        start = self.feeder_open.pop(feeder)
        return [Finding(kind=OUTAGE_FEEDER, entity=feeder, entity_type="feeder", area="",
                        feeder=feeder, started_at=start, at=finding.at, status=RESOLVED,
                        severity="critical", detector=NAME, score=0.0,
                        reason=f"Supply is back on feeder {feeder} (area {finding.entity}).")]
