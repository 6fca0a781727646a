"""The simulator: a grid advanced one day at a time into the concentrator stream.

Why day chunks with their own random streams: each day's noise comes from a
generator seeded by (seed, day), so a run is byte-for-byte reproducible, and
live publishing, offline files and the evaluator all produce identical days
whatever they do with them. Scenario injection plugs in through the
`Injector` protocol (see `gridwatch.sensors.scenarios`): it marks up each
day's physics effects, edits the readings and plans the delivery.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pyarrow as pa

from ..config import SimulatorSettings
from .effects import Effects
from .physics import ChunkReadings, Registers, interval_ends, simulate_chunk
from .shapes import RESIDENTIAL, interval_shapes
from .stream import Delivery, StreamLayout
from .topology import Grid, GridSpec, build_grid
from .variability import CALIBRATED, LEGACY, VARIABILITIES, CustomerVariability

DAY_S = 86_400
TOPOLOGY_STREAM, REGISTER_STREAM, DAY_STREAM = 0, 1, 2
VARIABILITY_STREAM = 6


class Injector(Protocol):
    """What a scenario does to one simulated day."""

    def apply_effects(self, day: int, ts: np.ndarray, effects: Effects) -> None: ...

    def edit_readings(self, day: int, chunk: ChunkReadings) -> None: ...

    def plan_delivery(self, day: int, ts: np.ndarray, delivery: Delivery) -> None: ...


def parse_start(text: str) -> float:
    """An ISO-8601 start time (with timezone) as epoch seconds, aligned to midnight UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"start {text!r} is not an ISO-8601 date-time: {exc}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"start {text!r} needs a timezone, e.g. +00:00")
    epoch = moment.timestamp()
    return epoch - epoch % DAY_S


@dataclass
class SimulationDay:
    """One simulated day: the physics (with ground truth) and the delivered rows."""

    day: int
    readings: ChunkReadings
    rows: pa.Table


class Simulator:
    """A seeded grid plus its running meter registers."""

    def __init__(self, spec: GridSpec, seed: int, start: float, interval_s: int,
                 injector: Injector | None = None, variability: str = LEGACY) -> None:
        if DAY_S % interval_s:
            raise ValueError(f"interval_s={interval_s} must divide a day (86400 s)")
        if variability not in VARIABILITIES:
            raise ValueError(f"variability {variability!r} is not one of {VARIABILITIES}")
        self.spec, self.seed, self.start, self.interval_s = spec, seed, start, interval_s
        self.grid: Grid = build_grid(spec, np.random.default_rng([seed, TOPOLOGY_STREAM]))
        self.registers = Registers.initial(self.grid, np.random.default_rng([seed,
                                                                              REGISTER_STREAM]))
        self.injector = injector
        self.variability = None if variability == LEGACY else CustomerVariability(
            self.grid.mask, self.grid.mask & (self.grid.customer_class == RESIDENTIAL),
            CALIBRATED, np.random.default_rng([seed, VARIABILITY_STREAM]))
        self.shapes = interval_shapes(interval_s)
        self.layout = StreamLayout(self.grid, interval_s)
        self.per_day = DAY_S // interval_s
        self.next_day = 0

    @classmethod
    def from_settings(cls, settings: SimulatorSettings, start: float | None = None) -> Simulator:
        """The live grid of `gridwatch up`: settings' size, one weak (low-voltage) area.

        `start` (epoch seconds on an interval boundary) replaces ``settings.start``.
        """
        spec = GridSpec(feeders_per_substation=settings.feeders,
                        areas_per_feeder=settings.areas_per_feeder,
                        meters_per_area=settings.meters_per_area, weak_areas=1)
        return cls(spec, settings.seed, parse_start(settings.start) if start is None else start,
                   settings.interval_s)

    def step(self) -> SimulationDay:
        """Simulate the next day (days must be simulated in order: registers accumulate)."""
        day = self.next_day
        grid = self.grid
        ts = interval_ends(self.start, day * self.per_day, self.per_day, self.interval_s)
        effects = Effects(grid.n_areas, ts.size, grid.slots)
        delivery = Delivery.normal(grid.n_areas, ts.size)
        if self.injector is not None:
            self.injector.apply_effects(day, ts, effects)
        day_factor, missing = None, None
        if self.variability is not None:
            day_factor, missing = self.variability.day(
                np.random.default_rng([self.seed, VARIABILITY_STREAM, day]))
        rng = np.random.default_rng([self.seed, DAY_STREAM, day])
        readings = simulate_chunk(grid, ts, self.interval_s, self.shapes, self.registers,
                                  effects, rng, day_factor)
        if self.injector is not None:
            self.injector.edit_readings(day, readings)
            self.injector.plan_delivery(day, ts, delivery)
        if missing is not None and missing.any():
            delivery.unread_meters(grid.slots)[:] |= missing[:, None, :]
        self.next_day += 1
        return SimulationDay(day, readings, self.layout.rows(readings, delivery))

    def days(self, count: int | None) -> Iterator[SimulationDay]:
        """The next ``count`` days (forever with None)."""
        produced = 0
        while count is None or produced < count:
            yield self.step()
            produced += 1
