"""The detector contract: what every area detector declares and the one call it answers.

Why a contract: the pipeline runs a list of detectors and knows nothing of
any one of them, so adding a kind of problem is one new module (its detector)
plus its registry entry (`gridwatch.vocabulary.kinds`), not edits across the
pipeline, the worker and the evaluator. Shaped like River's estimators: the
parameters are given once, the state lives in plain attributes (here: in the
area's `AreaState`, since one detector object serves every area), and one
method takes one observation.

An area detector declares

* ``name``: the ``detector`` its findings carry;
* ``settings_keys``: its parts of ``detectors:`` in the configuration, which
  `from_settings` reads;
* ``State``: a ``TypedDict`` naming the keys it owns in ``AreaState.scalars``
  (its typed slice of the area state; no two detectors share a key);
* ``observe(interval) -> list[Finding]``: judge one interval of one area.

What one detector concludes that a later one needs (the fault detector's
`FaultView`, data quality's stuck meters) is put on the `Interval`, in the
order the detectors run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from ..config import DetectorSettings
from ..vocabulary.findings import Finding
from ..vocabulary.measurements import MetricPoint
from ..vocabulary.schema import Batch
from .episodes import Episodes
from .frame import IntervalFrame
from .state import AreaState, MeterTable

if TYPE_CHECKING:
    from .faults import FaultView


@dataclass(slots=True)
class Interval:
    """One interval of one area, and what the detectors that ran so far concluded about it."""

    batch: Batch
    frame: IntervalFrame
    state: AreaState
    episodes: Episodes
    points: list[MetricPoint]
    tags: dict[str, str]
    powered: np.ndarray                      # meters with supply (lowest phase above dead)
    stuck: np.ndarray | None = None          # set by data quality: meters repeating a reading
    faults: FaultView | None = None          # set by the fault detector
    qualification_rate: float | None = None  # set by the low-voltage detector

    @property
    def ts(self) -> float:
        return self.frame.ts

    @property
    def table(self) -> MeterTable:
        return self.state.meters

    @property
    def scalars(self) -> dict[str, Any]:
        return self.state.scalars

    def judged(self, since: int) -> list[Finding]:
        """The findings emitted in this batch after the first ``since`` (one detector's)."""
        return self.episodes.findings[since:]


class AreaDetector(Protocol):
    """What the pipeline needs of a detector (see the module docstring)."""

    name: ClassVar[str]
    settings_keys: ClassVar[tuple[str, ...]]
    State: ClassVar[type]

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> AreaDetector: ...

    def observe(self, interval: Interval) -> list[Finding]: ...


def state_keys(detector: type) -> frozenset[str]:
    """The ``AreaState.scalars`` keys a detector class declares it owns."""
    return frozenset(getattr(detector.State, "__annotations__", {}))
