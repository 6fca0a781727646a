"""Detection-stage benchmark: readings/s through `AreaPipeline` and state bytes per meter.

Why measured this way: the worker's cost per Kafka record is load the
area's state from bytes, `process` the batch, dump the state back. The
batches are simulated first (healthy grid plus a few scenario problems, so
every detector path runs) and held in memory; only the detection stage is
timed, on one core, in one process. State size is `len(AreaState.dumps())`
divided by the area's meters, at the end of the run (baselines full).

Usage: ``python -m bench.detectors [--days N] [--areas N] [--meters N] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tqdm import tqdm

from gridwatch.config import DetectorSettings
from gridwatch.detectors.pipeline import AreaPipeline, AreaState
from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import parse_scenario
from gridwatch.sensors.stream import iter_batches


def simulate(days: int, feeders: int, areas: int, meters: int, seed: int) -> list:
    """Batches in stream order for a grid with one of a few kinds of problem each."""
    scenario = parse_scenario({
        "name": "bench", "days": days, "start": "2026-01-05T00:00:00+00:00",
        "interval_s": 900, "warmup_days": 2,
        "grid": {"substations": 1, "feeders_per_substation": feeders,
                 "areas_per_feeder": areas, "meters_per_area": meters},
        "events": [{"kind": kind} for kind in (
            "theft_bypass", "theft_meter_stopped", "theft_tamper_event", "leakage",
            "meter_power_loss", "dq_duplicate", "voltage_sag")],
    }, "<bench>")
    run = scenario_run(scenario, seed)
    batches = []
    for day in run.days_iter(progress=True):
        batches.extend(iter_batches(day.rows))
    return batches


def measure(batches: list) -> dict[str, float]:
    """Time process() alone and process() with the state round trip, per reading."""
    pipeline = AreaPipeline(DetectorSettings())
    states: dict[str, AreaState] = {}
    readings = 0
    start = time.process_time()
    for batch in tqdm(batches, desc="process", unit="batch", file=sys.stderr, leave=False):
        state = states.setdefault(batch.area, AreaState())
        readings += pipeline.process(batch, state).readings
    process_s = time.process_time() - start
    pipeline = AreaPipeline(DetectorSettings())
    blobs: dict[str, bytes] = {}
    start = time.process_time()
    for batch in tqdm(batches, desc="process+state", unit="batch", file=sys.stderr,
                      leave=False):
        state = AreaState.loads(blobs.get(batch.area))
        pipeline.process(batch, state)
        blobs[batch.area] = state.dumps()
    roundtrip_s = time.process_time() - start
    per_meter = [len(blob) / max(len(AreaState.loads(blob).meters), 1)
                 for blob in blobs.values()]
    return {
        "readings": readings,
        "batches": len(batches),
        "readings_per_s": round(readings / process_s),
        "readings_per_s_with_state_roundtrip": round(readings / roundtrip_s),
        "state_bytes_per_meter_mean": round(sum(per_meter) / len(per_meter), 1),
        "state_bytes_per_meter_max": round(max(per_meter), 1),
        "state_bytes_per_area_mean": round(sum(len(b) for b in blobs.values()) / len(blobs)),
        "target_readings_per_s": 100_000,
        "target_state_bytes_per_meter": 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--feeders", type=int, default=2)
    parser.add_argument("--areas", type=int, default=4, help="areas per feeder")
    parser.add_argument("--meters", type=int, default=100, help="meters per area")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    batches = simulate(args.days, args.feeders, args.areas, args.meters, args.seed)
    result = {"detectors": measure(batches)}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result["detectors"].items():
            print(f"{key:40s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
