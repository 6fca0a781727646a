"""The Cython implementation of every kernel; importing it fails if the extension is not built.

Same names and results as `fallback`; `gridwatch.ext` picks one of the two.
"""

from river.base import AnomalyDetector

from gridwatch.ext._balance import LossAttribution
from gridwatch.ext._change import Cusum, PageHinkley
from gridwatch.ext._forecast import ForecastCore
from gridwatch.ext._hst import HSTCore
from gridwatch.ext._seasonal import SeasonalBaseline
from gridwatch.ext._stats import EWStats, MeanVar, RollingMeanVar
from gridwatch.ext._voltage import ABOVE, BELOW, QUALIFIED, UNMONITORED, VoltageQualification
from gridwatch.ext.hst import HalfSpaceTreesAPI

IMPLEMENTATION = "cython"

__all__ = [
    "ABOVE",
    "BELOW",
    "IMPLEMENTATION",
    "QUALIFIED",
    "UNMONITORED",
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
