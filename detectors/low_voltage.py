"""Voltage qualification and low-voltage zones, per transformer area.

Why this shape: a low-voltage zone is a *place* problem (a long branch, a weak
transformer), not a meter problem. It shows as many of an area's points
sitting under the lower limit at the same time, typically at the evening
peak, for several intervals running. One meter dipping once is noise; all
meters at ~0 V is an outage, which is a fault and is left to the fault
detector (points under ``dead_voltage_v`` are not counted as low). A zone
clears only after ``clear_consecutive_intervals`` without low voltage (a
day by default: a weak branch is low every evening, it is one zone).

Voltage qualification rate (GB/T 12325 practice) = intervals within limits /
monitored intervals, accumulated per point and per area per day by the
Cython `VoltageQualification` kernel of `gridwatch.ext`, working in place
on the area state's columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..config import DetectorSettings, LowVoltageSettings
from ..ext import VoltageQualification
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import LOW_VOLTAGE_ZONE, TRANSFORMER_OVERLOAD
from .episodes import Episodes
from .state import MeterTable, add_kernel_columns, bind_kernel

if TYPE_CHECKING:
    from .contract import Interval

DAY_S = 86_400
KIND = LOW_VOLTAGE_ZONE
NAME = "low_voltage"
PREFIX = "vq_"
BELOW, UNMONITORED = 1, 3
ZONE_SIZE = 20
NO_ROWS = np.empty(0, np.intp)
add_kernel_columns(PREFIX, VoltageQualification,
                   {"lower_v": 198.0, "upper_v": 235.4, "dead_v": 50.0})


@dataclass
class LowVoltageState:
    """Per-area episode state, small and plain so it serialises with the area's scalars."""

    low_run: int = 0
    low_since: float = -1.0
    clear_run: int = 0
    day: int = -1
    worst_points: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LowVoltageState:
        return cls(**data)


class ZoneState(TypedDict, total=False):
    """The low-voltage detector's slice of ``AreaState.scalars``."""

    low_voltage: dict[str, Any]   # a `LowVoltageState` as a dict


class LowVoltageZoneDetector:
    """Raises ``low_voltage_zone`` on an area whose points stay under the lower limit.

    >>> from gridwatch.config import LowVoltageSettings
    >>> det = LowVoltageZoneDetector(LowVoltageSettings(min_consecutive_intervals=2))
    >>> state, table, ep = LowVoltageState(), MeterTable(), Episodes({}, "A1", "F1")
    >>> _ = table.index_of(["m1", "m2", "m3"])
    >>> low = np.array([190.0, 192.0, 221.0])
    >>> _ = det.account(state, table, ep, 900, low)
    >>> rate = det.account(state, table, ep, 1800, low)
    >>> [f.kind for f in ep.findings], round(rate, 3)
    (['low_voltage_zone'], 0.333)
    """

    name = NAME
    settings_keys = ("low_voltage",)
    State = ZoneState

    def __init__(self, settings: LowVoltageSettings) -> None:
        self.settings = settings
        self.kernel = VoltageQualification(0, lower_v=settings.single_phase.lower_v,
                                           upper_v=settings.single_phase.upper_v,
                                           dead_v=settings.dead_voltage_v)
        # limits by a meter's phase count (the ``phases`` column read as a byte): three-phase
        # meters get the 380 V class, anything else the 220 V class
        self._lowers = np.full(256, settings.single_phase.lower_v)
        self._uppers = np.full(256, settings.single_phase.upper_v)
        self._lowers[3] = settings.three_phase.lower_v
        self._uppers[3] = settings.three_phase.upper_v

    def _bank(self, table: MeterTable) -> VoltageQualification:
        """The qualification kernel on the table's columns, limits from the settings."""
        bank = bind_kernel(table, PREFIX, self.kernel)
        phases = table.col["phases"].view(np.uint8)
        np.take(self._lowers, phases, out=table.col[PREFIX + "lowers"], mode="clip")
        np.take(self._uppers, phases, out=table.col[PREFIX + "uppers"], mode="clip")
        return bank

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> LowVoltageZoneDetector:
        return cls(settings.low_voltage)

    def observe(self, interval: Interval) -> list[Finding]:
        """Account the interval's live, unstuck meters; judge the zone unless a fault
        (outage, sag or swell, heavy load, overload) explains the low voltage."""
        since = len(interval.episodes.findings)
        table, frame, episodes, view = interval.table, interval.frame, interval.episodes, \
            interval.faults
        volts = np.empty(len(table))
        volts.fill(np.nan)
        live = interval.powered & ~interval.stuck
        volts[frame.rows[live]] = frame.vmin[live]
        state = LowVoltageState.from_dict(interval.scalars.get("low_voltage") or {})
        judge = not (view.area_dark or view.voltage_departure or view.heavy_load
                     or episodes.is_open(TRANSFORMER_OVERLOAD, episodes.area))
        interval.qualification_rate = self.account(state, table, episodes, interval.ts, volts,
                                                   judge)
        interval.scalars["low_voltage"] = state.to_dict()
        return interval.judged(since)

    def account(self, state: LowVoltageState, table: MeterTable, episodes: Episodes,
                ts: float, volts: np.ndarray, judge: bool = True) -> float | None:
        """Account one interval; judge the zone unless `judge` is False; return the
        area's day-to-date qualification rate (None before any monitored point).

        `volts` holds every meter's lowest phase voltage in table order (the
        meters' phase counts come from the table's ``phases`` column), NaN
        for meters that did not report or must not be judged (stuck, dark).
        With `judge` False (an outage, a sag, an overload explains the low
        voltage) the qualification is still accounted, the zone left alone.
        """
        meters = table.meters
        bank = self._bank(table)
        day = int(ts // DAY_S)
        if day != state.day:
            state.day = day
            bank.reset()
        classes = bank.update_many(np.ascontiguousarray(volts, dtype=np.float64))
        rate = bank.area_rate()
        counts = np.bincount(classes, minlength=UNMONITORED + 1)
        monitored = classes.size - int(counts[UNMONITORED])
        if monitored == 0 or not judge:
            return None if math.isnan(rate) else rate
        fraction = int(counts[BELOW]) / monitored
        s = self.settings
        low = fraction >= s.min_low_points_fraction
        below = np.flatnonzero(classes == BELOW) if low else NO_ROWS
        if low:
            state.low_run += 1
            state.clear_run = 0
            if state.low_run == 1:
                state.low_since = ts
            for i in below:
                state.worst_points[meters[i]] = min(float(volts[i]),
                                                    state.worst_points.get(meters[i], math.inf))
        else:
            state.clear_run += 1
            state.low_run = 0
        area = episodes.area
        if state.low_run >= s.min_consecutive_intervals:
            self._fire(state, episodes, ts, volts[below], monitored, fraction)
        if state.clear_run >= s.clear_consecutive_intervals and episodes.is_open(KIND, area):
            episodes.resolve(KIND, area, at=ts, observed={"low_fraction": round(fraction, 4)},
                             reason=(f"Area {area} voltages back within limits for "
                                     f"{state.clear_run} consecutive intervals."))
            state.worst_points = {}
        return None if math.isnan(rate) else rate

    def _fire(self, state: LowVoltageState, episodes: Episodes, ts: float,
              low_volts: np.ndarray, monitored: int, fraction: float) -> None:
        s = self.settings
        lower = s.single_phase.lower_v
        zone = sorted(state.worst_points, key=state.worst_points.get)[:ZONE_SIZE]
        minimum = float(low_volts.min())
        episodes.fire(
            KIND, episodes.area, "area", at=ts, started_at=state.low_since, detector=NAME,
            score=fraction,
            observed={"low_points": int(low_volts.size), "monitored_points": monitored,
                      "low_fraction": round(fraction, 4), "min_voltage_v": minimum},
            threshold={"lower_limit_v": lower,
                       "min_low_points_fraction": s.min_low_points_fraction,
                       "min_consecutive_intervals": s.min_consecutive_intervals},
            reason=(f"{low_volts.size} of {monitored} points in area {episodes.area} have been "
                    f"below {lower:.1f} V for {state.low_run} consecutive intervals "
                    f"(lowest {minimum:.1f} V)."),
            evidence={"zone_meters": zone,
                      "worst_voltage_v": {m: round(state.worst_points[m], 2) for m in zone}})
