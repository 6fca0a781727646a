"""The pure-Python implementation of every kernel, same API and results as `compiled`.

Chosen automatically by `gridwatch.ext` when the Cython extension is not built
(or when GRIDWATCH_PURE_PYTHON=1); tests import it directly to run the same
parity checks against both implementations.
"""

from river.base import AnomalyDetector

from .hst import HalfSpaceTreesAPI
from .pure_balance import LossAttribution
from .pure_change import Cusum, PageHinkley
from .pure_context import ContextCore
from .pure_forecast import ForecastCore
from .pure_hst import HSTCore
from .pure_seasonal import SeasonalBaseline
from .pure_stats import EWStats, MeanVar, RollingMeanVar
from .pure_voltage import (
    ABOVE,
    BELOW,
    QUALIFIED,
    UNMONITORED,
    VoltageQualification,
)

IMPLEMENTATION = "python"

__all__ = [
    "ABOVE",
    "BELOW",
    "IMPLEMENTATION",
    "QUALIFIED",
    "UNMONITORED",
    "ContextCore",
    "Cusum",
    "EWStats",
    "ForecastCore",
    "HalfSpaceTrees",
    "LossAttribution",
    "MeanVar",
    "PageHinkley",
    "RollingMeanVar",
    "SeasonalBaseline",
    "VoltageQualification",
]


class HalfSpaceTrees(HalfSpaceTreesAPI, HSTCore, AnomalyDetector):
    """Pure-Python drop-in for `river.anomaly.HalfSpaceTrees`; see `hst.HalfSpaceTreesAPI`."""
