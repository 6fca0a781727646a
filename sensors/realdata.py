"""A healthy stream driven by real measurements, to count false alarms.

Why: detectors tuned on synthetic noise may trip on the burstiness of real
loads. Here each residential customer draws a real household's 15-minute
demand (the UCI series, each customer starting on another day of it and
scaled to its own mean), commercial and industrial customers follow the real
transformer loads (both ETDataset transformers, likewise offset and scaled), and the supply
voltage follows the real household voltage's relative variation. The grid
physics (drops, losses, area meter) is the simulator's own; nothing is
injected, so every alert raised on such a stream is a false alarm
(``gridwatch evaluate --scenario real.parquet`` reports them all).

The files are read from the data folder (see its README); nothing of them is
committed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from ..config import SimulatorSettings
from .calibrate import ETT_FILES, ETT_USEFUL_LOADS, UCI_FILE, uci_minutes
from .effects import Effects
from .offline import ScenarioRun
from .physics import ChunkReadings
from .scenarios import Scenario
from .shapes import RESIDENTIAL
from .simulator import Simulator, parse_start
from .stream import Delivery
from .topology import Grid, GridSpec

DAY_S = 86_400
OFFSET_STREAM = 5


@dataclass
class RealSeries:
    """Whole days of real data at the simulator's interval."""

    household_kw: np.ndarray     # (days, slots) household active power, kW
    household_v_pu: np.ndarray   # (days, slots) household voltage / its mean
    transformer: np.ndarray      # (days, slots) transformer load / its mean


def _whole_days(values: dict[datetime, float], interval_s: int) -> np.ndarray:
    """Average timestamped values into (day, slot) bins, keeping only complete days."""
    slots = DAY_S // interval_s
    first = min(values).replace(hour=0, minute=0, second=0)
    days = (max(values) - first).days + 1
    sums, counts = np.zeros((days, slots)), np.zeros((days, slots))
    for moment, value in values.items():
        delta = moment - first
        slot = delta.seconds // interval_s
        sums[delta.days, slot] += value
        counts[delta.days, slot] += 1
    complete = (counts > 0).all(axis=1)
    if not complete.any():
        raise ValueError("the real series holds no complete day")
    return sums[complete] / counts[complete]


def load_uci(folder: Path, interval_s: int) -> tuple[np.ndarray, np.ndarray]:
    """(power kW, voltage pu) per day and slot; '?' minutes are left out of the averages."""
    power: dict[datetime, float] = {}
    volts: dict[datetime, float] = {}
    for moment, fields in uci_minutes(folder, 5):
        power[moment] = float(fields[2])
        volts[moment] = float(fields[4])
    kw, v = _whole_days(power, interval_s), _whole_days(volts, interval_s)
    days = min(len(kw), len(v))
    return kw[:days], v[:days] / v[:days].mean()


def load_ett(folder: Path, interval_s: int) -> np.ndarray:
    """Transformer useful load per day and slot (hourly values held over the hour), each
    transformer scaled to mean 1 and their days pooled (ETTh1's, then ETTh2's)."""
    pooled = []
    for name in ETT_FILES:
        load: dict[datetime, float] = {}
        with open(folder / name, newline="") as handle:
            for row in csv.DictReader(handle):
                moment = datetime.fromisoformat(row["date"])
                total = sum(float(row[c]) for c in ETT_USEFUL_LOADS)
                for sub in range(0, 3600, interval_s):
                    load[moment.replace(minute=sub // 60)] = total
        days = _whole_days(load, interval_s)
        pooled.append(days / days.mean())
    return np.concatenate(pooled)


def load_real_series(folder: str | Path, interval_s: int) -> RealSeries:
    folder = Path(folder)
    for name in (UCI_FILE, *ETT_FILES):
        if not (folder / name).is_file():
            raise ValueError(f"{folder / name} not found (see the data README)")
    kw, v_pu = load_uci(folder, interval_s)
    return RealSeries(kw, v_pu, load_ett(folder, interval_s))


class RealDataInjector:
    """The `Injector` that replaces modelled demand and supply voltage with real series."""

    def __init__(self, grid: Grid, series: RealSeries, seed: int) -> None:
        rng = np.random.default_rng([seed, OFFSET_STREAM])
        self.grid, self.series = grid, series
        residential = grid.customer_class == RESIDENTIAL
        house_days, tx_days = len(series.household_kw), len(series.transformer)
        self.offset = np.where(residential, rng.integers(0, house_days, grid.mask.shape),
                               rng.integers(0, tx_days, grid.mask.shape))
        self.residential = residential
        self.scale = np.where(residential, grid.mean_kw / series.household_kw.mean(),
                              grid.mean_kw) * grid.mask

    def apply_effects(self, day: int, ts: np.ndarray, effects: Effects) -> None:
        house = self.series.household_kw[(day + self.offset) % len(self.series.household_kw)]
        plant = self.series.transformer[(day + self.offset) % len(self.series.transformer)]
        real = np.where(self.residential[..., None], house, plant) * self.scale[..., None]
        real = np.maximum(real, 0.0)     # the transformer series dips below zero at times
        effects.array("base_demand_kw")[:] = real.transpose(0, 2, 1)
        volts = self.series.household_v_pu[day % len(self.series.household_v_pu)]
        effects.array("mv_factor")[:] = volts[None, :]

    def edit_readings(self, day: int, chunk: ChunkReadings) -> None:
        """Real data changes nothing after the physics."""

    def plan_delivery(self, day: int, ts: np.ndarray, delivery: Delivery) -> None:
        """Real data uploads like a healthy concentrator."""


def real_data_run(folder: str | Path, settings: SimulatorSettings,
                  days: int | None = None) -> ScenarioRun:
    """A label-free run of the configured grid size on real series (default: as many days
    as the household series has)."""
    series = load_real_series(folder, settings.interval_s)
    days = len(series.household_kw) if days is None else days
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    spec = GridSpec(feeders_per_substation=settings.feeders,
                    areas_per_feeder=settings.areas_per_feeder,
                    meters_per_area=settings.meters_per_area, weak_areas=0)
    start = parse_start(settings.start)
    simulator = Simulator(spec, settings.seed, start, settings.interval_s)
    simulator.injector = RealDataInjector(simulator.grid, series, settings.seed)
    scenario = Scenario(name="real-data", days=days, start=start,
                        interval_s=settings.interval_s, warmup_days=0.0, grid=spec, events=[],
                        source=str(folder))
    return ScenarioRun(scenario, settings.seed, days, simulator, [])
