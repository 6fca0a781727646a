"""Recompute the committed tables of `shapes` and `variability` from real data.

Why a script and committed numbers: the real files (ETDataset transformer
loads, the UCI household series) are not redistributed with the code and CI
has no copy, so the shapes are derived once and pasted into `shapes.py`;
this module shows how, and a test checks the committed numbers against it
wherever the files are present.

The variability table comes from the honest (FLAG 0) customers of
``sgcc_dev.csv`` only: each customer's daily kWh is split into near-zero runs
(single days: missing reads, longer runs: vacancies), burst days (at least
`BURST_RATIO` times the median of their 60-day window) and the ordinary days,
whose robust spread around the window median is the day-to-day sigma.

Usage: ``python -m gridwatch.sensors.calibrate /work/shared/data`` prints the
tables as JSON.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np

from .variability import WINDOW_DAYS

ETT_FILES = ("ETTh1.csv", "ETTh2.csv")
UCI_FILE = "uci_household_power_minute_2006-12-16_to_2007-01-14.txt"
ETT_USEFUL_LOADS = ("HUFL", "MUFL", "LUFL")
SGCC_FILE = "sgcc_dev.csv"
NEAR_ZERO_SHARE = 0.1      # a day below this share of the customer's median use is near zero
BURST_RATIO = 2.0          # a day at this multiple of its window's median is a burst
QUANTILES = 21             # points of each committed quantile table (every 5 %)
MAD_TO_SIGMA = 1.4826
ACTIVE_KWH = 1.0           # a window whose usual day is below this is a near-empty home


def _normalised(sums: np.ndarray, counts: np.ndarray) -> list[float]:
    means = sums / np.maximum(counts, 1)
    return [round(float(v), 3) for v in means / means.mean()]


def ett_hourly(folder: Path) -> dict[str, list[float]]:
    """Weekday and weekend hourly shape of the transformers' summed useful load."""
    sums, counts = np.zeros((2, 24)), np.zeros((2, 24))
    for name in ETT_FILES:
        with open(folder / name, newline="") as handle:
            for row in csv.DictReader(handle):
                moment = datetime.fromisoformat(row["date"])
                weekend = int(moment.weekday() >= 5)
                sums[weekend, moment.hour] += sum(float(row[c]) for c in ETT_USEFUL_LOADS)
                counts[weekend, moment.hour] += 1
    return {"weekday": _normalised(sums[0], counts[0]),
            "weekend": _normalised(sums[1], counts[1])}


def uci_minutes(folder: Path, columns: int) -> Iterator[tuple[datetime, list[str]]]:
    """(moment, fields) of each UCI minute whose first `columns` fields are all present
    (the file marks a missing minute with '?')."""
    with open(folder / UCI_FILE) as handle:
        next(handle)
        for line in handle:
            fields = line.strip().split(";")
            if len(fields) < columns or "?" in fields[:columns]:
                continue
            yield datetime.strptime(f"{fields[0]} {fields[1]}", "%d/%m/%Y %H:%M:%S"), fields


def uci_hourly(folder: Path) -> dict[str, list[float]]:
    """Weekday and weekend hourly shape of the household's active power ('?' rows skipped)."""
    sums, counts = np.zeros((2, 24)), np.zeros((2, 24))
    for moment, fields in uci_minutes(folder, 3):
        weekend = int(moment.weekday() >= 5)
        sums[weekend, moment.hour] += float(fields[2])
        counts[weekend, moment.hour] += 1
    return {"weekday": _normalised(sums[0], counts[0]),
            "weekend": _normalised(sums[1], counts[1])}


def sgcc_honest_daily(folder: Path) -> np.ndarray:
    """(customers, days) daily kWh of the FLAG-0 customers; empty cells count as 0, as the
    preprocessed file fills its missing days."""
    with open(folder / SGCC_FILE, newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        if header[:2] != ["CONS_NO", "FLAG"]:
            raise ValueError(f"{folder / SGCC_FILE}: expected columns CONS_NO,FLAG,<dates>")
        daily = [[float(v) if v else 0.0 for v in row[2:]] for row in rows if row[1] == "0"]
    return np.array(daily)


def _runs(flags: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a boolean series."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]


def _quantiles(values: list[float] | np.ndarray, digits: int) -> list[float]:
    points = np.percentile(np.asarray(values, dtype=float), np.linspace(0, 100, QUANTILES))
    return [round(float(v), digits) for v in points]


def variability_from_daily(daily: np.ndarray) -> dict[str, float | list[float]]:
    """The `VariabilityTable` fields fitted to (customers, days) daily use of honest customers.

    Each whole 60-day window of a customer counts as one customer of the
    simulator (a simulated run is one such window), so what varies between the
    seasons of one real customer varies between simulated customers.

    >>> rng = np.random.default_rng(0)
    >>> days = rng.lognormal(0.0, 0.2, size=(30, 420))
    >>> days[:, 100:110] = 0.0
    >>> table = variability_from_daily(days)
    >>> round(float(np.exp(table["sigma_log_mean"])), 1), table["vacancy_days_q"][10]
    (0.2, 10.0)
    """
    sigmas, missing, vacancy, vacancy_days, bursts, burst_sizes = [], [], [], [], [], []
    for series in daily:
        used = series[series > 0]
        if used.size < WINDOW_DAYS:
            continue
        near_zero_all = series < NEAR_ZERO_SHARE * np.median(used)
        for start in range(0, series.size - WINDOW_DAYS + 1, WINDOW_DAYS):
            window = series[start:start + WINDOW_DAYS]
            near_zero = near_zero_all[start:start + WINDOW_DAYS]
            if window.sum() <= 0:
                continue
            runs = _runs(near_zero)
            missing.append(float((runs == 1).sum()) / WINDOW_DAYS)
            vacancy.append(float((runs >= 2).sum()) / max(int((~near_zero).sum()), 1))
            if (runs >= 2).any():
                vacancy_days.append(float(np.median(runs[runs >= 2])))
            ordinary_days = window[~near_zero]
            if ordinary_days.size < 10:
                continue
            ratios = np.log(ordinary_days / np.median(ordinary_days))
            burst = ratios > np.log(BURST_RATIO)
            bursts.append(float(burst.sum()) / WINDOW_DAYS)
            if burst.any() and np.median(ordinary_days) >= ACTIVE_KWH:
                # against a near-empty home's tiny usual day any use is a 20-40x
                # 'burst'; such ratios would give a lived-in home 400 kWh days
                burst_sizes.append(float(np.exp(np.median(ratios[burst]))))
            ordinary = ratios[~burst]
            sigma = MAD_TO_SIGMA * np.median(np.abs(ordinary - np.median(ordinary)))
            if sigma > 0:              # a flat, quantised window has no spread to fit
                sigmas.append(float(sigma))
    if not sigmas:
        raise ValueError("no customer with enough days of use to fit variability")
    log_sigma = np.log(sigmas)
    return {
        "sigma_log_mean": round(float(log_sigma.mean()), 4),
        "sigma_log_sd": round(float(log_sigma.std()), 4),
        "missing_rate_q": _quantiles(missing, 5),
        "vacancy_rate_q": _quantiles(vacancy, 5),
        "vacancy_days_q": _quantiles(vacancy_days or [2.0], 1),
        "burst_rate_q": _quantiles(bursts, 5),
        "burst_factor_q": _quantiles(burst_sizes or [BURST_RATIO], 3),
    }


def sgcc_variability(folder: str | Path) -> dict[str, float | list[float]]:
    """The committed `gridwatch.sensors.variability.CALIBRATED` table, from sgcc_dev.csv."""
    return variability_from_daily(sgcc_honest_daily(Path(folder)))


def derive(folder: str | Path) -> dict[str, dict]:
    """Every table from the data folder; a missing file is a clear error."""
    folder = Path(folder)
    for name in (*ETT_FILES, UCI_FILE, SGCC_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found (see the data README)")
    return {"residential": uci_hourly(folder), "industrial": ett_hourly(folder),
            "variability": sgcc_variability(folder)}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gridwatch.sensors.calibrate DATA_FOLDER", file=sys.stderr)
        return 2
    try:
        print(json.dumps(derive(argv[0]), indent=1))
    except FileNotFoundError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
