"""Recompute the committed load-shape tables of `gridwatch.sensors.shapes` from real data.

Why a script and committed numbers: the real files (ETDataset transformer
loads, the UCI household series) are not redistributed with the code and CI
has no copy, so the shapes are derived once and pasted into `shapes.py`;
this module shows how, and a test checks the committed numbers against it
wherever the files are present.

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

ETT_FILES = ("ETTh1.csv", "ETTh2.csv")
UCI_FILE = "uci_household_power_minute_2006-12-16_to_2007-01-14.txt"
ETT_USEFUL_LOADS = ("HUFL", "MUFL", "LUFL")


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


def derive(folder: str | Path) -> dict[str, dict[str, list[float]]]:
    """Both tables from the data folder; a missing file is a clear error."""
    folder = Path(folder)
    for name in (*ETT_FILES, UCI_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found (see the data README)")
    return {"residential": uci_hourly(folder), "industrial": ett_hourly(folder)}


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
