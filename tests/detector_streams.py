"""Hand-made area streams for the detector tests, independent of the simulator.

Why not the simulator: a detector test should state its case in a few
lines (this meter's register stops on day 8, that batch arrives twice) and
fail for the detector's reasons only. One area: a transformer meter (three
phases, the sum of the customers plus technical loss that grows with load
squared) and `meters` customers, meter 0 three-phase, the others
single-phase spread over phases a, b, c. Every change a test needs is made
by an `edit(t, ts, interval)` callback on the `Interval` about to be sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from gridwatch.config import DetectorSettings
from gridwatch.detectors.pipeline import AreaPipeline, AreaState
from gridwatch.vocabulary.findings import Finding
from gridwatch.vocabulary.schema import Batch, Reading

START = 1_767_571_200.0   # 2026-01-05 00:00 UTC, a Monday
STEP = 900
DAY = 86_400
AREA, FEEDER, CONCENTRATOR = "A1", "F1", "C-A1"


@dataclass
class Interval:
    """Everything about one interval that a test may change before it is sent."""

    demand_kw: np.ndarray          # true demand per customer
    share: np.ndarray              # share of the true energy each register counts
    supplied: np.ndarray           # customer has supply
    volts: np.ndarray              # customer voltage (single value; meter 0 uses it per phase)
    tx_volts: list[float]          # transformer (area meter) phase voltages
    events: dict[int, list[str]] = field(default_factory=dict)
    reverse: set[int] = field(default_factory=set)
    hidden_phase: dict[int, int] = field(default_factory=dict)
    leak_kw: float = 0.0
    send: int = 1                  # 0 lost, 1 normal, 2 sent twice
    delay: bool = False            # held back and sent after the next interval
    ts_offset: dict[int, float] = field(default_factory=dict)
    frozen: set[int] = field(default_factory=set)   # meter repeats its last reading
    # (its register keeps counting, so the first reading after it thaws catches up)


Edit = Callable[[int, float, Interval], None]


def meter_id(i: int) -> str:
    return f"M{i:02d}"


def shape(hour: float) -> float:
    """Daily load shape: low at night, a morning bump and an evening peak (mean ~1)."""
    return (0.45 + 0.35 * math.exp(-((hour - 8) ** 2) / 4)
            + 1.1 * math.exp(-((hour - 19.5) ** 2) / 5))


def area_batches(days: int, edit: Edit | None = None, meters: int = 12, seed: int = 0,
                 rated_kva: float = 100.0) -> Iterator[Batch]:
    """One area's concentrator batches in delivery order."""
    rng = np.random.default_rng(seed)
    base_kw = rng.lognormal(math.log(0.6), 0.4, size=meters)
    base_kw[0] = 3.0
    phase_of = np.arange(meters) % 3
    distance = rng.uniform(0.2, 1.0, size=meters)
    registers = rng.uniform(100, 5000, size=meters)
    reverse_reg = np.zeros(meters)
    area_reg = 10_000.0
    last: dict[int, Reading] = {}
    held: Batch | None = None
    for t in range(days * DAY // STEP):
        ts = START + (t + 1) * STEP
        hour = ((ts - STEP / 2) % DAY) / 3600
        demand = base_kw * shape(hour) * rng.lognormal(-0.02, 0.2, size=meters)
        load = float(demand.sum())
        iv = Interval(
            demand_kw=demand, share=np.ones(meters), supplied=np.ones(meters, bool),
            volts=231.0 - 9.0 * distance * load / base_kw.sum() + rng.normal(0, 0.3, meters),
            tx_volts=list(231.0 - 2.0 * load / base_kw.sum() + rng.normal(0, 0.3, 3)))
        if edit is not None:
            edit(t, ts, iv)
        real = np.where(iv.supplied, iv.demand_kw, 0.0)
        metered = real * iv.share
        step = metered * STEP / 3600
        readings = []
        for i in range(meters):
            mid = meter_id(i)
            if i in iv.reverse:
                reverse_reg[i] += step[i]
            else:
                registers[i] += step[i]
            if i in iv.frozen and i in last:
                old = last[i]
                readings.append(Reading(mid, ts, "customer", old.phases, old.energy_kwh,
                                        old.voltage, old.current, old.power_kw))
                continue
            volts = float(iv.volts[i]) if iv.supplied[i] else 0.0
            if volts and iv.tx_volts[phase_of[i]] < 50:
                volts = 0.0
            amps = metered[i] * 1000 / max(volts, 1.0) if volts else 0.0
            if i == 0:
                vs = [0.0 if iv.tx_volts[p] < 50 else volts for p in range(3)]
                cs = [amps / 3] * 3
                if i in iv.hidden_phase:
                    vs[iv.hidden_phase[i]] = 0.0
                    cs[iv.hidden_phase[i]] = 0.0
                reading = Reading(mid, ts, "customer", 3, round(registers[i], 2),
                                  [round(v, 1) for v in vs], [round(c, 2) for c in cs],
                                  round(float(metered[i]), 3))
            else:
                reading = Reading(mid, ts, "customer", 1, round(registers[i], 2),
                                  [round(volts, 1)], [round(amps, 2)],
                                  round(float(metered[i]), 3))
            reading.reverse_kwh = round(reverse_reg[i], 2)
            reading.events = list(iv.events.get(i, []))
            reading.ts = ts + iv.ts_offset.get(i, 0.0)
            last[i] = reading
            readings.append(reading)
        supplied_kw = float(real.sum())
        loss_kw = 0.01 * supplied_kw + 0.03 * supplied_kw ** 2 / base_kw.sum() + iv.leak_kw
        area_reg += (supplied_kw + loss_kw) * STEP / 3600
        amps = (supplied_kw + loss_kw) * 1000 / (3 * 230)
        readings.append(Reading("AREA", ts, "area", 3, round(area_reg, 2),
                                [round(v, 1) for v in iv.tx_volts],
                                [round(amps, 2) if v >= 50 else 0.0 for v in iv.tx_volts],
                                round(supplied_kw + loss_kw, 3), rated_kva=rated_kva))
        batch = Batch(CONCENTRATOR, AREA, FEEDER, ts + 30, readings)
        out = [batch] * iv.send
        if iv.delay:
            held = batch
            continue
        yield from out
        if held is not None:
            yield held
            held = None


def run(days: int, edit: Edit | None = None, settings: DetectorSettings | None = None,
        **kwargs: object) -> list[Finding]:
    """Every finding the pipeline emits over the stream, state round-tripped per batch."""
    pipeline = AreaPipeline(settings or DetectorSettings())
    blob: bytes | None = None
    findings: list[Finding] = []
    for batch in area_batches(days, edit, **kwargs):
        state = AreaState.loads(blob)
        findings += pipeline.process(batch, state).findings
        blob = state.dumps()
    return findings


def firing(findings: list[Finding], kind: str | None = None) -> list[Finding]:
    return [f for f in findings if f.status == "firing" and (kind is None or f.kind == kind)]


def day_of(ts: float) -> float:
    return (ts - START) / DAY
