"""The Cython implementation of every kernel; importing it fails if the extension is not built.

Same names and results as `fallback`; `gridwatch.ext` picks one of the two.
"""

from river.base import AnomalyDetector

from ._balance import LossAttribution
from ._change import Cusum, PageHinkley
from ._context import ContextCore
from ._forecast import ForecastCore
from ._hst import HSTCore
from ._seasonal import SeasonalBaseline
from ._stats import EWStats, MeanVar, RollingMeanVar
from ._voltage import ABOVE, BELOW, QUALIFIED, UNMONITORED, VoltageQualification
from .hst import HalfSpaceTreesAPI

IMPLEMENTATION = "cython"

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
    """Compiled drop-in for `river.anomaly.HalfSpaceTrees`; see `hst.HalfSpaceTreesAPI`."""
