"""Theft risk from daily consumption histories in the wide layout of public theft data sets.

Layout: a header row; the first column is the customer id, an optional
``FLAG`` column (the data set's label) is ignored, every other column is one
date; an empty cell is a missing day. Days are fed in date order, one day at
a time, to the same `ConsumptionDrop` detector the worker runs on balance
bins: each customer against their own baseline, scaled by the peer factor
of that day across the file's customers. No area or energy-balance data is
needed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from .consumption import ConsumptionDrop

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%Y%m%d", "%d.%m.%Y")


@dataclass
class WideTable:
    """Customers by days, days in date order; NaN marks a missing day."""

    customers: list[str]
    days: list[date]
    values: np.ndarray  # (customers, days)


def parse_date(text: str) -> date:
    """A date column header in any of the common layouts.

    >>> parse_date("2014/1/3"), parse_date("2014-01-03")
    (datetime.date(2014, 1, 3), datetime.date(2014, 1, 3))
    """
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"column header {text!r} is not a date (tried {', '.join(DATE_FORMATS)})")


def read_wide(lines: Iterable[str], source: str = "<input>") -> WideTable:
    """Parse the wide CSV; every malformed cell is an error naming its row and column."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{source}: empty file, expected a header row") from None
    if len(header) < 2:
        raise ValueError(f"{source}: header needs a customer column and at least one date")
    columns = [i for i, name in enumerate(header) if i > 0 and name.strip().upper() != "FLAG"]
    dates = [parse_date(header[i]) for i in columns]
    order = sorted(range(len(columns)), key=lambda k: dates[k])
    customers: list[str] = []
    rows: list[list[float]] = []
    for line_no, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise ValueError(f"{source}: line {line_no} has {len(row)} cells, header has "
                             f"{len(header)}")
        values = []
        for i in columns:
            cell = row[i].strip() if i < len(row) else ""
            try:
                values.append(float(cell) if cell else float("nan"))
            except ValueError:
                raise ValueError(f"{source}: line {line_no}, column {header[i]!r}: "
                                 f"{cell!r} is not a number") from None
        customers.append(row[0].strip())
        rows.append([values[k] for k in order])
    if not customers:
        raise ValueError(f"{source}: no customer rows")
    return WideTable(customers, [dates[k] for k in order], np.array(rows, dtype=np.float64))


def rank(table: WideTable, **detector_params: float) -> list[tuple[str, float]]:
    """(customer, risk) pairs, highest risk first (ties by customer id).

    >>> days = [date(2024, 1, d) for d in range(1, 29)]
    >>> base = np.tile(np.linspace(9, 11, 28), (3, 1))
    >>> base[2, 14:] = 2.0
    >>> [c for c, _ in rank(WideTable(["a", "b", "thief"], days, base))][0]
    'thief'
    """
    detector = ConsumptionDrop(meters=len(table.customers), slots=1, **detector_params)
    for day in range(table.values.shape[1]):
        column = table.values[:, day]
        detector.step(column, 0, np.isfinite(column) & (column >= 0))
    risk = detector.risk()
    order = sorted(range(len(table.customers)), key=lambda i: (-risk[i], table.customers[i]))
    return [(table.customers[i], float(risk[i])) for i in order]
