"""The area detectors the pipeline runs, in the order it runs them.

Why an explicit, ordered list: a detector may read what an earlier one
concluded (the stuck meters, the fault verdict), so the order is part of the
design: data quality first, then faults (they decide whether the area is
powered at all), theft signs, the energy balance, low-voltage zones, and last the
load forecast (it reads their verdicts and changes nothing they read). A new
detector is appended here (or, from its own module, with `register_detector`)
and its kinds registered in `gridwatch.vocabulary.kinds`.
"""

from __future__ import annotations

from .balance import EnergyBalance
from .contract import AreaDetector
from .data_quality import DataQualityChecks
from .faults import FaultDetector
from .forecast_detector import ForecastDetector
from .low_voltage import LowVoltageZoneDetector
from .theft_signs import TheftSignDetector
from .theft_watch import TheftWatch

AREA_DETECTORS: list[type[AreaDetector]] = [
    DataQualityChecks,
    FaultDetector,
    TheftSignDetector,
    EnergyBalance,
    LowVoltageZoneDetector,
    ForecastDetector,
    TheftWatch,               # last: annotates the theft findings of the detectors above
]


def register_detector(detector: type[AreaDetector]) -> type[AreaDetector]:
    """Run ``detector`` after the others in every pipeline built from now on (a decorator)."""
    if detector in AREA_DETECTORS:
        raise ValueError(f"detector {detector.__name__} is already registered")
    AREA_DETECTORS.append(detector)
    return detector
