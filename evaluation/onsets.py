"""When a labelled event really began, for scoring the early warnings that announce it.

Why: the simulator labels a transformer overload from the moment the area's
demand rises, but the transformer is overloaded only once that load reaches
its rating, usually at the next evening peak. "Warned six hours ahead" means
ahead of that moment, which a forecast can see coming once the rise shows,
not ahead of the rise itself, which no forecast from the load alone can.
The onset is read from the run's own forecast points (the hour's mean load
and the rating, `gridwatch_forecast`); a label whose load never reached the
rating keeps its start.
"""

from __future__ import annotations

from ..vocabulary.kinds import TRANSFORMER_OVERLOAD
from ..vocabulary.labels import Label
from ..vocabulary.measurements import AREA_FORECAST
from .runner import RunResult

HOUR_S = 3600.0


def overload_onset(label: Label, run: RunResult, ratio: float = 1.0) -> float:
    """Start of the first hour in the label whose mean load reached ``ratio`` x the rating."""
    load = run.traces.get((AREA_FORECAST, "load", label.area))
    rated = run.traces.get((AREA_FORECAST, "rated", label.area))
    if load is None or rated is None:
        return label.start
    rating = dict(zip(rated.ts, rated.values, strict=True))
    for ts, value in zip(load.ts, load.values, strict=True):
        if label.start < ts <= label.end and value >= ratio * rating.get(ts, float("inf")):
            return max(label.start, ts - HOUR_S)
    return label.start


def event_onsets(labels: list[Label], run: RunResult, overload_ratio: float = 1.0
                 ) -> dict[Label, float]:
    """The onsets known better than the label's start (the overloads')."""
    return {label: overload_onset(label, run, overload_ratio) for label in labels
            if label.kind == TRANSFORMER_OVERLOAD}
