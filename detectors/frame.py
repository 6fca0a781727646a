"""One interval of one area as NumPy columns: what every per-interval detector reads.

Why convert once: the readings arrive as objects; every detector wants the
same few quantities for all meters of the area at once (minimum and maximum
phase voltage, registers, power). Building the columns once per interval
keeps the per-reading Python work to a single pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..vocabulary.schema import Reading
from .state import MeterTable


@dataclass
class IntervalFrame:
    """Customer-meter columns (row-aligned with `rows`) and the area meter of one interval."""

    ts: float
    rows: np.ndarray          # table row of each customer reading
    energy: np.ndarray        # import register, kWh
    reverse: np.ndarray       # export register, kWh
    vmin: np.ndarray          # lowest phase voltage
    vmax: np.ndarray          # highest phase voltage
    power: np.ndarray         # kW
    phases: np.ndarray        # 1 or 3
    three_phase: list[int]    # positions (into the columns) of three-phase meters
    readings: list[Reading]   # the customer readings, same order as the columns
    area: Reading | None      # the area meter's reading, if it came

    @classmethod
    def build(cls, ts: float, readings: list[Reading], table: MeterTable) -> IntervalFrame:
        customers = [r for r in readings if r.role == "customer"]
        area = (None if len(customers) == len(readings)
                else next((r for r in readings if r.role == "area"), None))
        rows = table.index_of([r.meter for r in customers])
        energy = np.array([r.energy_kwh for r in customers], np.float64)
        reverse = np.array([r.reverse_kwh for r in customers], np.float64)
        power = np.array([r.power_kw for r in customers], np.float64)
        three = [i for i, r in enumerate(customers) if r.phases == 3]
        phases = np.ones(len(customers), np.int8)
        lows = [r.voltage[0] for r in customers]
        if not three:                       # single-phase only: lowest = highest voltage
            vmin = np.array(lows, np.float64)
            return cls(ts, rows, energy, reverse, vmin, vmin.copy(), power, phases, three,
                       customers, area)
        highs = list(lows)
        phases[three] = 3
        for i in three:
            lows[i] = min(customers[i].voltage)
            highs[i] = max(customers[i].voltage)
        return cls(ts, rows, energy, reverse, np.array(lows, np.float64),
                   np.array(highs, np.float64), power, phases, three, customers, area)

    def area_voltage(self, dead_v: float) -> tuple[float, int, int] | None:
        """(mean live phase voltage, live phases, phases) of the area meter, if present."""
        if self.area is None:
            return None
        live = [v for v in self.area.voltage if v >= dead_v]
        mean = sum(live) / len(live) if live else 0.0
        return mean, len(live), len(self.area.voltage)
