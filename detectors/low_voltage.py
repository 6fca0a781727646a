"""Voltage qualification and low-voltage zones, per transformer area.

Why this shape: a low-voltage zone is a *place* problem (a long branch, a weak
transformer), not a meter problem. It shows as many of an area's points
sitting under the lower limit at the same time, typically at the evening
peak, for several intervals running. One meter dipping once is noise; all
meters at ~0 V is an outage, which is a fault and is left to the fault
detector (points under ``dead_voltage_v`` are not counted as low).

Voltage qualification rate (GB/T 12325 practice) = intervals within limits /
monitored intervals, accumulated per area per day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gridwatch.config import LowVoltageSettings, VoltageLimits
from gridwatch.detectors.base import FIRING, RESOLVED, Finding

DAY_S = 86_400
KIND = "low_voltage_zone"


@dataclass
class IntervalVoltage:
    """The customer-meter voltages of one area at one interval end."""

    ts: float
    voltages: dict[str, float]
    below: dict[str, float]
    above: int
    monitored: int


@dataclass
class LowVoltageState:
    """Per-area state, small and plain so it serialises into a Faust table."""

    last_ts: float = -1.0
    low_run: int = 0
    low_since: float = -1.0
    clear_run: int = 0
    firing_since: float | None = None
    day: int = -1
    day_monitored: int = 0
    day_qualified: int = 0
    worst_points: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LowVoltageState:
        return cls(**data)


def limits_for(settings: LowVoltageSettings, phases: int) -> VoltageLimits:
    return settings.single_phase if phases == 1 else settings.three_phase


class LowVoltageZoneDetector:
    """Raises ``low_voltage_zone`` on an area whose points stay under the lower limit.

    >>> from gridwatch.config import LowVoltageSettings
    >>> det = LowVoltageZoneDetector(LowVoltageSettings(min_consecutive_intervals=2))
    >>> state = LowVoltageState()
    >>> low = {"m1": 190.0, "m2": 192.0, "m3": 221.0}
    >>> det.observe(state, "A1", "F1", 900, low, phases={})
    []
    >>> [f.kind for f in det.observe(state, "A1", "F1", 1800, low, phases={})]
    ['low_voltage_zone']
    """

    name = "low_voltage"

    def __init__(self, settings: LowVoltageSettings) -> None:
        self.settings = settings

    def classify(self, ts: float, voltages: dict[str, float],
                 phases: dict[str, int]) -> IntervalVoltage:
        """Split one interval's points into below-limit, above-limit and qualified."""
        below: dict[str, float] = {}
        above = monitored = 0
        for meter, volts in voltages.items():
            if volts < self.settings.dead_voltage_v:
                continue
            limits = limits_for(self.settings, phases.get(meter, 1))
            monitored += 1
            if volts < limits.lower_v:
                below[meter] = volts
            elif volts > limits.upper_v:
                above += 1
        return IntervalVoltage(ts, voltages, below, above, monitored)

    def observe(self, state: LowVoltageState, area: str, feeder: str, ts: float,
                voltages: dict[str, float], phases: dict[str, int]) -> list[Finding]:
        """Advance the area by one interval; return findings that start or clear now."""
        if ts <= state.last_ts:
            return []
        state.last_ts = ts
        interval = self.classify(ts, voltages, phases)
        day = int(ts // DAY_S)
        if day != state.day:
            state.day, state.day_monitored, state.day_qualified = day, 0, 0
        state.day_monitored += interval.monitored
        state.day_qualified += interval.monitored - len(interval.below) - interval.above
        if interval.monitored == 0:
            return []
        fraction = len(interval.below) / interval.monitored
        is_low = fraction >= self.settings.min_low_points_fraction
        if is_low:
            state.low_run += 1
            state.clear_run = 0
            if state.low_run == 1:
                state.low_since = ts
            for meter, volts in interval.below.items():
                state.worst_points[meter] = min(volts, state.worst_points.get(meter, volts))
        else:
            state.clear_run += 1
            state.low_run = 0
        if state.firing_since is None and state.low_run >= self.settings.min_consecutive_intervals:
            state.firing_since = state.low_since
            return [self._finding(FIRING, area, feeder, ts, interval, fraction, state)]
        if (state.firing_since is not None
                and state.clear_run >= self.settings.clear_consecutive_intervals):
            finding = self._finding(RESOLVED, area, feeder, ts, interval, fraction, state)
            state.firing_since = None
            state.worst_points = {}
            return [finding]
        return []

    def qualification_rate(self, state: LowVoltageState) -> float | None:
        """Day-to-date voltage qualification rate of the area, or None before any point."""
        if state.day_monitored == 0:
            return None
        return state.day_qualified / state.day_monitored

    def _finding(self, status: str, area: str, feeder: str, ts: float,
                 interval: IntervalVoltage, fraction: float, state: LowVoltageState) -> Finding:
        lower = self.settings.single_phase.lower_v
        zone = sorted(state.worst_points, key=state.worst_points.get)[:20]
        minimum = min(interval.below.values()) if interval.below else None
        if status == FIRING:
            reason = (f"{len(interval.below)} of {interval.monitored} points in area {area} "
                      f"have been below {lower:.1f} V for {state.low_run} consecutive "
                      f"intervals (lowest {minimum:.1f} V).")
        else:
            reason = (f"Area {area} voltages back within limits for {state.clear_run} "
                      f"consecutive intervals.")
        return Finding(
            kind=KIND, entity=area, entity_type="area", area=area, feeder=feeder,
            started_at=float(state.firing_since), at=ts, status=status,
            severity="warning", detector=self.name, score=round(fraction, 4),
            observed={"low_points": len(interval.below), "monitored_points": interval.monitored,
                      "low_fraction": round(fraction, 4),
                      "min_voltage_v": minimum},
            threshold={"lower_limit_v": lower,
                       "min_low_points_fraction": self.settings.min_low_points_fraction,
                       "min_consecutive_intervals": self.settings.min_consecutive_intervals},
            reason=reason,
            evidence={"zone_meters": zone,
                      "worst_voltage_v": {m: round(state.worst_points[m], 2) for m in zone}},
        )

