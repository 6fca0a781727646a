"""The Cython implementation of every kernel; importing it fails if the extension is not built.

Same names and results as `fallback`; `gridwatch.ext` picks one of the two.
"""

from gridwatch.ext._balance import LossAttribution
from gridwatch.ext._change import Cusum, PageHinkley
from gridwatch.ext._seasonal import SeasonalBaseline
from gridwatch.ext._stats import EWStats, MeanVar, RollingMeanVar
from gridwatch.ext._voltage import VoltageQualification

IMPLEMENTATION = "cython"

__all__ = ["IMPLEMENTATION", "Cusum", "EWStats", "LossAttribution", "MeanVar", "PageHinkley",
           "RollingMeanVar", "SeasonalBaseline", "VoltageQualification"]
