"""Detection-stage benchmark: readings/s through `AreaPipeline` and state bytes per meter.

With ``--scorers`` it also measures the generic scorers of `gridwatch score`
on the real streams in ``shared/data`` (transformer loads and oil
temperature, a household's voltage and power) with anomalies injected at
seeded random places (spikes, level shifts, noise bursts, flat lines):
recall at score >= 0.9 and >= 0.99 within 50 points of an onset, and
false-alarm episodes per 1000 points elsewhere. Nothing is tuned on this.

Why measured this way: the worker's cost per Kafka record is load the
area's state from bytes, `process` the batch, dump the state back. The
batches are simulated first (healthy grid plus a few scenario problems, so
every detector path runs) and held in memory; only the detection stage is
timed, on one core, in one process. State size is `len(AreaState.dumps())`
divided by the area's meters, at the end of the run (baselines full).

Usage: ``python -m bench.detectors [--days N] [--areas N] [--meters N] [--scorers] [--json]``
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gridwatch.config import DetectorSettings
from gridwatch.detectors.pipeline import AreaPipeline, AreaState
from gridwatch.detectors.scoring import SCORERS, make_scorer
from gridwatch.detectors.state import MAGIC
from gridwatch.sensors.offline import scenario_run
from gridwatch.sensors.scenarios import parse_scenario
from gridwatch.sensors.stream import iter_batches
from gridwatch.vocabulary.kinds import (
    DQ_DUPLICATE,
    LEAKAGE_KIND,
    METER_POWER_LOSS,
    THEFT_BYPASS,
    THEFT_METER_STOPPED,
    THEFT_TAMPER_EVENT,
    VOLTAGE_SAG,
)


def simulate(days: int, feeders: int, areas: int, meters: int, seed: int) -> list:
    """Batches in stream order for a grid with one of a few kinds of problem each."""
    scenario = parse_scenario({
        "name": "bench", "days": days, "start": "2026-01-05T00:00:00+00:00",
        "interval_s": 900, "warmup_days": 2,
        "grid": {"substations": 1, "feeders_per_substation": feeders,
                 "areas_per_feeder": areas, "meters_per_area": meters},
        "events": [{"kind": kind} for kind in (
            THEFT_BYPASS, THEFT_METER_STOPPED, THEFT_TAMPER_EVENT, LEAKAGE_KIND,
            METER_POWER_LOSS, DQ_DUPLICATE, VOLTAGE_SAG)],
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
        "state_format": MAGIC.decode(),
        "target_readings_per_s": 100_000,
        "target_state_bytes_per_meter": 1024,
    }


DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ALARMS = (0.9, 0.99)
HIT_WINDOW = 50
KINDS = ("spike", "level_shift", "noise_burst", "flat_line")


def real_streams(data: Path) -> dict[str, np.ndarray]:
    """A few real channels, at most 20,000 points each."""
    out: dict[str, np.ndarray] = {}
    for name in ("ETTh1", "ETTh2"):
        with open(data / f"{name}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for column in ("OT", "HUFL"):
            out[f"{name}.{column}"] = np.array([float(r[column]) for r in rows])
    uci = data / "uci_household_power_minute_2006-12-16_to_2007-01-14.txt"
    lines = [line.strip().split(";") for line in uci.read_text().splitlines()[1:20_001]]
    rows = [p for p in lines if "?" not in p]
    out["uci.Voltage"] = np.array([float(p[4]) for p in rows])
    out["uci.Global_active_power"] = np.array([float(p[2]) for p in rows])
    return out


def inject(values: np.ndarray, rng: np.random.Generator, count: int = 8
           ) -> tuple[np.ndarray, list[int]]:
    """Copy of `values` with `count` anomalies after a 2,000-point burn-in; their onsets."""
    x = values.copy()
    scale = float(np.median(np.abs(np.diff(values)))) * 1.4826 + 1e-9
    spread = float(np.std(values)) + 1e-9
    starts = np.sort(rng.choice(np.arange(2000, len(x) - 200, 300), size=count, replace=False))
    for i, start in enumerate(starts.tolist()):
        kind = KINDS[i % len(KINDS)]
        if kind == "spike":
            x[start] += 8 * scale + spread
        elif kind == "level_shift":
            x[start:start + 60] += 1.5 * spread
        elif kind == "noise_burst":
            x[start:start + 40] += rng.normal(0, 10 * scale + 0.5 * spread, size=40)
        else:
            x[start:start + 80] = x[start]
    return x, starts.tolist()


def score_stream(name: str, x: np.ndarray) -> np.ndarray:
    scorer = make_scorer(name, {})
    out = np.empty(len(x))
    for i, value in enumerate(x.tolist()):
        out[i] = scorer.score_one(value)
        scorer.learn_one(value)
    return out


def measure_scorers(data: Path, seed: int) -> dict[str, dict[str, object]]:
    """Per scorer and alarm threshold: recall per injected kind, false alarms per 1000."""
    rng = np.random.default_rng(seed)
    streams = {name: inject(values, rng) for name, values in real_streams(data).items()}
    result: dict[str, dict[str, object]] = {}
    for scorer in SCORERS:
        scored = [(score_stream(scorer, x), starts)
                  for x, starts in tqdm(streams.values(), desc=scorer, file=sys.stderr,
                                        leave=False)]
        for threshold in ALARMS:
            hits = dict.fromkeys(KINDS, 0)
            onsets = dict.fromkeys(KINDS, 0)
            false_episodes = points = 0
            for scores, starts in scored:
                alarm = scores >= threshold
                covered = np.zeros(len(scores), bool)
                for i, start in enumerate(starts):
                    kind = KINDS[i % len(KINDS)]
                    covered[max(start - 5, 0):start + 200] = True
                    onsets[kind] += 1
                    hits[kind] += bool(alarm[start:start + HIT_WINDOW].any())
                begins = alarm & ~np.concatenate([[False], alarm[:-1]])
                false_episodes += int((begins & ~covered).sum())
                points += int((~covered).sum())
            result[f"{scorer}@{threshold}"] = {
                "recall": round(sum(hits.values()) / sum(onsets.values()), 3),
                "recall_by_kind": {k: round(hits[k] / onsets[k], 3) for k in KINDS},
                "false_alarms_per_1000": round(1000 * false_episodes / points, 3)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--feeders", type=int, default=2)
    parser.add_argument("--areas", type=int, default=4, help="areas per feeder")
    parser.add_argument("--meters", type=int, default=100, help="meters per area")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--scorers", action="store_true",
                        help="also measure the generic scorers on real streams")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the real streams")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    batches = simulate(args.days, args.feeders, args.areas, args.meters, args.seed)
    result: dict[str, dict] = {"detectors": measure(batches)}
    if args.scorers:
        result["scorers"] = measure_scorers(args.data, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for section, values in result.items():
            for key, value in values.items():
                print(f"{section}.{key:40s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
