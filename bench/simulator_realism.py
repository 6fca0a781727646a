"""`python -m bench.simulator_realism [--json]`: are simulated customers as noisy as real ones?

Prints, in one run, the coefficient of variation of daily use over whole
60-day windows: for the honest (FLAG 0) customers of ``sgcc_dev.csv``, and for
the customers of the default suite simulated with each variability model
(legacy and calibrated), over the suite's 60 days. Simulated customers are
measured from the delivered stream, as a utility would see them: a day with
no reading counts as 0 kWh (the SGCC file fills its missing days the same
way), and meters that carry a labelled problem are left out (the real ones
are honest too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from gridwatch.sensors.calibrate import SGCC_FILE, sgcc_honest_daily
from gridwatch.sensors.offline import ScenarioRun, scenario_run
from gridwatch.sensors.scenarios import load_scenario
from gridwatch.sensors.variability import VARIABILITIES, cv_summary, window_cvs

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "default.yaml"
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def delivered_daily_kwh(run: ScenarioRun) -> tuple[np.ndarray, list[str]]:
    """(meters, days) kWh of every customer meter from the delivered rows (one reading
    counted once however often it arrives), and the meter ids."""
    layout = run.simulator.layout
    meter_ids = layout.meter_dict.to_pylist()
    hours = run.scenario.interval_s / 3600.0
    daily = np.zeros((len(meter_ids), run.days))
    for day in tqdm(run.days_iter(), total=run.days, desc=f"seed {run.seed}", leave=False,
                    disable=None):
        rows = day.rows
        customer = rows.column("role").combine_chunks().indices.to_numpy() == 0
        meter = rows.column("meter").combine_chunks().indices.to_numpy()[customer]
        ts = rows.column("ts").to_numpy()[customer]
        power = rows.column("power_kw").to_numpy()[customer]
        _, first = np.unique(np.stack([meter, ts]), axis=1, return_index=True)
        np.add.at(daily[:, day.day], meter[first], np.abs(power[first]) * hours)
    return daily, meter_ids


def simulated_cvs(scenario_path: Path, variability: str, seeds: list[int]) -> np.ndarray:
    """Window CVs of the unlabelled customers of the scenario, pooled over seeds."""
    scenario = load_scenario(scenario_path)
    scenario.variability = variability
    pooled = []
    for seed in seeds:
        run = scenario_run(scenario, seed)
        daily, meter_ids = delivered_daily_kwh(run)
        labelled = {label.entity for label in run.labels}
        honest = np.array([meter not in labelled for meter in meter_ids])
        pooled.append(window_cvs(daily[honest]))
    return np.concatenate(pooled)


def measure(data: Path, scenario_path: Path, seeds: list[int]) -> dict:
    """Real and simulated window-CV summaries side by side."""
    real = window_cvs(sgcc_honest_daily(data))
    report: dict = {"window_days": 60, "real_sgcc_flag0": cv_summary(real), "simulated": {},
                    "scenario": str(scenario_path.relative_to(ROOT)
                                    if scenario_path.is_relative_to(ROOT) else scenario_path),
                    "seeds": seeds}
    for variability in VARIABILITIES:
        report["simulated"][variability] = cv_summary(
            simulated_cvs(scenario_path, variability, seeds))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"folder holding {SGCC_FILE} (default: ../shared/data)")
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--seeds", type=int, nargs="+", default=[701, 702])
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    if not (args.data / SGCC_FILE).is_file():
        print(f"simulator_realism: {args.data / SGCC_FILE} not found (see the data README)",
              file=sys.stderr)
        return 1
    pa.set_cpu_count(1)
    report = measure(args.data, args.scenario.resolve(), args.seeds)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"daily-use CV over 60-day windows (seeds {args.seeds})")
    print(f"{'':28}{'median':>8}{'p10':>8}{'p90':>8}{'windows':>9}")
    rows = [("real SGCC FLAG 0", report["real_sgcc_flag0"])] + [
        (f"simulated, {name}", summary) for name, summary in report["simulated"].items()]
    for name, s in rows:
        print(f"{name:28}{s['median']:>8.3f}{s['p10']:>8.3f}{s['p90']:>8.3f}{s['windows']:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
