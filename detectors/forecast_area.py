"""One area's forecaster and early warnings as one value for the area state.

Why: the worker reads and writes one area-state value per batch, so what
forecasting adds to an area must be a single object with one call per
reading and a compact byte form. `AreaForecast.update` learns the area load
(and the far-end voltage, when measured), re-forecasts the day ahead and
returns the warning transitions; `to_bytes` packs the forecaster's arrays
and the warnings' few numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from ..ext.state import pack, unpack
from .early_warning import (
    EarlyWarning,
    LowVoltageLoadLimit,
    LowVoltageWarning,
    OverloadWarning,
)
from .forecasting import ForecastPoint, LoadForecaster, as_datetime


class AreaForecast:
    """Forecaster + overload warning (if the rating is known) + far-end low-voltage warning.

    >>> import random
    >>> from datetime import UTC, timedelta
    >>> area, noise = AreaForecast(rating=110.0), random.Random(1)
    >>> start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday; Monday evenings reach 118
    >>> out = []
    >>> for i in range(24 * 21):
    ...     at = start + timedelta(hours=i)
    ...     evening = 17 <= at.hour < 21
    ...     load = 60.0 + 40.0 * evening + 18.0 * (evening and at.weekday() == 0)
    ...     load += noise.gauss(0.0, 1.0)
    ...     out += area.update(load, at.timestamp(), far_end_voltage=240.0 - 0.2 * load)
    >>> sorted({(w.kind, w.status) for w in out})
    [('forecast_overload', 'firing'), ('forecast_overload', 'resolved')]
    >>> AreaForecast.from_bytes(area.to_bytes()).peak() == area.peak()
    True
    """

    def __init__(self, rating: float | None = None, interval_s: int = 3600,
                 holidays: Iterable[str | date] = (), limit_v: float = 198.0,
                 confirm: int = 2, hysteresis: float = 0.05) -> None:
        self.forecaster = LoadForecaster(interval_s, holidays=holidays)
        self.overload = OverloadWarning(rating, confirm, hysteresis) if rating else None
        self.low_voltage = LowVoltageWarning(LowVoltageLoadLimit(limit_v), confirm, hysteresis)
        self.ahead: tuple[np.ndarray, ...] = ()  # (mean, lower, upper) of the last `update`

    def update(self, load: float, at: datetime | float, far_end_voltage: float | None = None,
               temperature: float | None = None, horizon: int | None = None,
               judge: bool = True, scale: float = 1.0, ceiling: float = math.inf
               ) -> list[EarlyWarning]:
        """Learn one reading of the area; the warnings that fire or resolve now.

        The warnings judge the peak of the first `horizon` steps (default: all)
        times `scale` (a caller's correction for a rise the forecaster has not
        caught up with yet) and at most `ceiling`, unless `judge` is False (a forecaster still
        warming up); the whole forecast stays in `ahead` (see `point`) for whoever
        publishes it.
        """
        if far_end_voltage is not None:
            self.low_voltage.limit.learn_one(load, far_end_voltage)
        self.forecaster.learn_one(load, at, temperature)
        self.ahead = self.forecaster.forecast_arrays()
        if not judge:
            return []
        peak = self.peak_within(horizon)
        if peak is not None and (scale != 1.0 or peak.value * scale > ceiling):
            factor = min(scale, ceiling / peak.value) if peak.value > 0 else scale
            peak = ForecastPoint(peak.at, peak.value * factor, peak.lower * factor,
                                 peak.upper * factor)
        moment = as_datetime(at).timestamp()
        warnings = [w.update(peak, moment) for w in (self.overload, self.low_voltage) if w]
        return [w for w in warnings if w is not None]

    def point(self, h: int) -> ForecastPoint:
        """The last `update`'s forecast `h` steps (1 = the next) after the reading."""
        mean, lower, upper = self.ahead
        at = self.forecaster.last_at + timedelta(seconds=h * self.forecaster.interval_s)
        return ForecastPoint(at, float(mean[h - 1]), float(lower[h - 1]), float(upper[h - 1]))

    def peak_within(self, horizon: int | None = None) -> ForecastPoint | None:
        """The highest of the last `update`'s first `horizon` steps (None if none is known)."""
        mean = self.ahead[0][:horizon] if self.ahead else np.empty(0)
        if not mean.size or np.isnan(mean).all():
            return None
        return self.point(int(np.nanargmax(mean)) + 1)

    def peak(self) -> ForecastPoint | None:
        return self.forecaster.peak()

    def to_bytes(self) -> bytes:
        limit = self.low_voltage.limit
        params: dict[str, Any] = {
            "rating": self.overload.rating if self.overload else None,
            "confirm": self.low_voltage.confirm, "hysteresis": self.low_voltage.hysteresis,
            "limit_v": limit.limit_v, "limit_events": limit.events, "limit_below": limit.below,
            "warnings": [[w.over, w.started_at] if w else None
                         for w in (self.overload, self.low_voltage)]}
        return pack("AreaForecast", params, {
            "forecaster": np.frombuffer(self.forecaster.to_bytes(), np.uint8),
            "limit_sums": np.array(limit.sums)})

    @classmethod
    def from_bytes(cls, blob: bytes) -> AreaForecast:
        kernel, params, arrays = unpack(blob)
        if kernel != "AreaForecast":
            raise ValueError(f"state holds a {kernel}, not an AreaForecast")
        area = cls(params["rating"], limit_v=params["limit_v"], confirm=params["confirm"],
                   hysteresis=params["hysteresis"])
        area.forecaster = LoadForecaster.from_bytes(arrays["forecaster"].tobytes())
        limit = area.low_voltage.limit
        limit.sums = [float(v) for v in arrays["limit_sums"]]
        limit.events, limit.below = params["limit_events"], params["limit_below"]
        for warning, state in zip((area.overload, area.low_voltage), params["warnings"],
                                  strict=True):
            if warning is not None and state is not None:
                warning.over, warning.started_at = state
        return area
