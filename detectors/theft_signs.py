"""Theft signs a single meter gives away by itself: tamper events, reverse energy, phase tamper.

Why these need no baseline: an honest meter does not report its cover
opened or a magnet held to it, a consumer without generation does not push
energy into the export register, and a three-phase meter does not lose the
voltage of one phase while its transformer (the area meter) still has all
three. Each sign opens a meter-level theft episode at once; it resolves when
the sign has been absent for ``quiet_intervals`` (events, reverse energy) or
the phase is seen again (phase tamper).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

import numpy as np

from ..config import DetectorSettings, TheftSettings
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import (
    THEFT,
    THEFT_PHASE_TAMPER,
    THEFT_REVERSE_ENERGY,
    THEFT_TAMPER_EVENT,
    kinds_where,
)
from .episodes import Episodes
from .faults import FaultView
from .frame import IntervalFrame
from .state import MeterTable

if TYPE_CHECKING:
    from .contract import Interval

NAME = "theft_signs"
SIGN_KINDS = kinds_where(THEFT, found_by=NAME)
INTERVALS_PER_DAY_AT = 86_400.0


class SignState(TypedDict, total=False):
    """No slice of ``AreaState.scalars``: the open episodes and the meter table hold it all."""


class TheftSignDetector:
    """Tamper events, reverse energy and one-phase-missing on three-phase meters.

    >>> from gridwatch.config import DetectorSettings
    >>> from gridwatch.detectors.contract import Interval
    >>> from gridwatch.detectors.state import AreaState
    >>> from gridwatch.detectors.faults import FaultView
    >>> from gridwatch.vocabulary.schema import Reading
    >>> state = AreaState()
    >>> r = Reading("m1", 900, "customer", 1, 5.0, [221.0], [1.0], events=["cover_open"])
    >>> frame = IntervalFrame.build(900, [r], state.meters)
    >>> interval = Interval(None, frame, state, Episodes({}, "A1", "F1"), [], {}, frame.vmin > 50)
    >>> interval.faults = FaultView(False, np.zeros(1, bool), False, False, False)
    >>> det = TheftSignDetector.from_settings(DetectorSettings())
    >>> [(f.kind, f.entity) for f in det.observe(interval)]
    [('theft_tamper_event', 'm1')]
    """

    name = NAME
    settings_keys = ("theft",)
    State = SignState

    def __init__(self, settings: TheftSettings, interval_s: int, dead_voltage_v: float) -> None:
        self.settings = settings
        self.interval_s = interval_s
        self.dead_voltage_v = dead_voltage_v
        self.tamper = frozenset(settings.tamper_events)
        self.quiet_s = settings.quiet_intervals * interval_s
        self.quiet_reasons = {
            THEFT_TAMPER_EVENT: f"No tamper event for {settings.quiet_intervals} intervals.",
            THEFT_REVERSE_ENERGY: f"No reverse energy for {settings.quiet_intervals} intervals."}

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> TheftSignDetector:
        return cls(settings.theft, settings.data_quality.interval_s,
                   settings.faults.dead_voltage_v)

    def observe(self, interval: Interval) -> list[Finding]:
        """Judge this interval; must run before the table's registers are overwritten.

        A sign episode stays open while the energy balance still holds evidence
        against the meter (its ``evidence`` column), however quiet the sign.
        """
        since = len(interval.episodes.findings)
        table, episodes, ts = interval.table, interval.episodes, interval.ts
        evidence = table.col["evidence"]
        for kind in SIGN_KINDS:
            for meter in episodes.open_entities(kind):
                if evidence[table.index[meter]] >= 1.0:
                    episodes.touch(kind, meter, ts)
        self._judge(interval.frame, table, interval.faults, episodes)
        return interval.judged(since)

    def _judge(self, frame: IntervalFrame, table: MeterTable, view: FaultView,
               episodes: Episodes) -> None:
        s = self.settings
        ts = frame.ts
        per_day = INTERVALS_PER_DAY_AT / self.interval_s
        rev_step = frame.reverse - table.col["reverse"][frame.rows]
        rev_step[np.isnan(rev_step)] = 0.0          # a meter's first reading has no step
        reversed_ = (rev_step > s.reverse_min_kwh).tolist()
        readings = frame.readings
        for i in [i for i, r in enumerate(readings) if r.events or reversed_[i]]:
            reading = readings[i]
            meter = reading.meter
            signs = self.tamper.intersection(reading.events)
            if signs:
                episodes.fire(THEFT_TAMPER_EVENT, meter, "meter", at=ts, detector=NAME,
                              observed={"events": sorted(signs)},
                              threshold={"tamper_events": sorted(self.tamper)},
                              reason=f"Meter {meter} reported {', '.join(sorted(signs))}.")
                episodes.touch(THEFT_TAMPER_EVENT, meter, ts)
            if reversed_[i] or "reverse_energy" in reading.events:
                episodes.fire(THEFT_REVERSE_ENERGY, meter, "meter", at=ts, detector=NAME,
                              observed={"reverse_kwh_step": round(float(rev_step[i]), 3),
                                        "power_kw": reading.power_kw},
                              threshold={"reverse_min_kwh": s.reverse_min_kwh},
                              reason=(f"Meter {meter} registered {rev_step[i]:.2f} kWh of "
                                      f"reverse energy in one interval; the customer has no "
                                      f"generation on record."),
                              loss_kwh_per_day=float(rev_step[i]) * per_day)
                episodes.touch(THEFT_REVERSE_ENERGY, meter, ts)
        if not (view.area_dark or view.phase_lost):
            self._phase_tamper(frame, table, episodes)
        if episodes.store:
            for kind, reason in self.quiet_reasons.items():
                episodes.sweep(kind, ts, self.quiet_s, reason)

    def _phase_tamper(self, frame: IntervalFrame, table: MeterTable, episodes: Episodes) -> None:
        s = self.settings
        dead = self.dead_voltage_v
        run = table.col["phase_run"]
        for i in frame.three_phase:
            reading = frame.readings[i]
            meter = reading.meter
            row = frame.rows[i]
            volts, amps = reading.voltage, reading.current
            missing = [] if min(volts) >= dead else [p for p in range(3) if volts[p] < dead]
            tampered = len(missing) == 1 and sum(volts[p] >= dead for p in range(3)) == 2
            if not tampered:
                run[row] = 0
                if episodes.is_open(THEFT_PHASE_TAMPER, meter):
                    episodes.resolve(THEFT_PHASE_TAMPER, meter, at=frame.ts,
                                     reason=f"Meter {meter} sees all three phases again.")
                continue
            run[row] = min(run[row] + 1, 30_000)
            if run[row] >= s.phase_tamper_intervals:
                seen_kw = reading.power_kw
                per_day = INTERVALS_PER_DAY_AT / 3600.0
                episodes.fire(THEFT_PHASE_TAMPER, meter, "meter", at=frame.ts,
                              started_at=frame.ts - (int(run[row]) - 1) * self.interval_s,
                              detector=NAME,
                              observed={"voltage_v": volts, "current_a": amps,
                                        "missing_phase": "abc"[missing[0]]},
                              threshold={"dead_voltage_v": dead,
                                         "phase_tamper_intervals": s.phase_tamper_intervals},
                              reason=(f"Three-phase meter {meter} has not seen phase "
                                      f"{'abc'[missing[0]]} for {int(run[row])} intervals "
                                      f"while the area transformer has all three."),
                              loss_kwh_per_day=max(seen_kw, 0.0) / 2.0 * per_day)
