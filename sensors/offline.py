"""Scenario runs, offline files and reading them back.

Why Parquet with one row group per simulated day: the file *is* the stream
(rows in delivery order), columnar and compressed, cheap to write at millions
of readings per second, and readable a day at a time for replay and
evaluation without loading everything. The labels travel inside the file's
metadata (and in a ``.labels.json`` beside it for people), so a file alone is
enough to evaluate against. Nothing time- or host-dependent is written: the
same scenario, seed and days give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from ..vocabulary.labels import Label, write_labels
from .injection import ScenarioInjector
from .scenarios import Scenario, plan_events
from .simulator import SimulationDay, Simulator

FORMAT = "gridwatch.stream.v1"
AWAY_AT_MOST = 0.5        # a customer away more often than this hosts no theft
META_KEY = b"gridwatch"


@dataclass
class ScenarioRun:
    """A simulator wired to a scenario's planned events, plus their labels."""

    scenario: Scenario
    seed: int
    days: int
    simulator: Simulator
    labels: list[Label]

    def days_iter(self, progress: bool = False) -> Iterator[SimulationDay]:
        bar = tqdm(total=self.days, unit="day", desc=f"simulate {self.scenario.name}",
                   disable=None if progress else True, mininterval=1.0, leave=False)
        with bar:
            for day in self.simulator.days(self.days):
                bar.update(1)
                yield day

    def expected_readings(self) -> int:
        """Readings of a run without data-quality problems (for progress bars)."""
        grid = self.simulator.grid
        return self.days * self.simulator.per_day * (grid.n_meters + grid.n_areas)

    def metadata(self) -> dict[str, object]:
        grid = self.simulator.grid
        return {
            "format": FORMAT, "scenario": self.scenario.name, "seed": self.seed,
            "days": self.days, "start": self.scenario.start,
            "interval_s": self.scenario.interval_s, "areas": grid.n_areas,
            "meters": grid.n_meters, "feeders": len(grid.feeder_ids),
            "labels": [lb.to_dict() for lb in self.labels],
        }


def scenario_run(scenario: Scenario, seed: int, days: int | None = None) -> ScenarioRun:
    """Build the grid for ``seed`` and place the scenario's events on it."""
    days = scenario.days if days is None else days
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    simulator = Simulator(scenario.grid, seed, scenario.start, scenario.interval_s,
                          variability=scenario.variability)
    variability = simulator.variability
    home = None if variability is None else variability.away_share() < AWAY_AT_MOST
    events = plan_events(scenario, simulator.grid, seed, days, home)
    simulator.injector = ScenarioInjector(simulator.grid, events, scenario.interval_s)
    return ScenarioRun(scenario, seed, days, simulator, [e.label for e in events])


def write_parquet(run: ScenarioRun, path: str | Path, progress: bool = False) -> dict[str, float]:
    """Simulate the run into ``path`` (and its labels beside it); returns counts."""
    path = Path(path)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for day in run.days_iter(progress):
            table = day.rows
            if writer is None:
                schema = table.schema.with_metadata({META_KEY: json.dumps(run.metadata())})
                writer = pq.ParquetWriter(path, schema, compression="zstd",
                                          use_dictionary=True, write_statistics=False)
            writer.write_table(table.replace_schema_metadata(writer.schema.metadata))
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    labels_path = labels_path_for(path)
    write_labels(run.labels, labels_path)
    return {"readings": rows, "days": run.days, "labels": len(run.labels),
            "bytes": path.stat().st_size}


def labels_path_for(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + ".labels.json")


@dataclass
class StreamFile:
    """An offline stream file opened for reading, one day (row group) at a time."""

    path: Path
    metadata: dict[str, object]
    parquet: pq.ParquetFile

    @classmethod
    def open(cls, path: str | Path) -> StreamFile:
        path = Path(path)
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise ValueError(f"{path}: not a readable Parquet file: {exc}") from exc
        raw = (parquet.schema_arrow.metadata or {}).get(META_KEY)
        if raw is None:
            raise ValueError(f"{path}: not a gridwatch stream file (no '{META_KEY.decode()}' "
                             f"metadata)")
        metadata = json.loads(raw)
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path}: unsupported stream format {metadata.get('format')!r}")
        return cls(path, metadata, parquet)

    @property
    def labels(self) -> list[Label]:
        return [Label(**item) for item in self.metadata.get("labels", [])]

    @property
    def num_rows(self) -> int:
        return self.parquet.metadata.num_rows

    def tables(self) -> Iterator[pa.Table]:
        for group in range(self.parquet.num_row_groups):
            yield self.parquet.read_row_group(group)
