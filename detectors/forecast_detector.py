"""The forecasting detector: each area's day-ahead load forecast, published and watched.

Why hourly: the forecaster (`forecast_area.AreaForecast`, a few kB packed)
is learnt once per hour from the hour's mean load, not once per 15-minute
reading: a day-ahead forecast gains nothing from quarter hours, and loading,
learning, forecasting and packing it four times an hour would cost more
than every other detector together. Per interval only the hour's sums grow
(the ``forecast_hour`` scalars); when an interval of a later hour arrives the
previous hour is closed: the forecaster learns it, forecasts the next day,
writes the forecast as a `gridwatch_forecast` point and fires or resolves
the early warnings as findings (`forecast_overload`, `forecast_low_voltage`).
For its first ``warmup_days`` a forecaster is not trusted: it learns and the
actual load is published, but no forecast and no warning.

What is forecast: the apparent power at the transformer (the area meter's
kVA), the quantity its rating limits. Dark intervals (an outage) are not
load and are left out; an hour without any is a gap the forecaster skips.
The far-end voltage the low-voltage warning learns from is the voltage that
``min_low_points_fraction`` of the area's live points are under (the
low-voltage zone's own criterion), so the learnt critical load is the load
at which a zone appears; it follows about the last two days (`VOLTAGE_FADING`),
since what moves it (a tap, a branch) changes at once, not over weeks. No feed
carries temperature yet, so none is given.
The feeder's forecast is the sum of its areas' (summed where it is read, by
the feeder tag), see the measurement's description.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from ..config import DetectorSettings, ForecastSettings
from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.measurements import AREA_FORECAST, FORECAST_HORIZONS_H, MetricPoint
from .early_warning import EarlyWarning, OverloadWarning
from .forecast_area import AreaForecast
from .forecasting import ForecastPoint, parse_holidays, peak_of

if TYPE_CHECKING:
    from .contract import Interval
    from .episodes import Episodes

NAME = "forecast"
BLOB = "forecast"        # the `AreaState.arrays` entry holding the packed `AreaForecast`
HOUR_S = 3600
RISE_FADING = 0.7           # weight of the newest hour in the rise over the forecast
RISE_MIN = 1.15             # a rise under this is noise: the forecast peak is judged as it is
VOLTAGE_FADING = 1.0 / 48   # the voltage-load line follows about the last two days: a tap
#                             change or a longer branch shows in it within a day


class ForecastState(TypedDict, total=False):
    """The forecasting detector's slice of ``AreaState.scalars`` (its forecaster is the
    ``forecast`` entry of ``AreaState.arrays``)."""

    forecast_hour: dict[str, float]   # the open hour: its number, load and voltage sums
    forecast_since: int               # the first hour the forecaster learnt
    forecast_rise: float              # EW of the load over its 1-hour-ahead forecast
    forecast_next: float              # the forecast for the open hour, made as it began


class ForecastDetector:
    """Learns each area's hourly load, publishes its forecast, warns ahead of trouble.

    >>> from gridwatch.config import DetectorSettings
    >>> det = ForecastDetector.from_settings(DetectorSettings())
    >>> det.horizon, det.limit_v
    (24, 198.0)
    """

    name = NAME
    settings_keys = ("forecast", "low_voltage")
    State = ForecastState

    def __init__(self, settings: ForecastSettings, limit_v: float = 198.0,
                 zone_fraction: float = 0.25) -> None:
        self.settings = settings
        self.holidays = parse_holidays(settings.holidays)
        self.horizon = settings.horizon_h
        self.limit_v, self.zone_fraction = limit_v, zone_fraction

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> ForecastDetector:
        lv = settings.low_voltage
        return cls(settings.forecast, lv.single_phase.lower_v, lv.min_low_points_fraction)

    def observe(self, interval: Interval) -> list[Finding]:
        """Add the interval to its hour; close the previous hour when a new one begins."""
        if not self.settings.enabled:
            return []
        since = len(interval.episodes.findings)
        hour = int((interval.ts - 1) // HOUR_S)
        scalars = interval.scalars
        acc = scalars.get("forecast_hour")
        if acc is not None and hour < acc["hour"]:
            return []                   # a late interval of an hour already learnt
        if acc is None or hour > acc["hour"]:
            if acc is not None:
                self._close(interval, acc)
            acc = {"hour": hour, "n": 0, "load": 0.0, "vn": 0, "volts": 0.0, "rated": 0.0}
            scalars["forecast_hour"] = acc
        self._accumulate(interval, acc)
        return interval.judged(since)

    def _accumulate(self, interval: Interval, acc: dict[str, float]) -> None:
        reading = interval.frame.area
        if reading is None or (interval.faults is not None and interval.faults.area_dark):
            return
        acc["load"] += sum(v * i for v, i in zip(reading.voltage, reading.current,
                                                 strict=False)) / 1000.0
        acc["n"] += 1
        acc["rated"] = float(reading.rated_kva)
        live = interval.powered if interval.stuck is None else interval.powered & ~interval.stuck
        volts = interval.frame.vmin[live]
        if volts.size:
            acc["volts"] += float(np.quantile(volts, self.zone_fraction))
            acc["vn"] += 1

    def _close(self, interval: Interval, acc: dict[str, float]) -> None:
        """Learn the closed hour, publish the forecast, fire or resolve the warnings."""
        if not acc["n"]:
            return
        state = interval.state
        area = self._area_forecast(state.arrays.get(BLOB), acc["rated"])
        load = acc["load"] / acc["n"]
        volts = acc["volts"] / acc["vn"] if acc["vn"] else None
        since = state.scalars.setdefault("forecast_since", int(acc["hour"]))
        warm = acc["hour"] - since >= self.settings.warmup_days * 24
        rise = self._rise(state.scalars, load)
        warnings = area.update(load, acc["hour"] * float(HOUR_S), far_end_voltage=volts,
                               horizon=self.horizon, judge=warm,
                               scale=rise if rise >= RISE_MIN else 1.0)
        state.arrays[BLOB] = np.frombuffer(area.to_bytes(), np.uint8)
        following = area.points[0].value if area.points else math.nan
        state.scalars["forecast_next"] = None if math.isnan(following) else following
        end = (acc["hour"] + 1) * float(HOUR_S)
        fields = self._fields(area if warm else None, load, acc["rated"], end)
        interval.points.append(MetricPoint(AREA_FORECAST, interval.tags, fields, end))
        for warning in warnings:
            self._report(interval.episodes, warning, interval.ts)

    @staticmethod
    def _rise(scalars: dict, load: float) -> float:
        """How far the load runs over its forecast made an hour earlier (EW, the last hours).

        Why: the forecaster follows a step in load slowly (its level learns
        at 1 % an hour), yet a load that stands 30 % over its forecast all
        morning will be about 30 % over it at the evening peak too. The peak
        is judged scaled by this rise once it is clear (`RISE_MIN`), so an
        overload is warned hours before that peak, not days after the step.
        """
        expected = scalars.get("forecast_next")
        rise = scalars.get("forecast_rise", 1.0)
        if expected is not None and expected > 0:
            rise += RISE_FADING * (load / expected - rise)
            scalars["forecast_rise"] = rise
        return rise

    def _area_forecast(self, blob: np.ndarray | None, rated: float) -> AreaForecast:
        """The area's forecaster from its state (a new one at first), under today's settings."""
        s = self.settings
        if blob is None:
            area = AreaForecast(holidays=self.holidays, limit_v=self.limit_v,
                                confirm=s.confirm_forecasts, hysteresis=s.resolve_margin)
        else:
            area = AreaForecast.from_bytes(blob.tobytes())
            area.forecaster.holidays = self.holidays
            area.low_voltage.limit.limit_v = self.limit_v
        area.low_voltage.limit.fading_factor = VOLTAGE_FADING
        limit = rated * s.overload_ratio
        if limit > 0 and (area.overload is None or area.overload.rating != limit):
            area.overload = OverloadWarning(limit, s.confirm_forecasts, s.resolve_margin)
        for warning in (area.overload, area.low_voltage):
            if warning is not None:
                warning.confirm, warning.hysteresis = s.confirm_forecasts, s.resolve_margin
        return area

    def _fields(self, area: AreaForecast | None, load: float, rated: float, end: float
                ) -> dict[str, float]:
        """The forecast point's fields: the actual, and the forecast once warmed up (`area`);
        values not known yet (NaN) are left out."""
        fields = {"load": load}
        if rated > 0:
            fields["rated"] = rated
        if area is None:
            return fields
        points = area.points
        fields["critical_load"] = area.low_voltage.limit.critical_load
        for h in FORECAST_HORIZONS_H:
            if h <= len(points):
                p = points[h - 1]
                fields |= {f"forecast_{h}h": p.value, f"lower_{h}h": p.lower,
                           f"upper_{h}h": p.upper}
        peak: ForecastPoint | None = peak_of(points[:self.horizon])
        if peak is not None:
            fields |= {"peak": peak.value, "peak_lower": peak.lower, "peak_upper": peak.upper,
                       "peak_hour": float(peak.at.hour),
                       "peak_in_h": (peak.at.timestamp() + HOUR_S - end) / HOUR_S}
        return {k: float(v) for k, v in fields.items() if not math.isnan(v)}

    @staticmethod
    def _report(episodes: Episodes, warning: EarlyWarning, at: float) -> None:
        """A warning transition as the area's episode of its kind (fired or resolved now)."""
        f = warning.to_finding_fields()
        if warning.status == FIRING:
            episodes.fire(warning.kind, episodes.area, "area", at=at, detector=NAME,
                          reason=f"Area {episodes.area}: {warning.reason}",
                          score=warning.score, observed=f["observed"],
                          threshold=f["threshold"], evidence=f["evidence"])
        elif episodes.is_open(warning.kind, episodes.area):
            episodes.resolve(warning.kind, episodes.area, at=at,
                             reason=f"Area {episodes.area}: {warning.reason}")
