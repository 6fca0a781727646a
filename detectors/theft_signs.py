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

import numpy as np

from gridwatch.config import TheftSettings
from gridwatch.detectors.episodes import Episodes
from gridwatch.detectors.faults import FaultView
from gridwatch.detectors.frame import IntervalFrame
from gridwatch.detectors.state import MeterTable

NAME = "theft_signs"
INTERVALS_PER_DAY_AT = 86_400.0


class TheftSignDetector:
    """Tamper events, reverse energy and one-phase-missing on three-phase meters.

    >>> from gridwatch.config import TheftSettings
    >>> from gridwatch.detectors.state import AreaState
    >>> from gridwatch.detectors.faults import FaultView
    >>> from gridwatch.streams.schema import Reading
    >>> state = AreaState()
    >>> r = Reading("m1", 900, "customer", 1, 5.0, [221.0], [1.0], events=["cover_open"])
    >>> frame = IntervalFrame.build(900, [r], state.meters)
    >>> ep = Episodes({}, "A1", "F1")
    >>> view = FaultView(False, np.zeros(1, bool), False, False, False)
    >>> TheftSignDetector(TheftSettings(), 900, 50.0).observe(frame, state.meters, view, ep)
    >>> [(f.kind, f.entity) for f in ep.findings]
    [('theft_tamper_event', 'm1')]
    """

    def __init__(self, settings: TheftSettings, interval_s: int, dead_voltage_v: float) -> None:
        self.settings = settings
        self.interval_s = interval_s
        self.dead_voltage_v = dead_voltage_v
        self.tamper = frozenset(settings.tamper_events)
        self.quiet_s = settings.quiet_intervals * interval_s
        self.quiet_reasons = {
            "theft_tamper_event": f"No tamper event for {settings.quiet_intervals} intervals.",
            "theft_reverse_energy": f"No reverse energy for {settings.quiet_intervals} intervals."}

    def observe(self, frame: IntervalFrame, table: MeterTable, view: FaultView,
                episodes: Episodes) -> None:
        """Judge this interval; must run before the table's registers are overwritten."""
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
                episodes.fire("theft_tamper_event", meter, "meter", at=ts, detector=NAME,
                              severity="warning", observed={"events": sorted(signs)},
                              threshold={"tamper_events": sorted(self.tamper)},
                              reason=f"Meter {meter} reported {', '.join(sorted(signs))}.")
                episodes.touch("theft_tamper_event", meter, ts)
            if reversed_[i] or "reverse_energy" in reading.events:
                episodes.fire("theft_reverse_energy", meter, "meter", at=ts, detector=NAME,
                              observed={"reverse_kwh_step": round(float(rev_step[i]), 3),
                                        "power_kw": reading.power_kw},
                              threshold={"reverse_min_kwh": s.reverse_min_kwh},
                              reason=(f"Meter {meter} registered {rev_step[i]:.2f} kWh of "
                                      f"reverse energy in one interval; the customer has no "
                                      f"generation on record."),
                              loss_kwh_per_day=float(rev_step[i]) * per_day)
                episodes.touch("theft_reverse_energy", meter, ts)
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
                if episodes.is_open("theft_phase_tamper", meter):
                    episodes.resolve("theft_phase_tamper", meter, at=frame.ts,
                                     reason=f"Meter {meter} sees all three phases again.")
                continue
            run[row] = min(run[row] + 1, 30_000)
            if run[row] >= s.phase_tamper_intervals:
                seen_kw = reading.power_kw
                per_day = INTERVALS_PER_DAY_AT / 3600.0
                episodes.fire("theft_phase_tamper", meter, "meter", at=frame.ts,
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
