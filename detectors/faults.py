"""Faults: area outage, single-meter power loss, phase loss, overload, voltage sag and swell.

Why topology decides: a meter reading ~0 V is a meter problem only if its
neighbours are fine. When the area meter (at the transformer) is dark, or
nearly every meter of the area went dark in the same interval, it is an
area outage; when one phase of the transformer is gone, the single-phase
meters on it going dark are the phase loss, not a dozen power losses. A
feeder outage is many areas dark together; that is judged across areas by
`gridwatch.detectors.feeder`.

Sag and swell are judged on the transformer secondary voltage against the
area's own recent level (the tap and the feeder set it, not the nominal), so
a weak transformer's slow evening droop is a low-voltage zone, not a sag.
Every fault resolves on the first interval the condition is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ..config import DetectorSettings, FaultSettings
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import (
    METER_POWER_LOSS,
    OUTAGE_AREA,
    PHASE_LOSS,
    TRANSFORMER_OVERLOAD,
    VOLTAGE_SAG,
    VOLTAGE_SWELL,
)
from .episodes import Episodes
from .frame import IntervalFrame
from .state import BINS_PER_DAY, AreaState, MeterTable

if TYPE_CHECKING:
    from .contract import Interval

NAME = "faults"
VOLTAGE_BASE_FADING = 0.05
DAY_S = 86_400
PROFILE_FADING = 0.1      # hourly load profile and daily peak: weight of a new value
PROFILE_WARMUP = 12       # readings of the hour (3 days) before projecting
PEAK_WARMUP_DAYS = 3      # daily peaks seen before projecting
BASELINE_PREFIX = "base_"  # columns of the meters' seasonal baseline (bin kWh), see balance.py
STEP_LEARN_MAX = 1.3      # a load this far over usual is not learned as usual
RECOVERED_BAND = 0.04     # a departure has ended when the voltage is this close to usual


@dataclass
class FaultView:
    """What the fault detector concluded, for the detectors that run after it."""

    area_dark: bool
    dark: np.ndarray          # customer meters without supply in this interval
    phase_lost: bool
    voltage_departure: bool   # a possible sag or swell is in progress
    heavy_load: bool          # transformer near its rating: low voltage is the load's doing


class FaultState(TypedDict, total=False):
    """The fault detector's slice of ``AreaState.scalars``."""

    v_base: float                 # the transformer secondary's usual voltage (EW mean)
    v_dev: dict[str, Any] | None  # the sag or swell in progress, if any
    overload_ahead: int           # intervals in a row projected over the rating
    overload_clear: int           # intervals in a row back under it
    load_profile: dict[str, Any]  # EW of the daily peak load


class FaultDetector:
    """Per-interval fault rules over one area's frame.

    >>> from gridwatch.config import DetectorSettings
    >>> from gridwatch.detectors.contract import Interval
    >>> from gridwatch.detectors.state import AreaState
    >>> from gridwatch.vocabulary.schema import Reading
    >>> state, det = AreaState(), FaultDetector.from_settings(DetectorSettings())
    >>> rs = [Reading(f"m{i}", 900, "customer", 1, 1.0, [v], [1.0])
    ...       for i, v in enumerate([220.0, 0.0, 221.0])]
    >>> frame = IntervalFrame.build(900, rs, state.meters)
    >>> interval = Interval(None, frame, state, Episodes({}, "A1", "F1"), [], {}, frame.vmin > 50)
    >>> [(f.kind, f.entity) for f in det.observe(interval)], interval.faults.area_dark
    ([('meter_power_loss', 'm1')], False)
    """

    name = NAME
    settings_keys = ("faults",)
    State = FaultState

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> FaultDetector:
        return cls(settings.faults)

    def observe(self, interval: Interval) -> list[Finding]:
        """Judge one interval; leave the verdict (`FaultView`) for the detectors after it."""
        since = len(interval.episodes.findings)
        interval.faults = self._judge(interval.frame, interval.state, interval.episodes)
        return interval.judged(since)

    def _judge(self, frame: IntervalFrame, state: AreaState, episodes: Episodes) -> FaultView:
        s = self.settings
        table, scalars = state.meters, state.scalars
        ts = frame.ts
        dark = frame.vmax < s.dead_voltage_v
        dark_count = int(np.count_nonzero(dark))
        area_v = frame.area_voltage(s.dead_voltage_v)
        dark_share = dark_count / dark.size if dark.size else 0.0
        area_dark = ((area_v is not None and area_v[1] == 0)
                     or (dark.size >= 2 and dark_share >= s.outage_dark_fraction))
        phase_lost = area_v is not None and 0 < area_v[1] < area_v[2]
        self._outage(episodes, frame, area_dark, dark_share)
        self._phase_loss(episodes, frame, phase_lost)
        if dark_count or episodes.store:
            self._power_loss(episodes, frame, table, dark, dark_count, area_dark or phase_lost)
        load = self._load_ratio(frame)
        if area_v is not None and not area_dark:
            self._overload(episodes, frame, state, load)
            self._sag_swell(episodes, ts, area_v[0], scalars)
        return FaultView(area_dark, dark, phase_lost, scalars.get("v_dev") is not None,
                         load is not None and load > s.heavy_load_ratio)

    @staticmethod
    def _load_ratio(frame: IntervalFrame) -> float | None:
        """Apparent power of the area meter over the transformer rating, if it is known."""
        reading = frame.area
        if reading is None or reading.rated_kva <= 0:
            return None
        kva = sum(v * i for v, i in zip(reading.voltage, reading.current, strict=False)) / 1000
        return kva / reading.rated_kva

    def _outage(self, episodes: Episodes, frame: IntervalFrame, area_dark: bool,
                dark_share: float) -> None:
        area = episodes.area
        if area_dark:
            episodes.fire(OUTAGE_AREA, area, "area", at=frame.ts, detector=NAME,
                          score=1.0,
                          observed={"dark_meter_share": round(dark_share, 3),
                                    "area_meter_voltage": (frame.area.voltage
                                                           if frame.area else None)},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v,
                                     "outage_dark_fraction": self.settings.outage_dark_fraction},
                          reason=(f"Area {area} is without supply: the transformer meter and "
                                  f"{dark_share:.0%} of its meters read below "
                                  f"{self.settings.dead_voltage_v:.0f} V."))
        elif episodes.is_open(OUTAGE_AREA, area):
            episodes.resolve(OUTAGE_AREA, area, at=frame.ts,
                             reason=f"Supply to area {area} is back.")

    def _phase_loss(self, episodes: Episodes, frame: IntervalFrame, lost: bool) -> None:
        area = episodes.area
        if lost and frame.area is not None:
            volts = frame.area.voltage
            missing = [p for p, v in zip("abc", volts, strict=False)
                       if v < self.settings.dead_voltage_v]
            episodes.fire(PHASE_LOSS, area, "area", at=frame.ts, detector=NAME,
                          observed={"area_meter_voltage": volts, "lost_phases": missing},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v},
                          reason=(f"Transformer of area {area} lost phase "
                                  f"{','.join(missing)} while the other phases are live."))
        elif not lost and episodes.is_open(PHASE_LOSS, area):
            episodes.resolve(PHASE_LOSS, area, at=frame.ts,
                             reason=f"All phases of area {area} are live again.")

    def _power_loss(self, episodes: Episodes, frame: IntervalFrame, table: MeterTable,
                    dark: np.ndarray, dark_count: int, supply_fault: bool) -> None:
        open_now = set(episodes.open_entities(METER_POWER_LOSS))
        for i in np.flatnonzero(dark):
            meter = table.meters[frame.rows[i]]
            if supply_fault and meter not in open_now:
                continue
            episodes.fire(METER_POWER_LOSS, meter, "meter", at=frame.ts, detector=NAME,
                          observed={"voltage_v": frame.readings[i].voltage,
                                    "neighbours_dark": dark_count - 1},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v},
                          reason=(f"Meter {meter} lost supply while the rest of area "
                                  f"{episodes.area} is powered."))
        if open_now:
            positions = {table.meters[r]: i for i, r in enumerate(frame.rows)}
            for meter in open_now:
                i = positions.get(meter)
                if i is not None and not dark[i]:
                    episodes.resolve(METER_POWER_LOSS, meter, at=frame.ts,
                                     observed={"voltage_v": frame.readings[i].voltage},
                                     reason=f"Meter {meter} has supply again.")

    def _overload(self, episodes: Episodes, frame: IntervalFrame, state: AreaState,
                  ratio: float | None) -> None:
        """Apparent power against the rating, now or projected to the evening peak.

        Projected: the load stands at `overload_step_ratio` times or more its
        usual level for this hour (an hourly EW profile of the area), most of
        the customers draw that much over their own usual too (a broad rise,
        as in a cold snap, not one big customer's shift), and the usual daily
        peak scaled by that step exceeds the rating: the peak will overload
        the transformer, so the alert does not wait for it.
        Clears only after a long calm (a daily load curve dips under the
        rating every night while the overload persists).
        """
        area_reading = frame.area
        if area_reading is None or ratio is None:
            return
        s = self.settings
        table, scalars = state.meters, state.scalars
        rated = area_reading.rated_kva
        kva = ratio * rated
        step, projected = self._load_profile(frame.ts, kva, state,
                                             episodes.is_open(TRANSFORMER_OVERLOAD,
                                                              episodes.area))
        area = episodes.area
        ahead = (step >= s.overload_step_ratio and projected / rated > s.overload_ratio
                 and self._broad_step(frame, table) >= s.overload_step_ratio)
        run = scalars.get("overload_ahead", 0) + 1 if ahead else 0
        scalars["overload_ahead"] = run
        if ratio > s.overload_ratio or run >= 2:
            now = ratio > s.overload_ratio
            episodes.fire(TRANSFORMER_OVERLOAD, area, "area", at=frame.ts, detector=NAME,
                          score=min(1.0, max(ratio, projected / rated) - 0.5),
                          observed={"load_kva": round(kva, 2), "load_ratio": round(ratio, 3),
                                    "step_over_usual": round(step, 2),
                                    "projected_peak_kva": round(projected, 1)},
                          threshold={"rated_kva": rated, "overload_ratio": s.overload_ratio,
                                     "overload_step_ratio": s.overload_step_ratio},
                          reason=(f"Transformer of area {area} carries {kva:.0f} kVA, "
                                  f"{ratio:.0%} of its {rated:.0f} kVA rating."
                                  if now else
                                  f"Transformer of area {area} carries {step:.1f} times its "
                                  f"usual load for the hour; its peak would reach "
                                  f"{projected:.0f} kVA against a {rated:.0f} kVA rating."))
            scalars["overload_clear"] = 0
        elif ratio < s.overload_clear_ratio:
            clear = scalars.get("overload_clear", 0) + 1
            scalars["overload_clear"] = clear
            if clear >= s.overload_clear_intervals and episodes.is_open(TRANSFORMER_OVERLOAD,
                                                                        area):
                episodes.resolve(TRANSFORMER_OVERLOAD, area, at=frame.ts,
                                 observed={"load_ratio": round(ratio, 3)},
                                 reason=(f"Transformer of area {area} has stayed under its "
                                         f"rating for {clear} intervals."))

    @staticmethod
    def _broad_step(frame: IntervalFrame, table: MeterTable) -> float:
        """Median over the area's meters of their power over their usual for this bin."""
        levels = table.col.get(BASELINE_PREFIX + "levels")
        counts = table.col.get(BASELINE_PREFIX + "counts")
        if levels is None or counts is None or not len(frame.rows):
            return 1.0
        slot = int((frame.ts - 1) % DAY_S // (DAY_S // BINS_PER_DAY))
        usual_kw = levels[frame.rows, slot] * BINS_PER_DAY / 24.0
        known = (usual_kw > 0) & (counts[frame.rows, slot] >= PEAK_WARMUP_DAYS)
        if known.sum() < 3:
            return 1.0
        return float(np.median(frame.power[known] / usual_kw[known]))

    @staticmethod
    def _load_profile(ts: float, kva: float, state: AreaState, overloaded: bool
                      ) -> tuple[float, float]:
        """(load over its usual level for the hour, usual daily peak scaled by that).

        Keeps an hourly EW load profile (the area's ``load_kva`` and
        ``load_n`` arrays) and an EW of the daily peak (its scalars);
        neither learns while the transformer is overloaded.
        """
        hour = int((ts - 1) % DAY_S // 3600)
        day = int((ts - 1) // DAY_S)
        profile = state.scalars.setdefault("load_profile", {"peak": 0.0, "days": 0, "day": day,
                                                            "day_max": 0.0})
        usual_kva, seen = state.arrays.get("load_kva"), state.arrays.get("load_n")
        if usual_kva is None or seen is None:
            # a state written before the profile moved to arrays holds it as lists
            usual_kva = state.arrays["load_kva"] = np.array(profile.pop("kva", [0.0] * 24),
                                                            np.float64)
            seen = state.arrays["load_n"] = np.array(profile.pop("n", [0] * 24), np.int64)
        if day != profile["day"]:
            if profile["day_max"] > 0 and not overloaded:
                rate = max(PROFILE_FADING, 1.0 / (profile["days"] + 1))
                profile["peak"] += rate * (profile["day_max"] - profile["peak"])
                profile["days"] += 1
            profile["day"], profile["day_max"] = day, 0.0
        usual, count = float(usual_kva[hour]), int(seen[hour])
        warm = count >= PROFILE_WARMUP and profile["days"] >= PEAK_WARMUP_DAYS and usual > 0
        step = kva / usual if warm else 1.0
        if not overloaded and step < STEP_LEARN_MAX:
            rate = max(PROFILE_FADING, 1.0 / (count + 1))
            usual_kva[hour] = usual + rate * (kva - usual)
            seen[hour] = count + 1
            profile["day_max"] = max(profile["day_max"], kva)
        return step, step * profile["peak"]

    def _sag_swell(self, episodes: Episodes, ts: float, volts: float, scalars: dict) -> None:
        """Judge the secondary voltage against the area's own recent level.

        A sag or swell is a departure that *comes back*: one lasting longer
        than ``sag_max_intervals`` is a new level (a tap change, a weak
        transformer: the low-voltage detector's business), so the usual level
        is re-anchored to it and nothing fires. A departure is therefore
        reported on the first interval back near the usual level (within
        `RECOVERED_BAND`), with the time it began.
        """
        s = self.settings
        base = scalars.get("v_base")
        if base is None:
            scalars["v_base"] = volts
            return
        ratio = volts / base
        dev = scalars.get("v_dev")
        outside = VOLTAGE_SAG if ratio < s.sag_pu else VOLTAGE_SWELL if ratio > s.swell_pu \
            else None
        if outside is None and dev is not None and abs(ratio - 1.0) > RECOVERED_BAND:
            outside = dev["kind"]          # not back to the usual level: still departed
        if outside is not None:
            if dev is None or dev["kind"] != outside:
                dev = {"kind": outside, "since": ts, "n": 0, "extreme": ratio}
            dev["n"] += 1
            dev["extreme"] = min(dev["extreme"], ratio) if outside == VOLTAGE_SAG else \
                max(dev["extreme"], ratio)
            if dev["n"] > s.sag_max_intervals:
                scalars["v_base"] = volts
                dev = None
            scalars["v_dev"] = dev
            return
        if dev is not None:
            self._report_departure(episodes, ts, dev, base)
            scalars["v_dev"] = None
        scalars["v_base"] = base + VOLTAGE_BASE_FADING * (volts - base)

    def _report_departure(self, episodes: Episodes, ts: float, dev: dict, base: float) -> None:
        s = self.settings
        kind, area, extreme = dev["kind"], episodes.area, dev["extreme"]
        word = "fell" if kind == VOLTAGE_SAG else "rose"
        episodes.fire(kind, area, "area", at=ts, started_at=dev["since"], detector=NAME,
                      score=min(1.0, abs(1 - extreme) * 5),
                      observed={"extreme_ratio": round(extreme, 3),
                                "extreme_voltage_v": round(extreme * base, 1),
                                "intervals": dev["n"]},
                      threshold={"usual_voltage_v": round(base, 1), "sag_pu": s.sag_pu,
                                 "swell_pu": s.swell_pu,
                                 "sag_max_intervals": s.sag_max_intervals},
                      reason=(f"Transformer voltage of area {area} {word} to "
                              f"{extreme * base:.1f} V ({extreme:.0%} of its usual "
                              f"{base:.1f} V) for {dev['n']} interval(s)."))
        episodes.resolve(kind, area, at=ts,
                         reason=f"Transformer voltage of area {area} is back to its usual level.")
