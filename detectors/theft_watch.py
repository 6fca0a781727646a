"""Theft features in the worker: every theft finding carries the meter's graded risk and signs.

Why: an inspector sent to a meter by the energy balance or a tamper sign
should see, in the alert, how that meter ranks among its peers on the same
online features `gridwatch theft rank` uses on real AMI data (the drop
against its own history, lost weekly rhythm, runs of zero and missing days,
level shifts: `gridwatch.detectors.theft_features`), and why. This detector
fires nothing of its own, so which alerts fire is unchanged; it adds to
the evidence of the theft findings the earlier detectors fired in the same
interval (``theft_risk``, ``theft_rank``, ``theft_signs``). A theft the
balance catches within hours has not yet moved the daily features, so the
live ranking of the area's open theft suspects is also written every day
(``gridwatch_theft_suspect``: risk and rank per suspect).

Once a day (local midnight, `TheftSettings.utc_offset_hours` as for the
balance bins) each meter's day is its import register's advance since the
last midnight, which is the sum of its four balance bins; NaN for a meter
that did not report that day or whose register went back (replaced). Days
on which the whole area was silent are fed as missing days. The features
live in the area state's meter columns (``theft_*``, 232 bytes per meter):
one bank object serves every area, bound to the area's columns.

Learning from inspections: closed theft work orders reach the area's state
(`apply_outcome`) with the meter's inputs at the time; the area's
`InspectionLearner` is refitted from them (replayed: one pass per finding
does not converge), asked about each meter's inputs clipped to the range
the inspected meters span (`within`), and blended with the unsupervised risk, so the risk and
rank in the evidence, and `suspects`, follow what the inspectors found.
One learner per area: the findings live in the area's state, on the
area's partition, recovered with it; peer z-scores make inputs comparable
across areas, but partitions are an accident of hashing and move on a
rebalance, so a per-partition model would change with the deployment.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..config import DetectorSettings, TheftSettings
from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.inspections import InspectionOutcome
from ..vocabulary.kinds import THEFT, kinds_where
from ..vocabulary.measurements import THEFT_SUSPECT, MetricPoint
from .state import AreaState, MeterTable, add_kernel_columns, bind_kernel
from .theft_features import FEATURES, TheftFeatures
from .theft_inspections import InspectionLearner, inspection_inputs
from .theft_rank import FINDINGS_PASSES
from .theft_risk import peer_scores, strongest_signs, unsupervised_risk

if TYPE_CHECKING:
    from .contract import Interval

NAME = "theft_watch"
PREFIX = "theft_"
DAY_START = "theft_day_start"        # import register at the open day's start
DAY_S = 86_400
MAX_GAP_DAYS = 62                    # silent days fed as missing, at most (then the area restarts)
MAX_INSPECTIONS = 200                # findings kept per area, newest last
LEARNERS_CACHED = 64
EPOCH_WEEKDAY = 3                    # 1970-01-01 was a Thursday (Monday = 0)
THEFT_KINDS = frozenset(kinds_where(THEFT))

add_kernel_columns(PREFIX, TheftFeatures, {})


class _DayStart:
    """The one column of the day's starting registers, in a kernel bank's layout spec."""

    _ARRAYS = (("day_start", "f8", (), np.nan),)


add_kernel_columns(PREFIX, _DayStart, {})


class TheftWatchState(TypedDict, total=False):
    """The theft watch's slice of ``AreaState.scalars``."""

    theft_day: int                            # the open (local) day number
    theft_inspections: dict[str, list[Any]]   # alert id -> [meter, confirmed, inputs, closed at]


@dataclass
class Suspect:
    """One meter of an area as the theft ranking sees it."""

    meter: str
    risk: float
    rank: int
    signs: list[tuple[str, float]]
    reasons: list[tuple[str, float]]


class TheftWatch:
    """Daily theft features per meter; graded risk and signs in theft findings' evidence.

    >>> from gridwatch.config import DetectorSettings
    >>> watch = TheftWatch.from_settings(DetectorSettings())
    >>> state = AreaState()
    >>> _ = state.meters.index_of(["m1", "m2"])
    >>> state.meters.col["energy"][:] = [0.0, 0.0]
    >>> state.meters.col["last_ts"][:] = [-900.0, -900.0]     # the last reading of day -1
    >>> watch.roll_day(state, 0)
    False
    >>> state.meters.col["energy"][:] = [12.0, 3.0]
    >>> state.meters.col["last_ts"][:] = [DAY_S - 900.0] * 2
    >>> watch.roll_day(state, 1)        # day 0 closes: 12 and 3 kWh
    True
    >>> state.meters.col["theft_present"].tolist(), state.scalars["theft_day"]
    ([1.0, 1.0], 1)
    """

    name = NAME
    settings_keys = ("theft",)
    State = TheftWatchState

    def __init__(self, settings: TheftSettings) -> None:
        self.offset_s = settings.utc_offset_hours * 3600.0
        self.bank = TheftFeatures(0)
        self._learners: OrderedDict[tuple, InspectionLearner] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> TheftWatch:
        return cls(settings.theft)

    def day_of(self, ts: float) -> int:
        """Local day holding the interval that ends at `ts` (one ending at midnight belongs
        to the day before, as for the balance bins)."""
        return int(math.floor((ts - 1 + self.offset_s) / DAY_S))

    def observe(self, interval: Interval) -> list[Finding]:
        """Close the day the interval leaves behind; annotate this interval's theft findings.

        Runs after the other detectors and before the meters' registers are
        overwritten, so ``energy`` still holds the registers at the midnight.
        """
        if self.roll_day(interval.state, self.day_of(interval.ts)):
            interval.points += suspect_points(interval.batch.area, self.suspects(interval.state),
                                              interval.ts)
        fresh = [f for f in interval.episodes.findings
                 if f.status == FIRING and f.kind in THEFT_KINDS and "theft_risk" not in f.evidence
                 and f.entity in interval.table.index]
        if fresh:
            ranked = {s.meter: s for s in self.rank(interval.state)}
            for finding in fresh:
                finding.evidence.update(evidence_of(ranked[finding.entity], len(ranked)))
        return []

    def roll_day(self, state: AreaState, day: int) -> bool:
        """Feed every day closed before `day` to the features (missing for a silent area);
        whether a day closed."""
        table, scalars = state.meters, state.scalars
        col = table.col
        open_day = scalars.get("theft_day")
        if open_day is not None and day <= open_day:
            return False
        if open_day is not None:
            start = open_day * DAY_S - self.offset_s
            kwh = col["energy"] - col[DAY_START]
            reported = (col["last_ts"] > start) & np.isfinite(kwh) & (kwh >= 0)
            self.learn_day(table, np.where(reported, kwh, np.nan), weekday(open_day))
            missing = np.full(len(table), np.nan)
            for gap in range(open_day + 1, min(day, open_day + 1 + MAX_GAP_DAYS)):
                self.learn_day(table, missing, weekday(gap))
        fresh = col["last_ts"] > (day * DAY_S - self.offset_s - DAY_S)
        col[DAY_START] = np.where(fresh, col["energy"], np.nan)
        scalars["theft_day"] = day
        return open_day is not None

    def learn_day(self, table: MeterTable, kwh: np.ndarray, day_of_week: int) -> None:
        """One day of the area's meters (`TheftFeatures.learn_one`) into the table's columns.

        The pure-Python bank replaces some arrays rather than updating them in
        place, so what it holds afterwards is written back to the columns.
        """
        bank = bind_kernel(table, PREFIX, self.bank)
        bank.learn_one(kwh, day_of_week)
        col = table.col
        for name, *_ in TheftFeatures._ARRAYS:
            column, value = col[PREFIX + name], getattr(bank, name)
            if value is not column:
                column[...] = value

    def features(self, table: MeterTable) -> dict[str, np.ndarray]:
        """The area's meters' theft features (`gridwatch.detectors.theft_features`)."""
        return bind_kernel(table, PREFIX, self.bank).features()

    def rank(self, state: AreaState) -> list[Suspect]:
        """Every meter of the area, riskiest first: unsupervised risk blended with what the
        area's inspections taught (`InspectionLearner`)."""
        table = state.meters
        if not len(table):
            return []
        scores = peer_scores(self.features(table))
        prior = unsupervised_risk(scores)
        learner = self.learner(state.scalars.get("theft_inspections", {}))
        risk, reasons = prior, [[] for _ in table.meters]
        if learner is not None:
            bounds = input_bounds(state.scalars["theft_inspections"])
            inputs = [within(inspection_inputs(scores, prior, i), bounds)
                      for i in range(len(table))]
            risk = np.array([learner.blend(learner.predict_one(x), p)
                             for x, p in zip(inputs, prior, strict=True)])
            reasons = [learner.reasons(x) for x in inputs]
        order = sorted(range(len(table)), key=lambda i: (-risk[i], table.meters[i]))
        return [Suspect(table.meters[i], float(risk[i]), rank + 1, strongest_signs(scores, i),
                        reasons[i]) for rank, i in enumerate(order)]

    def learner(self, inspections: dict[str, list[Any]]) -> InspectionLearner | None:
        """The model of the area's findings (replayed `FINDINGS_PASSES` times), or None
        before the first; refitted only when the findings change."""
        if not inspections:
            return None
        key = tuple((alert_id, found[3]) for alert_id, found in inspections.items())
        learner = self._learners.get(key)
        if learner is None:
            learner = InspectionLearner()
            learner.learn_many([(x, bool(confirmed)) for _, confirmed, x, _ in
                                inspections.values()], FINDINGS_PASSES)
            self._learners[key] = learner
            if len(self._learners) > LEARNERS_CACHED:
                self._learners.popitem(last=False)
        self._learners.move_to_end(key)
        return learner

    def apply_outcome(self, state: AreaState, outcome: InspectionOutcome) -> bool:
        """Record a closed theft inspection with the meter's inputs now; False when it
        teaches nothing (not a theft verdict, a meter the area does not know, or already
        recorded: the topic may be replayed). A work order reopened and closed again
        replaces its earlier verdict."""
        found = state.scalars.setdefault("theft_inspections", {})
        row = state.meters.index.get(outcome.meter)
        earlier = found.get(outcome.alert_id)
        if outcome.confirmed is None or row is None or (
                earlier is not None and earlier[3] == outcome.closed_at):
            return False
        scores = peer_scores(self.features(state.meters))
        x = inspection_inputs(scores, unsupervised_risk(scores), row)
        found.pop(outcome.alert_id, None)
        found[outcome.alert_id] = [outcome.meter, outcome.confirmed,
                                   {k: round(v, 4) for k, v in x.items()}, outcome.closed_at]
        while len(found) > MAX_INSPECTIONS:
            del found[next(iter(found))]
        return True

    def suspects(self, state: AreaState) -> list[Suspect]:
        """The meters with an open theft episode, riskiest first (what inspectors work on)."""
        accused = {key.split("|", 1)[1] for key in state.scalars.get("episodes", {})
                   if key.split("|", 1)[0] in THEFT_KINDS}
        return [s for s in self.rank(state) if s.meter in accused]


def input_bounds(inspections: dict[str, list[Any]]) -> dict[str, tuple[float, float]]:
    """Per input, the range the area's inspected meters span.

    >>> input_bounds({"a": ["m1", True, {"drop": 2.0}, 0.0],
    ...               "b": ["m2", False, {"drop": 0.5}, 1.0]})
    {'drop': (0.5, 2.0)}
    """
    rows = [x for _, _, x, _ in inspections.values()]
    return {name: (min(x[name] for x in rows), max(x[name] for x in rows)) for name in rows[0]}


def within(x: dict[str, float], bounds: dict[str, tuple[float, float]]) -> dict[str, float]:
    """`x` clipped to `bounds`: the model is not asked about inputs beyond what it was shown.

    Why: an area's model learns from a handful of inspected suspects; a
    linear model extrapolates far outside them (an honest meter unlike any
    suspect came out riskier than every thief in the tests before this).

    >>> within({"drop": 3.0, "zero_runs": 0.1}, {"drop": (0.5, 2.0), "zero_runs": (0.0, 1.0)})
    {'drop': 2.0, 'zero_runs': 0.1}
    """
    return {name: min(max(v, bounds[name][0]), bounds[name][1]) if name in bounds else v
            for name, v in x.items()}


def weekday(day: int) -> int:
    """Monday = 0 of a day number counted from 1970-01-01.

    >>> weekday(0), weekday(4)
    (3, 0)
    """
    return (day + EPOCH_WEEKDAY) % 7


def suspect_points(area: str, suspects: list[Suspect], ts: float) -> list[MetricPoint]:
    """The open theft suspects' risk and rank as metric points (the live ranking).

    >>> suspect_points("A1", [Suspect("m1", 0.8, 1, [], [])], 0.0)[0].fields
    {'risk': 0.8, 'rank': 1.0}
    """
    return [MetricPoint(THEFT_SUSPECT, {"area": area, "meter": s.meter},
                        {"risk": s.risk, "rank": float(s.rank)}, ts) for s in suspects]


def evidence_of(suspect: Suspect, meters: int) -> dict[str, Any]:
    """What a theft finding's evidence says of the meter's ranking.

    >>> evidence_of(Suspect("m1", 0.71234, 1, [("drop", 2.5)], []), 20)
    {'theft_risk': 0.712, 'theft_rank': '1 of 20', 'theft_signs': [['drop', 2.5]]}
    """
    out: dict[str, Any] = {"theft_risk": round(suspect.risk, 3),
                           "theft_rank": f"{suspect.rank} of {meters}",
                           "theft_signs": [[name, z] for name, z in suspect.signs]}
    if suspect.reasons:
        out["theft_inspection_reasons"] = [[name, v] for name, v in suspect.reasons]
    return out


__all__ = ["FEATURES", "Suspect", "TheftWatch", "evidence_of"]
