"""The forecasting detector: each area's day-ahead load forecast, published and watched.

Why hourly and in place: the forecaster (`forecast_area.AreaForecast`) is
learnt once per hour from the hour's mean load, not once per 15-minute
reading (a day-ahead forecast gains nothing from quarter hours), and its
kernel's arrays (26 kB) live in the area state's raw arrays, bound in place
each hour, so nothing is packed or unpacked: learning and forecasting four
times an hour, or packing the forecaster per batch, would cost more than
every other detector together. Per interval only the hour's sums grow
(in the area's `MEMORY` array); when an interval of a later hour arrives the
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
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from ..config import DetectorSettings, ForecastSettings
from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.measurements import AREA_FORECAST, FORECAST_HORIZONS_H, MetricPoint
from .early_warning import EarlyWarning, OverloadWarning
from .forecast_area import AreaForecast
from .forecasting import ForecastPoint, as_datetime, parse_holidays

if TYPE_CHECKING:
    from .contract import Interval
    from .episodes import Episodes
    from .state import AreaState

NAME = "forecast"
HOUR_S = 3600
CORE = "forecast_core"      # `AreaState.arrays` entry: the forecaster core's arrays in one
#                            raw block, worked on in place (nothing packed per hour)
MEMORY = "forecast_memory"  # float64 numbers, NaN = none yet, at these indices:
(OPEN_HOUR, OPEN_N, OPEN_LOAD, OPEN_VN, OPEN_VOLTS, RATED, LAST_AT, SINCE, RISE,
 LIMIT_EVENTS, LIMIT_BELOW, OVERLOAD, LOW_VOLTAGE, LIMIT_SUMS, AHEAD) = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 20)  # warnings: (over, started_at) each
LOADS = AHEAD + 24          # AHEAD: each hour of the day's day-ahead forecast, made a day
MEMORY_SIZE = LOADS + 24    # before; LOADS: each hour of the last day's load
PEAK_MARGIN = 1.1           # the judged peak stays under the last day's highest load x rise
#                             x this: a forecast far over anything seen lately, with the
#                             load not rising now, is the weekly lags echoing a past peak
RISE_FADING = 0.5           # weight of the newest hour in the rise over the forecast
RISE_MIN = 1.2              # a rise (or fall, 1 / it) within this is noise: the peak is
#                             judged as forecast
VOLTAGE_FADING = 1.0 / 48   # the voltage-load line follows about the last two days: a tap
#                             change or a longer branch shows in it within a day


class ForecastState(TypedDict, total=False):
    """The forecasting detector's slice of ``AreaState.scalars``: none. Its state is raw
    area arrays (`CORE` and `MEMORY`), which cost no JSON
    per batch; `MEMORY` holds, at the indices below, the open hour's sums, the
    forecaster's clock, the warnings' and the voltage line's few numbers."""


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
        self.area = AreaForecast(holidays=self.holidays, limit_v=limit_v,
                                 confirm=settings.confirm_forecasts,
                                 hysteresis=settings.resolve_margin)
        self.area.low_voltage.limit.fading_factor = VOLTAGE_FADING
        self.core_layout, self.fresh_core = core_block(self.area.forecaster.core)

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
        memory = interval.state.arrays.get(MEMORY)
        if memory is None:
            memory = interval.state.arrays[MEMORY] = np.full(MEMORY_SIZE, np.nan)
            memory[[OPEN_N, OPEN_VN, RISE]] = 0.0, 0.0, 1.0
            memory[LIMIT_SUMS:AHEAD] = 0.0
        open_hour = memory[OPEN_HOUR]
        if hour < open_hour:
            return []                   # a late interval of an hour already learnt
        if hour != open_hour:
            if not math.isnan(open_hour):   # an hour was open
                self._close(interval, memory)
            memory[[OPEN_HOUR, OPEN_N, OPEN_LOAD, OPEN_VN, OPEN_VOLTS]] = hour, 0, 0, 0, 0
        self._accumulate(interval, memory)
        return interval.judged(since)

    def _accumulate(self, interval: Interval, memory: np.ndarray) -> None:
        reading = interval.frame.area
        if reading is None or (interval.faults is not None and interval.faults.area_dark):
            return
        memory[OPEN_LOAD] += sum(v * i for v, i in zip(reading.voltage, reading.current,
                                                       strict=False)) / 1000.0
        memory[OPEN_N] += 1
        memory[RATED] = reading.rated_kva
        live = interval.powered if interval.stuck is None else interval.powered & ~interval.stuck
        volts = interval.frame.vmin[live]
        if volts.size:
            k = min(int(self.zone_fraction * volts.size), volts.size - 1)
            memory[OPEN_VOLTS] += np.partition(volts, k)[k]
            memory[OPEN_VN] += 1

    def _close(self, interval: Interval, memory: np.ndarray) -> None:
        """Learn the closed hour, publish the forecast, fire or resolve the warnings."""
        count, hour = float(memory[OPEN_N]), int(memory[OPEN_HOUR])
        if not count:
            return
        state = interval.state
        rated = float(memory[RATED])
        area = self._area_forecast(state, memory, rated)
        load = float(memory[OPEN_LOAD]) / count
        volts = float(memory[OPEN_VOLTS] / memory[OPEN_VN]) if memory[OPEN_VN] else None
        if memory[SINCE] != memory[SINCE]:
            memory[SINCE] = hour
        warm = hour - memory[SINCE] >= self.settings.warmup_days * 24
        ahead = memory[AHEAD:LOADS]
        trusted = hour - memory[SINCE] >= self.settings.warmup_days * 24 + 24
        rise = self._rise(memory, load, float(ahead[hour % 24]) if trusted else math.nan)
        scale = rise if rise >= RISE_MIN or rise <= 1 / RISE_MIN else 1.0
        memory[LOADS + hour % 24] = load
        ceiling = float(np.nanmax(memory[LOADS:])) * max(scale, 1.0) * PEAK_MARGIN
        warnings = area.update(load, hour * float(HOUR_S), far_end_voltage=volts,
                               horizon=self.horizon, judge=warm, scale=scale,
                               ceiling=ceiling)
        self._remember(area, memory)
        ahead[hour % 24] = area.ahead[0][23] if len(area.ahead[0]) == 24 else math.nan
        end = (hour + 1) * float(HOUR_S)
        fields = self._fields(area if warm else None, load, rated, end)
        interval.points.append(MetricPoint(AREA_FORECAST, interval.tags, fields, end))
        for warning in warnings:
            self._report(interval.episodes, warning, interval.ts)

    @staticmethod
    def _rise(memory: np.ndarray, load: float, expected: float) -> float:
        """How far the load runs over its forecast made a day earlier (EW, the last hours).

        Why: the forecaster follows a step in load slowly (its level learns
        at 1 % an hour), yet a load that stands 30 % over what was expected of
        it all morning will be about 30 % over it at the evening peak too. The
        peak is judged scaled by this rise once it is clear (`RISE_MIN`), so
        an overload is warned hours before that peak, not after it. A clear
        fall scales it down alike: after an overload the weekly lags echo
        it a week later, while the load runs well under that forecast. Against
        the day-ahead forecast, not the hour-ahead one: the short horizons
        catch up with a step within hours, the day's peak does not. Only
        day-ahead forecasts made after the warm-up count (`expected` NaN).
        """
        rise = float(memory[RISE])
        if expected > 0:
            rise += RISE_FADING * (load / expected - rise)
            memory[RISE] = rise
        return rise

    def _area_forecast(self, state: AreaState, memory: np.ndarray, rated: float
                       ) -> AreaForecast:
        """The detector's one `AreaForecast`, turned into this area's: its core bound to
        the area's arrays (made at first), its few numbers from the area's memory."""
        s, area, arrays = self.settings, self.area, state.arrays
        core = area.forecaster.core
        block = arrays.get(CORE)
        if block is None:
            block = arrays[CORE] = np.frombuffer(bytearray(self.fresh_core), np.uint8)
        core._bind(*[np.ndarray(shape, dtype, block, offset)
                     for dtype, shape, offset in self.core_layout])
        last = memory[LAST_AT]
        area.forecaster.last_at = None if last != last else as_datetime(float(last))
        limit = area.low_voltage.limit
        limit.sums = [float(v) for v in memory[LIMIT_SUMS:LIMIT_SUMS + 5]]
        limit.events = 0 if memory[LIMIT_EVENTS] != memory[LIMIT_EVENTS] \
            else int(memory[LIMIT_EVENTS])
        limit.below = bool(memory[LIMIT_BELOW] == 1.0)
        bound = rated * s.overload_ratio
        if bound > 0 and (area.overload is None or area.overload.rating != bound):
            area.overload = OverloadWarning(bound, s.confirm_forecasts, s.resolve_margin)
        elif bound <= 0:
            area.overload = None
        for warning, at in ((area.overload, OVERLOAD), (area.low_voltage, LOW_VOLTAGE)):
            if warning is not None:
                over, started = memory[at], memory[at + 1]
                warning.over = 0 if over != over else int(over)
                warning.started_at = None if started != started else float(started)
        return area

    @staticmethod
    def _remember(area: AreaForecast, memory: np.ndarray) -> None:
        """The forecast's few numbers back into the area's memory (its core's arrays
        changed in place)."""
        last: datetime | None = area.forecaster.last_at
        memory[LAST_AT] = np.nan if last is None else last.timestamp()
        limit = area.low_voltage.limit
        memory[LIMIT_SUMS:LIMIT_SUMS + 5] = limit.sums
        memory[LIMIT_EVENTS], memory[LIMIT_BELOW] = limit.events, float(limit.below)
        for warning, at in ((area.overload, OVERLOAD), (area.low_voltage, LOW_VOLTAGE)):
            if warning is not None:
                memory[at] = warning.over
                memory[at + 1] = np.nan if warning.started_at is None else warning.started_at

    def _fields(self, area: AreaForecast | None, load: float, rated: float, end: float
                ) -> dict[str, float]:
        """The forecast point's fields: the actual, and the forecast once warmed up (`area`);
        values not known yet (NaN) are left out."""
        fields = {"load": load}
        if rated > 0:
            fields["rated"] = rated
        if area is None:
            return fields
        steps = len(area.ahead[0])
        fields["critical_load"] = area.low_voltage.limit.critical_load
        for h in FORECAST_HORIZONS_H:
            if h <= steps:
                p = area.point(h)
                fields |= {f"forecast_{h}h": p.value, f"lower_{h}h": p.lower,
                           f"upper_{h}h": p.upper}
        peak: ForecastPoint | None = area.peak_within(self.horizon)
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


def core_block(core: object) -> tuple[list[tuple[np.dtype, tuple[int, ...], int]], bytes]:
    """(dtype, shape, byte offset) of each of a fresh forecaster core's arrays in one block
    (each starting 8-byte aligned), and that fresh block's bytes."""
    layout, parts, offset = [], [], 0
    for name in core._ARRAYS:
        array = np.ascontiguousarray(getattr(type(core)(core.period, core.n_horizons), name))
        layout.append((array.dtype, array.shape, offset))
        pad = -array.nbytes % 8
        parts += [array.tobytes(), bytes(pad)]
        offset += array.nbytes + pad
    return layout, b"".join(parts)
