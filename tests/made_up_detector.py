"""A made-up detector kind, added the way the architecture says: one module, two registrations.

Importing this module is all it takes: the kind goes into the problem-kind
registry (`gridwatch.vocabulary.kinds`) and the detector into the area
detector registry (`gridwatch.detectors.registry`); nothing else of the
package is edited. The detector reports an area whose meters report a
``hum`` event (a transformer humming audibly, as a field crew would note it)
and resolves on the first interval without one.
"""

from __future__ import annotations

from typing import TypedDict

from gridwatch.config import DetectorSettings
from gridwatch.detectors.contract import Interval
from gridwatch.detectors.registry import register_detector
from gridwatch.vocabulary import kinds
from gridwatch.vocabulary.findings import Finding

NAME = "hum"
HUM = kinds.register(kinds.ProblemKind(
    "transformer_hum", kinds.AREA, kinds.FAULT, NAME, severity="info",
    muted_by=(kinds.OUTAGE_AREA, kinds.OUTAGE_FEEDER), tolerance_s=2 * kinds.HOUR_S))


class HumState(TypedDict, total=False):
    """The hum detector's slice of ``AreaState.scalars``."""

    hum_intervals: int     # intervals with a hum reported, since the area was first seen


@register_detector
class HumDetector:
    """Fires ``transformer_hum`` on the area while any of its meters reports ``hum``."""

    name = NAME
    settings_keys = ()
    State = HumState

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> HumDetector:
        return cls()

    def observe(self, interval: Interval) -> list[Finding]:
        since = len(interval.episodes.findings)
        area, episodes = interval.batch.area, interval.episodes
        humming = [r.meter for r in interval.frame.readings if "hum" in r.events]
        if humming:
            interval.scalars["hum_intervals"] = interval.scalars.get("hum_intervals", 0) + 1
            episodes.fire(HUM, area, kinds.AREA, at=interval.ts, detector=NAME,
                          observed={"meters": humming}, reason=f"Meters {humming} hear a hum.")
        elif episodes.is_open(HUM, area):
            episodes.resolve(HUM, area, at=interval.ts, reason="The hum has stopped.")
        return interval.judged(since)
