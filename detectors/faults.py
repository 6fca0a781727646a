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

import numpy as np

from gridwatch.config import FaultSettings
from gridwatch.detectors.episodes import Episodes
from gridwatch.detectors.frame import IntervalFrame
from gridwatch.detectors.state import MeterTable

NAME = "faults"
VOLTAGE_BASE_FADING = 0.05
RECOVERED_BAND = 0.04     # a departure has ended when the voltage is this close to usual


@dataclass
class FaultView:
    """What the fault detector concluded, for the detectors that run after it."""

    area_dark: bool
    dark: np.ndarray          # customer meters without supply in this interval
    phase_lost: bool
    voltage_departure: bool   # a possible sag or swell is in progress
    heavy_load: bool          # transformer near its rating: low voltage is the load's doing


class FaultDetector:
    """Per-interval fault rules over one area's frame.

    >>> from gridwatch.config import FaultSettings
    >>> from gridwatch.detectors.state import AreaState
    >>> from gridwatch.streams.schema import Reading
    >>> state, det = AreaState(), FaultDetector(FaultSettings())
    >>> def frame(ts, v):
    ...     rs = [Reading(f"m{i}", ts, "customer", 1, 1.0, [v[i]], [1.0]) for i in range(3)]
    ...     return IntervalFrame.build(ts, rs, state.meters)
    >>> ep = Episodes({}, "A1", "F1")
    >>> det.observe(frame(900, [220.0, 0.0, 221.0]), state.meters, {}, ep).area_dark
    False
    >>> [(f.kind, f.entity) for f in ep.findings]
    [('meter_power_loss', 'm1')]
    """

    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings

    def observe(self, frame: IntervalFrame, table: MeterTable, scalars: dict,
                episodes: Episodes) -> FaultView:
        s = self.settings
        ts = frame.ts
        dark = frame.vmax < s.dead_voltage_v
        area_v = frame.area_voltage(s.dead_voltage_v)
        dark_share = float(dark.mean()) if dark.size else 0.0
        area_dark = ((area_v is not None and area_v[1] == 0)
                     or (dark.size >= 2 and dark_share >= s.outage_dark_fraction))
        phase_lost = area_v is not None and 0 < area_v[1] < area_v[2]
        self._outage(episodes, frame, area_dark, dark_share)
        self._phase_loss(episodes, frame, phase_lost)
        self._power_loss(episodes, frame, table, dark, area_dark or phase_lost)
        if area_v is not None and not area_dark:
            self._overload(episodes, frame, scalars)
            self._sag_swell(episodes, ts, area_v[0], scalars)
        load = self._load_ratio(frame)
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
            episodes.fire("outage_area", area, "area", at=frame.ts, detector=NAME,
                          severity="critical", score=1.0,
                          observed={"dark_meter_share": round(dark_share, 3),
                                    "area_meter_voltage": (frame.area.voltage
                                                           if frame.area else None)},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v,
                                     "outage_dark_fraction": self.settings.outage_dark_fraction},
                          reason=(f"Area {area} is without supply: the transformer meter and "
                                  f"{dark_share:.0%} of its meters read below "
                                  f"{self.settings.dead_voltage_v:.0f} V."))
        else:
            episodes.resolve("outage_area", area, at=frame.ts,
                             reason=f"Supply to area {area} is back.")

    def _phase_loss(self, episodes: Episodes, frame: IntervalFrame, lost: bool) -> None:
        area = episodes.area
        if lost and frame.area is not None:
            volts = frame.area.voltage
            missing = [p for p, v in zip("abc", volts, strict=False)
                       if v < self.settings.dead_voltage_v]
            episodes.fire("phase_loss", area, "area", at=frame.ts, detector=NAME,
                          severity="critical",
                          observed={"area_meter_voltage": volts, "lost_phases": missing},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v},
                          reason=(f"Transformer of area {area} lost phase "
                                  f"{','.join(missing)} while the other phases are live."))
        elif not lost:
            episodes.resolve("phase_loss", area, at=frame.ts,
                             reason=f"All phases of area {area} are live again.")

    def _power_loss(self, episodes: Episodes, frame: IntervalFrame, table: MeterTable,
                    dark: np.ndarray, supply_fault: bool) -> None:
        open_now = set(episodes.open_entities("meter_power_loss"))
        for i in np.flatnonzero(dark):
            meter = table.meters[frame.rows[i]]
            if supply_fault and meter not in open_now:
                continue
            episodes.fire("meter_power_loss", meter, "meter", at=frame.ts, detector=NAME,
                          observed={"voltage_v": frame.readings[i].voltage,
                                    "neighbours_dark": int(dark.sum()) - 1},
                          threshold={"dead_voltage_v": self.settings.dead_voltage_v},
                          reason=(f"Meter {meter} lost supply while the rest of area "
                                  f"{episodes.area} is powered."))
        if open_now:
            positions = {table.meters[r]: i for i, r in enumerate(frame.rows)}
            for meter in open_now:
                i = positions.get(meter)
                if i is not None and not dark[i]:
                    episodes.resolve("meter_power_loss", meter, at=frame.ts,
                                     observed={"voltage_v": frame.readings[i].voltage},
                                     reason=f"Meter {meter} has supply again.")

    def _overload(self, episodes: Episodes, frame: IntervalFrame, scalars: dict) -> None:
        """Apparent power against the rating; clears only after a long calm (a daily
        load curve dips under the rating every night while the overload persists)."""
        area_reading = frame.area
        ratio = self._load_ratio(frame)
        if area_reading is None or ratio is None:
            return
        kva = ratio * area_reading.rated_kva
        area = episodes.area
        if ratio > self.settings.overload_ratio:
            episodes.fire("transformer_overload", area, "area", at=frame.ts, detector=NAME,
                          score=min(1.0, ratio - 1.0 + 0.5),
                          observed={"load_kva": round(kva, 2), "load_ratio": round(ratio, 3)},
                          threshold={"rated_kva": area_reading.rated_kva,
                                     "overload_ratio": self.settings.overload_ratio},
                          reason=(f"Transformer of area {area} carries {kva:.0f} kVA, "
                                  f"{ratio:.0%} of its {area_reading.rated_kva:.0f} kVA rating."))
            scalars["overload_clear"] = 0
        elif ratio < self.settings.overload_clear_ratio:
            clear = scalars.get("overload_clear", 0) + 1
            scalars["overload_clear"] = clear
            if clear >= self.settings.overload_clear_intervals:
                episodes.resolve("transformer_overload", area, at=frame.ts,
                                 observed={"load_ratio": round(ratio, 3)},
                                 reason=(f"Transformer of area {area} has stayed under its "
                                         f"rating for {clear} intervals."))

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
        outside = "voltage_sag" if ratio < s.sag_pu else "voltage_swell" if ratio > s.swell_pu \
            else None
        if outside is None and dev is not None and abs(ratio - 1.0) > RECOVERED_BAND:
            outside = dev["kind"]          # not back to the usual level: still departed
        if outside is not None:
            if dev is None or dev["kind"] != outside:
                dev = {"kind": outside, "since": ts, "n": 0, "extreme": ratio}
            dev["n"] += 1
            dev["extreme"] = min(dev["extreme"], ratio) if outside == "voltage_sag" else \
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
        word = "fell" if kind == "voltage_sag" else "rose"
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
