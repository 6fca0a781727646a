"""The scoring rule: which alerts are true, which labels were found, and how fast.

The rule (event level, per kind):

1. An *alert* is a ``firing`` finding; it starts at ``at``, the moment the
   detector raised it (what an operator sees), not ``started_at`` (the
   detector's own estimate of when the condition began, kept as evidence).
2. An alert *matches* a label when the kinds are equal, the alert names the
   labelled entity, and it starts within
   ``[label.start - EARLY_S, label.end + TOLERANCE_S[kind]]``.
   Naming the entity depends on the label's level: a meter label needs that
   meter; an area label accepts the area as entity or as the alert's area; a
   concentrator label accepts the concentrator or its area; a feeder label
   accepts the feeder or any area on it (a per-area detector sees only its area).
   ``EARLY_S`` (one hour) absorbs meters whose clocks run early.
3. An alert that matches no label of its kind but matches a label of a kind
   that *causes* it (`explained_by`, the registry's ``consequence_of``: an area
   outage during its feeder's outage, a meter losing power in an area outage,
   low voltage under a transformer overload or a sag, one theft kind on a meter
   labelled with another: the same inspection finds it) is *explained*: a true
   symptom, not a false alarm, and counted in neither precision's numerator nor
   its denominator.
4. Per kind: ``precision`` = matching alerts / (matching + false alerts);
   ``recall`` = labels matched by at least one alert / labels; ``f1`` their
   harmonic mean; ``delay`` of a found label = first matching alert's start -
   label start, reported as median and 95th percentile. A value that is
   undefined (no alerts, no labels, nothing found) is ``None`` (JSON null).
5. An early warning (a kind that ``leads`` others in the registry, e.g.
   ``forecast_overload`` -> ``transformer_overload``) announces an event of
   another kind, so it is judged by the *leads* rule: it is true when a
   label of a led kind on its entity has its onset within the kind's
   ``lead_s`` after the warning, or is still under way when the warning
   fires; one announcing, in the same way, a problem its kind is a
   consequence of (low voltage ahead of an overload) is explained; otherwise
   it was not followed by the event and is false. Its
   ``events`` are the led labels, ``recall`` the share warned before they
   ended, and per label the *lead* = onset - first warning (positive =
   ahead). The onset is the label's start unless the caller knows when the
   event really began (``onsets``: an overload label starts with the load's
   rise, the transformer is overloaded at the next peak). Its scores add
   ``lead_median_h`` and ``warned_ahead_share`` (labels warned at least
   `LEAD_TARGET_S` ahead of onset / labels) to the usual keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.kinds import AREA, CONCENTRATOR, FEEDER, KINDS, METER, leading
from ..vocabulary.labels import Label

HOUR_S = 3600.0
EARLY_S = HOUR_S

DEFAULT_TOLERANCE_S = 6 * HOUR_S
LEAD_TARGET_S = 6 * HOUR_S


def tolerance_s(kind: str) -> float:
    """How late after a label's end an alert of ``kind`` still finds it (the registry's)."""
    known = KINDS.get(kind)
    return known.tolerance_s if known is not None else DEFAULT_TOLERANCE_S


def explained_by(kind: str) -> tuple[str, ...]:
    """The kinds whose labels explain an alert of ``kind`` (its registered causes)."""
    known = KINDS.get(kind)
    return known.consequence_of if known is not None else ()


def names_entity(alert: Finding, label: Label) -> bool:
    """Does the alert point at the labelled entity (at the label's level)?

    >>> lb = Label("outage_feeder", "F01", "feeder", "", "F01", 0.0, 3600.0)
    >>> names_entity(Finding("outage_feeder", "F01-A02", "area", "F01-A02", "F01", 0, 900), lb)
    True
    """
    level = KINDS[label.kind].level if label.kind in KINDS else label.entity_type
    if alert.entity == label.entity:
        return True
    if level == METER:
        return False
    if level in (AREA, CONCENTRATOR):
        return bool(label.area) and alert.area == label.area
    if level == FEEDER:
        return alert.feeder == label.feeder
    return False


def in_window(alert: Finding, label: Label) -> bool:
    return label.start - EARLY_S <= alert.at <= label.end + tolerance_s(label.kind)


def matches(alert: Finding, label: Label) -> bool:
    return alert.kind == label.kind and in_window(alert, label) and names_entity(alert, label)


def announces(alert: Finding, label: Label, onset: float) -> bool:
    """Is the early warning ``alert`` followed by the labelled event (rule 5)?

    >>> lb = Label("transformer_overload", "A1", "area", "A1", "F1", 36_000.0, 90_000.0)
    >>> warn = Finding("forecast_overload", "A1", "area", "A1", "F1", 0, 7_200.0)
    >>> announces(warn, lb, onset=36_000.0), announces(warn, lb, onset=200_000.0)
    (True, False)
    """
    known = KINDS.get(alert.kind)
    return (known is not None and label.kind in known.leads and ahead_of(alert, label, onset))


def ahead_of(alert: Finding, label: Label, onset: float) -> bool:
    """Does the warning ``alert`` come at most its kind's ``lead_s`` before ``onset`` of the
    labelled problem on its entity, or while it lasts?"""
    known = KINDS.get(alert.kind)
    return (known is not None and names_entity(alert, label)
            and onset - known.lead_s <= alert.at <= label.end)


@dataclass
class AlertVerdict:
    """How one alert was judged."""

    alert: Finding
    verdict: str                      # "true", "explained" or "false"
    label: Label | None = None


@dataclass
class KindScore:
    """Scores of one kind, plus the judged alerts and labels behind them."""

    kind: str
    events: int = 0
    alerts: int = 0
    true_alerts: int = 0
    explained_alerts: int = 0
    found: int = 0
    delays_s: list[float] = field(default_factory=list)
    leads_s: list[float] = field(default_factory=list)     # early warnings: onset - warning
    missed: list[Label] = field(default_factory=list)
    false_alerts: list[Finding] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        judged = self.alerts - self.explained_alerts
        return None if judged == 0 else self.true_alerts / judged

    @property
    def recall(self) -> float | None:
        return None if self.events == 0 else self.found / self.events

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)

    def delay(self, q: float) -> float | None:
        return None if not self.delays_s else float(np.percentile(self.delays_s, q))

    def to_dict(self) -> dict[str, float | int | None]:
        """Exactly the keys of the `gridwatch evaluate --json` contract."""
        def r4(x: float | None) -> float | None:
            return None if x is None else round(x, 4)
        out = {"events": self.events, "alerts": self.alerts, "precision": r4(self.precision),
               "recall": r4(self.recall), "f1": r4(self.f1),
               "delay_median_s": r4(self.delay(50)), "delay_p95_s": r4(self.delay(95))}
        if leading(self.kind):
            ahead = sum(lead >= LEAD_TARGET_S for lead in self.leads_s)
            out |= {"lead_median_h": (r4(float(np.median(self.leads_s)) / HOUR_S)
                                      if self.leads_s else None),
                    "warned_ahead_share": r4(ahead / self.events) if self.events else None}
        return out


@dataclass
class Evaluation:
    """Per-kind scores and every alert's verdict."""

    kinds: dict[str, KindScore]
    verdicts: list[AlertVerdict]

    def to_dict(self) -> dict[str, object]:
        return {"kinds": {k: s.to_dict() for k, s in sorted(self.kinds.items())}}


def score(labels: list[Label], findings: list[Finding],
          onsets: Mapping[Label, float] | None = None) -> Evaluation:
    """Judge every firing finding against the labels (see the module docstring).

    ``onsets`` gives, for some labels, when the event really began (rule 5).

    >>> lb = Label("meter_power_loss", "M1", "meter", "A1", "F1", 1000.0, 8200.0)
    >>> hit = Finding("meter_power_loss", "M1", "meter", "A1", "F1", 1900, 1900)
    >>> other = Finding("meter_power_loss", "M2", "meter", "A1", "F1", 1900, 1900)
    >>> ev = score([lb], [hit, other])
    >>> s = ev.kinds["meter_power_loss"]
    >>> (s.events, s.alerts, s.precision, s.recall, s.delays_s)
    (1, 2, 0.5, 1.0, [900.0])
    """
    alerts = sorted((f for f in findings if f.status == FIRING), key=lambda f: f.at)
    by_kind: dict[str, list[Label]] = defaultdict(list)
    for label in labels:
        by_kind[label.kind].append(label)
    kinds = {kind: KindScore(kind, events=len(group)) for kind, group in by_kind.items()}
    onsets = onsets or {}
    warned = _warning_kinds(by_kind)
    kinds |= {kind: KindScore(kind, events=sum(len(by_kind[k]) for k in leading(kind)))
              for kind in warned}
    first_hit: dict[int, float] = {}
    first_warning: dict[tuple[str, int], float] = {}
    verdicts = []
    for alert in alerts:
        kind_score = kinds.setdefault(alert.kind, KindScore(alert.kind))
        kind_score.alerts += 1
        if leading(alert.kind):
            ahead = next((lb for led in leading(alert.kind) for lb in by_kind.get(led, ())
                          if announces(alert, lb, onsets.get(lb, lb.start))), None)
            cause = None if ahead is not None else next(
                (lb for parent in explained_by(alert.kind) for lb in by_kind.get(parent, ())
                 if ahead_of(alert, lb, onsets.get(lb, lb.start))), None)
            if cause is not None:
                kind_score.explained_alerts += 1
                verdicts.append(AlertVerdict(alert, "explained", cause))
            elif ahead is None:
                kind_score.false_alerts.append(alert)
                verdicts.append(AlertVerdict(alert, "false"))
            else:
                kind_score.true_alerts += 1
                first_warning.setdefault((alert.kind, id(ahead)), alert.at)
                verdicts.append(AlertVerdict(alert, "true", ahead))
            continue
        hit = next((lb for lb in by_kind.get(alert.kind, ()) if matches(alert, lb)), None)
        if hit is not None:
            kind_score.true_alerts += 1
            first_hit.setdefault(id(hit), alert.at)
            verdicts.append(AlertVerdict(alert, "true", hit))
            continue
        cause = next((lb for parent in explained_by(alert.kind)
                      for lb in by_kind.get(parent, ())
                      if in_window(alert, lb) and names_entity(alert, lb)), None)
        if cause is not None:
            kind_score.explained_alerts += 1
            verdicts.append(AlertVerdict(alert, "explained", cause))
            continue
        kind_score.false_alerts.append(alert)
        verdicts.append(AlertVerdict(alert, "false"))
    for kind, group in by_kind.items():
        for label in group:
            if id(label) in first_hit:
                kinds[kind].found += 1
                kinds[kind].delays_s.append(first_hit[id(label)] - label.start)
            else:
                kinds[kind].missed.append(label)
    for kind in warned:
        for label in (lb for led in leading(kind) for lb in by_kind.get(led, ())):
            at = first_warning.get((kind, id(label)))
            if at is None:
                kinds[kind].missed.append(label)
                continue
            onset = onsets.get(label, label.start)
            kinds[kind].found += 1
            kinds[kind].delays_s.append(at - onset)
            kinds[kind].leads_s.append(onset - at)
    return Evaluation(kinds, verdicts)


def _warning_kinds(by_kind: Mapping[str, list[Label]]) -> tuple[str, ...]:
    """The early-warning kinds with at least one label of a kind they announce."""
    return tuple(name for name, known in KINDS.items()
                 if any(by_kind.get(led) for led in known.leads))


def merge(evaluations: list[Evaluation]) -> Evaluation:
    """Pool several runs (e.g. seeds) into one score: counts add up, delays pool.

    >>> lb = Label("phase_loss", "A1", "area", "A1", "F1", 0.0, 3600.0)
    >>> hit = Finding("phase_loss", "A1", "area", "A1", "F1", 900, 900)
    >>> pooled = merge([score([lb], [hit]), score([lb], [])]).kinds["phase_loss"]
    >>> (pooled.events, pooled.alerts, pooled.recall, pooled.delays_s)
    (2, 1, 0.5, [900.0])
    """
    kinds: dict[str, KindScore] = {}
    for evaluation in evaluations:
        for kind, part in evaluation.kinds.items():
            pooled = kinds.setdefault(kind, KindScore(kind))
            pooled.events += part.events
            pooled.alerts += part.alerts
            pooled.true_alerts += part.true_alerts
            pooled.explained_alerts += part.explained_alerts
            pooled.found += part.found
            pooled.delays_s += part.delays_s
            pooled.leads_s += part.leads_s
            pooled.missed += part.missed
            pooled.false_alerts += part.false_alerts
    return Evaluation(kinds, [v for evaluation in evaluations for v in evaluation.verdicts])
