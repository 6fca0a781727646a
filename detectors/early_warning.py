"""Early warnings from the day-ahead load forecast: overload and far-end low voltage.

Why a separate, pure module: a warning is a judgement on a forecast, not on
a reading, so it needs only the forecast peak (from
`detectors.forecasting.LoadForecaster.peak`) and a limit. Two limits:
- the transformer's rating (configuration) -> ``forecast_overload``;
- the load at which this area's far-end voltage has fallen under its limit
  before, learnt online by `LowVoltageLoadLimit` -> ``forecast_low_voltage``.
A warning fires when the forecast peak reaches the limit on `confirm`
consecutive forecasts (one noisy forecast is not enough to send a crew) and
resolves when the forecast peak has fallen `hysteresis` below it, i.e. when
the forecast no longer shows the problem. Each transition is an
`EarlyWarning` whose fields map one to one onto `detectors.base.Finding`
(`to_finding_fields`), so the pipeline only adds entity, area and feeder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..vocabulary.findings import FIRING, RESOLVED
from ..vocabulary.kinds import FORECAST_LOW_VOLTAGE, FORECAST_OVERLOAD
from .forecasting import ForecastPoint, as_datetime


@dataclass(slots=True)
class EarlyWarning:
    """One warning transition: kind, firing or resolved, evidence and a sentence."""

    kind: str
    status: str
    started_at: float
    at: float
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_finding_fields(self) -> dict[str, Any]:
        """The `Finding` fields this warning fills (all but entity, area, feeder)."""
        e = self.evidence
        return {"kind": self.kind, "status": self.status, "started_at": self.started_at,
                "at": self.at, "score": self.score, "detector": "forecast",
                "severity": "warning", "reason": self.reason, "evidence": dict(e),
                "observed": {"forecast_peak": e["forecast_peak"], "peak_at": e["peak_at"]},
                "threshold": {"limit": e["limit"]}}


class ForecastThresholdWarning:
    """Fires when the forecast peak reaches `limit`; resolves once it is `hysteresis` below.

    `update(peak, limit, at)` returns the transition, if any. The score is
    the forecast peak over the limit (1.0 = at the limit).

    >>> w = ForecastThresholdWarning(FORECAST_OVERLOAD, "the rating", confirm=2)
    >>> peak = ForecastPoint(datetime(2024, 1, 15, 19), 120.0, 110.0, 130.0)
    >>> w.update(peak, 100.0, at=0.0) is None   # first forecast over: not yet confirmed
    True
    >>> w.update(peak, 100.0, at=3600.0).status
    'firing'
    >>> low = ForecastPoint(datetime(2024, 1, 16, 19), 80.0, 70.0, 90.0)
    >>> w.update(low, 100.0, at=7200.0).status
    'resolved'
    """

    def __init__(self, kind: str, limit_name: str, confirm: int = 2,
                 hysteresis: float = 0.05) -> None:
        if confirm < 1:
            raise ValueError(f"confirm must be >= 1, got {confirm!r}")
        if not 0.0 <= hysteresis < 1.0:
            raise ValueError(f"hysteresis must be in [0, 1), got {hysteresis!r}")
        self.kind, self.limit_name = kind, limit_name
        self.confirm, self.hysteresis = confirm, hysteresis
        self.over = 0
        self.started_at: float | None = None

    @property
    def active(self) -> bool:
        return self.started_at is not None

    def update(self, peak: ForecastPoint | None, limit: float, at: float
               ) -> EarlyWarning | None:
        if peak is None or math.isnan(peak.value) or not limit > 0:
            return None
        self.over = self.over + 1 if peak.value >= limit else 0
        if not self.active and self.over >= self.confirm:
            self.started_at = at
            return self._warning(FIRING, peak, limit, at)
        if self.active and peak.value < limit * (1.0 - self.hysteresis):
            warning = self._warning(RESOLVED, peak, limit, at)
            self.started_at = None
            return warning
        return None

    def _warning(self, status: str, peak: ForecastPoint, limit: float, at: float
                 ) -> EarlyWarning:
        margin = peak.value - limit
        lead_h = _hours_ahead(peak.at, at)
        evidence = {"forecast_peak": round(peak.value, 3), "peak_at": peak.at.isoformat(),
                    "lower_80": _rounded(peak.lower), "upper_80": _rounded(peak.upper),
                    "limit": round(limit, 3), "limit_is": self.limit_name,
                    "margin": round(margin, 3), "margin_pct": round(100.0 * margin / limit, 1),
                    "lead_hours": None if math.isnan(lead_h) else round(lead_h, 1)}
        when = peak.at.strftime("%Y-%m-%d %H:%M")
        if status == FIRING:
            reason = (f"Forecast peak {peak.value:.1f} at {when} is {margin:.1f} "
                      f"({100.0 * margin / limit:.0f} %) over {self.limit_name} "
                      f"({limit:.1f}).")
        else:
            reason = (f"Forecast peak {peak.value:.1f} at {when} is back under "
                      f"{self.limit_name} ({limit:.1f}).")
        return EarlyWarning(self.kind, status, float(self.started_at or at), float(at),
                            round(peak.value / limit, 4), evidence, reason)


def _hours_ahead(when: datetime, at: float) -> float:
    """Hours from `at` (epoch seconds) to `when`; NaN for a naive `when` (no clock to
    compare)."""
    if when.tzinfo is None:
        return math.nan
    return (when - as_datetime(at)).total_seconds() / 3600.0


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


class OverloadWarning(ForecastThresholdWarning):
    """Forecast transformer overload: the forecast peak against the rating (load units).

    >>> w = OverloadWarning(rating=100.0, confirm=1)
    >>> warning = w.update(ForecastPoint(datetime(2024, 1, 15, 19), 112.0, 105.0, 120.0), at=0)
    >>> warning.kind, warning.evidence["margin"], warning.evidence["peak_at"]
    ('forecast_overload', 12.0, '2024-01-15T19:00:00')
    >>> warning.reason
    'Forecast peak 112.0 at 2024-01-15 19:00 is 12.0 (12 %) over the transformer rating (100.0).'
    """

    def __init__(self, rating: float, confirm: int = 2, hysteresis: float = 0.05) -> None:
        if not rating > 0:
            raise ValueError(f"rating must be > 0, got {rating!r}")
        super().__init__(FORECAST_OVERLOAD, "the transformer rating", confirm, hysteresis)
        self.rating = float(rating)

    def update(self, peak: ForecastPoint | None, at: float  # type: ignore[override]
               ) -> EarlyWarning | None:
        return super().update(peak, self.rating, at)


class LowVoltageLoadLimit:
    """Learns online the area load at which its far-end voltage falls under the limit.

    Why a line and not the loads seen at the onsets: the far-end voltage
    falls about linearly with the area load (the drop is current times line
    impedance), while the load at an onset overshoots whenever the load
    jumps (the evening step). So an exponentially weighted least-squares line
    voltage = a + b * load is kept, and the critical load is where it meets
    `limit_v`; it is only trusted (`critical_load` not NaN) once the area has
    shown low voltage (`events` onsets) and the line falls with load.

    >>> limit = LowVoltageLoadLimit(limit_v=198.0)
    >>> for load in [50, 80, 95, 110, 60, 100, 112, 70]:
    ...     limit.learn_one(load, 240.0 - 0.4 * load)
    >>> limit.events, round(limit.critical_load, 1)
    (2, 105.0)
    """

    def __init__(self, limit_v: float = 198.0, fading_factor: float = 0.001) -> None:
        if not 0.0 < fading_factor < 1.0:
            raise ValueError(f"fading_factor must be in (0, 1), got {fading_factor!r}")
        self.limit_v, self.fading_factor = float(limit_v), float(fading_factor)
        self.sums = [0.0] * 5  # weight, load, voltage, load^2, load x voltage
        self.events = 0
        self.below = False

    def learn_one(self, load: float, voltage: float) -> None:
        if math.isnan(load) or math.isnan(voltage):
            return
        keep = 1.0 - self.fading_factor
        for i, term in enumerate((1.0, load, voltage, load * load, load * voltage)):
            self.sums[i] = keep * self.sums[i] + term
        below = voltage < self.limit_v
        self.events += below and not self.below
        self.below = below

    @property
    def critical_load(self) -> float:
        w, x, y, xx, xy = self.sums
        if self.events == 0 or w <= 0.0:
            return math.nan
        spread = xx / w - (x / w) ** 2
        if spread <= 1e-12:
            return math.nan
        slope = (xy / w - (x / w) * (y / w)) / spread
        if slope >= 0.0:
            return math.nan
        intercept = y / w - slope * x / w
        return (self.limit_v - intercept) / slope


class LowVoltageWarning(ForecastThresholdWarning):
    """Forecast far-end low voltage: the forecast peak against the learnt critical load.

    >>> w = LowVoltageWarning(LowVoltageLoadLimit(198.0), confirm=1)
    >>> for load, volts in [(40.0, 220.0), (90.0, 196.0)]:
    ...     w.limit.learn_one(load, volts)
    >>> warning = w.update(ForecastPoint(datetime(2024, 1, 15, 19), 99.0, 90.0, 108.0), at=0)
    >>> warning.kind, warning.evidence["limit"], warning.evidence["low_voltage_events"]
    ('forecast_low_voltage', 85.833, 1)
    """

    def __init__(self, limit: LowVoltageLoadLimit, confirm: int = 2,
                 hysteresis: float = 0.05) -> None:
        super().__init__(FORECAST_LOW_VOLTAGE,
                         "the load at which the far-end voltage fell under the limit",
                         confirm, hysteresis)
        self.limit = limit

    def update(self, peak: ForecastPoint | None, at: float  # type: ignore[override]
               ) -> EarlyWarning | None:
        critical = self.limit.critical_load
        if math.isnan(critical):
            return None
        warning = super().update(peak, critical, at)
        if warning is not None:
            warning.evidence["low_voltage_events"] = self.limit.events
            warning.evidence["voltage_limit_v"] = self.limit.limit_v
        return warning
