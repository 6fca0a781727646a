"""Applying planned scenario events to each simulated day.

Why three hooks: problems act at different layers. Physical ones (theft,
leakage, faults, low voltage) change what flows and what the meter
registers, so they set physics effects *before* the day is simulated; a stuck
meter changes what the meter *reports*, after; concentrator problems
(drop-outs, duplicates, late uploads) and clock skew change how readings are
*delivered*. Each kind has one small function per layer it touches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..vocabulary import kinds
from .effects import EVENT_BIT, Effects
from .physics import ChunkReadings
from .scenarios import PlannedEvent
from .stream import Delivery
from .topology import NOMINAL_PHASE_V, SIZING_PEAK_FACTOR, Grid

MAX_BRANCH_FACTOR = 1.6
USUAL_PEAK_FACTOR = 1.9          # an ordinary evening peak over mean demand
FROZEN_FIELDS = ("voltage", "current", "energy_kwh", "reverse_kwh", "power_kw", "pf")


class Window:
    """Which of a day's readings an event covers, and its first and recovery readings."""

    def __init__(self, event: PlannedEvent, ts: np.ndarray, interval_s: int) -> None:
        start, end = event.label.start, event.label.end
        self.on = (ts > start) & (ts <= end)
        self.onset = self.on & (ts - interval_s <= start)
        self.recovery = (ts > end) & (ts - interval_s <= end)
        self.ts = ts
        self.interval_s = interval_s

    def progress(self, event: PlannedEvent) -> np.ndarray:
        """Share of the event's duration elapsed at each reading (0..1)."""
        span = max(event.label.end - event.label.start, 1.0)
        return np.clip((self.ts - event.label.start) / span, 0.0, 1.0)

    def night(self, from_h: float, to_h: float) -> np.ndarray:
        hour = ((self.ts - self.interval_s / 2) % 86_400) / 3600.0
        if from_h > to_h:
            return (hour >= from_h) | (hour < to_h)
        return (hour >= from_h) & (hour < to_h)


EffectFn = Callable[[Grid, PlannedEvent, Window, Effects], None]


def _raise(effects: Effects, area: int, when: np.ndarray, slots: int | np.ndarray,
           event: str) -> None:
    """Set an event bit on the given meters (a slot or a slot mask) at the given readings."""
    times = np.nonzero(when)[0]
    meters = np.nonzero(slots)[0] if isinstance(slots, np.ndarray) else np.array([slots])
    if times.size and meters.size:
        effects.array("events")[area][np.ix_(times, meters)] |= np.uint8(EVENT_BIT[event])


def _theft_share(share: float) -> EffectFn:
    def apply(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
        fx.array("metered_share")[ev.areas[0], w.on, ev.slot] = share
    return apply


def _bypass(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    fx.array("metered_share")[ev.areas[0], w.on, ev.slot] = 1.0 - float(ev.params["fraction"])


def _night_bypass(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    night = w.night(float(ev.params["night_from_h"]), float(ev.params["night_to_h"]))
    fx.array("metered_share")[ev.areas[0], w.on & night, ev.slot] = (
        1.0 - float(ev.params["fraction"]))


def _phase_tamper(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a, k = ev.areas[0], ev.slot
    fx.array("hidden_phase")[a, w.on, k] = int(ev.params["phase"])
    fx.array("metered_share")[a, w.on, k] = 2.0 / 3.0


def _reverse(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    fx.array("reverse")[ev.areas[0], w.on, ev.slot] = True
    _raise(fx, ev.areas[0], w.onset, ev.slot, "reverse_energy")


def _tamper_event(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    fx.array("metered_share")[ev.areas[0], w.on, ev.slot] = 1.0 - float(ev.params["fraction"])
    _raise(fx, ev.areas[0], w.onset, ev.slot, str(ev.params["event"]))


def _leakage(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a = ev.areas[0]
    level = float(ev.params["share"]) * float(grid.mean_kw[a].sum())
    ramp = np.minimum(w.progress(ev) / 0.5, 1.0) if ev.params["shape"] == "ramp" else 1.0
    fx.array("leak_kw")[a, w.on] = (level * ramp * np.ones(w.on.size))[w.on]


def usual_peak_drop_v(grid: Grid, area: int) -> tuple[np.ndarray, float]:
    """(branch drop at each meter, transformer drop) at a usual evening peak, in volts.

    The usual evening peak is `USUAL_PEAK_FACTOR` x mean demand.
    """
    amps = (grid.mean_kw[area] * USUAL_PEAK_FACTOR * 1000.0
            / (NOMINAL_PHASE_V * grid.power_factor[area]))
    phase_amps = amps[:, None] * grid.phase_weight[area]              # (K, 3)
    drop = grid.r_common[area] @ phase_amps                            # (K, 3)
    own = (drop * (grid.phase_weight[area] > 0)).max(axis=1)
    return own[grid.mask[area]], float(grid.tx_ohm[area] * phase_amps.sum(axis=0).max())


def low_voltage_strength(grid: Grid, area: int, cause: str, target_v: float
                         ) -> tuple[float, float]:
    """(tap offset, branch resistance factor) putting the area's 70th-percentile meter (by
    drop) at ``target_v`` at a usual evening peak, so about a third of its points fall
    under the limit then and recover off-peak.

    A weak transformer (or a low medium-voltage level at the far end of a long feeder)
    lowers the secondary voltage only; an overlong branch first multiplies the branch
    resistance (up to `MAX_BRANCH_FACTOR`; line loss grows with it, so the cap keeps
    the area's loss rate near normal and the label attributable) and lowers the
    secondary voltage for whatever is still missing, as small areas carry too little
    current to sag on resistance alone.
    """
    drops, tx_drop = usual_peak_drop_v(grid, area)
    source = float(grid.no_load_v[area] * grid.mv_level[area]) * 0.98
    drop_p70 = float(np.percentile(drops, 70))
    factor = 1.0
    if cause == "long_branch":
        wanted = (source - tx_drop - target_v) / max(drop_p70, 0.1)
        factor = min(MAX_BRANCH_FACTOR, max(1.0, wanted))
    tap = min(0.0, (target_v + factor * drop_p70 + tx_drop) / source - 1.0)
    return tap, factor


def _low_voltage(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a = ev.areas[0]
    tap, factor = low_voltage_strength(grid, a, str(ev.params["cause"]),
                                       float(ev.params["target_v"]))
    fx.array("tap_offset")[a, w.on] = tap
    if factor > 1.0:
        fx.array("r_scale")[a, w.on] = factor


def _outage(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    for a in ev.areas:
        fx.array("supplied")[a, w.on, :] = False
        fx.array("mv_factor")[a, w.on] = 0.0
        meters = grid.mask[a]
        _raise(fx, a, w.onset, meters, "power_down")
        _raise(fx, a, w.recovery, meters, "power_up")


def _meter_power_loss(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a, k = ev.areas[0], ev.slot
    fx.array("supplied")[a, w.on, k] = False
    _raise(fx, a, w.onset, k, "power_down")
    _raise(fx, a, w.recovery, k, "power_up")


def _phase_loss(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a, phase = ev.areas[0], int(ev.params["phase"])
    fx.array("phase_live")[a, w.on, phase] = False
    three = grid.mask[a] & (grid.phases[a] == 3)
    on_phase = grid.mask[a] & (grid.phases[a] == 1) & (grid.phase_weight[a, :, phase] > 0)
    _raise(fx, a, w.onset, three, "phase_failure")
    _raise(fx, a, w.onset, on_phase, "power_down")
    _raise(fx, a, w.recovery, on_phase, "power_up")


def _overload(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
    a = ev.areas[0]
    peak_kva = float((grid.mean_kw[a] * SIZING_PEAK_FACTOR / grid.power_factor[a]).sum())
    factor = float(ev.params["loading"]) * float(grid.rated_kva[a]) / max(peak_kva, 1e-6)
    fx.array("demand_scale")[a, w.on, :] = max(factor, 1.0)


def _mv_level(param: str) -> EffectFn:
    def apply(grid: Grid, ev: PlannedEvent, w: Window, fx: Effects) -> None:
        fx.array("mv_factor")[ev.areas[0], w.on] = float(ev.params[param])
    return apply


PHYSICS: dict[str, EffectFn] = {
    kinds.THEFT_BYPASS: _bypass,
    kinds.THEFT_NIGHT_BYPASS: _night_bypass,
    kinds.THEFT_METER_STOPPED: _theft_share(0.0),
    kinds.THEFT_PHASE_TAMPER: _phase_tamper,
    kinds.THEFT_REVERSE_ENERGY: _reverse,
    kinds.THEFT_TAMPER_EVENT: _tamper_event,
    kinds.LEAKAGE_KIND: _leakage,
    kinds.LOW_VOLTAGE_ZONE: _low_voltage,
    kinds.OUTAGE_AREA: _outage,
    kinds.OUTAGE_FEEDER: _outage,
    kinds.METER_POWER_LOSS: _meter_power_loss,
    kinds.PHASE_LOSS: _phase_loss,
    kinds.TRANSFORMER_OVERLOAD: _overload,
    kinds.VOLTAGE_SAG: _mv_level("depth"),
    kinds.VOLTAGE_SWELL: _mv_level("level"),
}

DeliveryFn = Callable[[Grid, PlannedEvent, Window, Delivery], None]


def _dropout(grid: Grid, ev: PlannedEvent, w: Window, d: Delivery) -> None:
    d.copies[ev.areas[0], w.on] = 0


def _duplicate(grid: Grid, ev: PlannedEvent, w: Window, d: Delivery) -> None:
    d.copies[ev.areas[0], w.on] = 2


def _out_of_order(grid: Grid, ev: PlannedEvent, w: Window, d: Delivery) -> None:
    late = w.on & (np.arange(w.on.size) % 2 == 0)
    late[-1] = False           # an upload is never held back past the end of the day
    d.delay_s[ev.areas[0], late] = 1.5 * w.interval_s


def _clock_skew(grid: Grid, ev: PlannedEvent, w: Window, d: Delivery) -> None:
    d.clock_offsets(grid.slots)[ev.areas[0], w.on, ev.slot] = float(ev.params["offset_s"])


DELIVERY: dict[str, DeliveryFn] = {
    kinds.DQ_CONCENTRATOR_DROPOUT: _dropout,
    kinds.DQ_DUPLICATE: _duplicate,
    kinds.DQ_OUT_OF_ORDER: _out_of_order,
    kinds.DQ_CLOCK_SKEW: _clock_skew,
}
REPORTING = (kinds.DQ_STUCK_METER,)


class ScenarioInjector:
    """The `gridwatch.sensors.simulator.Injector` for a list of planned events."""

    def __init__(self, grid: Grid, events: list[PlannedEvent], interval_s: int) -> None:
        unknown = {e.kind for e in events} - set(PHYSICS) - set(DELIVERY) - set(REPORTING)
        if unknown:
            raise ValueError(f"no injection for kind(s) {sorted(unknown)}")
        self.grid, self.events, self.interval_s = grid, events, interval_s
        self.previous: dict[str, np.ndarray] = {}
        self.frozen: dict[int, dict[str, np.ndarray]] = {}

    def _touching(self, ts: np.ndarray, wanted: object) -> list[tuple[PlannedEvent, Window]]:
        first, last = ts[0] - self.interval_s, ts[-1]
        return [(e, Window(e, ts, self.interval_s)) for e in self.events
                if e.kind in wanted and e.label.start < last
                and e.label.end + self.interval_s > first]

    def apply_effects(self, day: int, ts: np.ndarray, effects: Effects) -> None:
        for event, window in self._touching(ts, PHYSICS):
            PHYSICS[event.kind](self.grid, event, window, effects)

    def edit_readings(self, day: int, chunk: ChunkReadings) -> None:
        """Freeze stuck meters at their last good reading; remember today's last values."""
        for event, window in self._touching(chunk.ts, REPORTING):
            if not window.on.any():
                continue
            a, k = event.areas[0], event.slot
            key = id(event)
            if key not in self.frozen:
                first = int(np.argmax(window.on))
                self.frozen[key] = {
                    name: (self.previous[name][a, k] if first == 0 and self.previous
                           else getattr(chunk, name)[a, max(first - 1, 0), k]).copy()
                    for name in FROZEN_FIELDS}
            for name, value in self.frozen[key].items():
                getattr(chunk, name)[a, window.on, k] = value
        self.previous = {name: getattr(chunk, name)[:, -1].copy() for name in FROZEN_FIELDS}

    def plan_delivery(self, day: int, ts: np.ndarray, delivery: Delivery) -> None:
        for event, window in self._touching(ts, DELIVERY):
            DELIVERY[event.kind](self.grid, event, window, delivery)

