"""`python -m bench.simulator [--json]`: offline generation rate of the simulator, one core.

Target (issue 3): at least 1 million readings per second on one core for
offline generation. Measured twice in one run on the same grid and scenario:
generating the stream in memory (physics, scenario injection, delivery-ordered
rows) and generating it into a Parquet stream file. Threads of BLAS and Arrow
are pinned to one before NumPy loads, and rates are readings per CPU second
of the process, so the number is a one-core number even on a busy machine
(wall times are reported beside them).
"""

from __future__ import annotations

import os

from gridwatch.vocabulary import kinds

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402

from gridwatch.sensors.offline import scenario_run, write_parquet  # noqa: E402
from gridwatch.sensors.scenarios import parse_scenario  # noqa: E402

TARGET_READINGS_PER_S = 1_000_000


def bench_scenario(areas: int, meters: int, days: int) -> dict:
    """A province-like slice: ``areas`` areas of ``meters`` meters with problems of every sort."""
    feeders = max(1, areas // 10)
    injected = [kinds.THEFT_BYPASS, kinds.THEFT_NIGHT_BYPASS, kinds.LEAKAGE_KIND,
                kinds.LOW_VOLTAGE_ZONE, kinds.OUTAGE_AREA, kinds.METER_POWER_LOSS, kinds.PHASE_LOSS,
                kinds.VOLTAGE_SAG, kinds.DQ_CONCENTRATOR_DROPOUT, kinds.DQ_STUCK_METER,
                kinds.DQ_DUPLICATE, kinds.DQ_OUT_OF_ORDER, kinds.DQ_CLOCK_SKEW]
    return {
        "name": "bench", "days": days, "warmup_days": 1,
        "grid": {"substations": 1, "feeders_per_substation": feeders,
                 "areas_per_feeder": max(1, areas // feeders), "meters_per_area": meters,
                 "meters_spread": 0.2},
        "events": [{"kind": kind, "count": max(1, areas // 40), "duration_h": [2, 24]}
                   for kind in injected],
    }


def measure(areas: int, meters: int, days: int, seed: int) -> dict:
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    scenario = parse_scenario(bench_scenario(areas, meters, days))
    scenario_run(scenario, seed).simulator.step()            # warm-up: imports, caches

    run = scenario_run(scenario, seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = sum(day.rows.num_rows for day in run.days_iter())
    generate_s = time.perf_counter() - started
    generate_cpu_s = time.process_time() - cpu_started

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.parquet"
        started, cpu_started = time.perf_counter(), time.process_time()
        written = write_parquet(scenario_run(scenario, seed), path)
        parquet_s = time.perf_counter() - started
        parquet_cpu_s = time.process_time() - cpu_started
    grid = run.simulator.grid
    in_memory = rows / generate_cpu_s
    to_parquet = written["readings"] / parquet_cpu_s
    return {
        "benchmark": "simulator_offline_generation",
        "areas": grid.n_areas, "meters": grid.n_meters, "days": days,
        "labels": len(run.labels), "readings": rows,
        "generate_cpu_s": round(generate_cpu_s, 3), "generate_wall_s": round(generate_s, 3),
        "readings_per_s_in_memory": round(in_memory),
        "parquet_cpu_s": round(parquet_cpu_s, 3), "parquet_wall_s": round(parquet_s, 3),
        "readings_per_s_to_parquet": round(to_parquet),
        "parquet_bytes_per_reading": round(written["bytes"] / written["readings"], 2),
        "target_readings_per_s": TARGET_READINGS_PER_S,
        "ratio_to_target_in_memory": round(in_memory / TARGET_READINGS_PER_S, 2),
        "ratio_to_target_to_parquet": round(to_parquet / TARGET_READINGS_PER_S, 2),
        "meets_target": to_parquet >= TARGET_READINGS_PER_S,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulator", description=__doc__)
    parser.add_argument("--areas", type=int, default=200)
    parser.add_argument("--meters", type=int, default=60, help="customer meters per area")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.areas, args.meters, args.days, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<30} {value}")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
