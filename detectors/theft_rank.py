"""Theft risk from daily consumption histories in the wide layout of public theft data sets.

Layout: a header row; the first column is the customer id, an optional
``FLAG`` column (the data set's label) is ignored, every other column is one
date; an empty cell is a missing day, and so is a calendar day without a
column. Days are fed in date order, one at a time, to the same online theft
features the worker keeps per meter (`gridwatch.detectors.theft_features`),
the file's customers being each other's peers. The risk is the mean of the
features' peer z-scores (`gridwatch.detectors.theft_risk`); with inspection
findings, a River model trained on the inspected customers re-ranks them all
(`gridwatch.detectors.theft_inspections`). No area or energy-balance data
is needed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from .theft_features import TheftFeatures
from .theft_inspections import InspectionLearner, inspection_inputs
from .theft_risk import peer_scores, unsupervised_risk

FINDINGS = {"confirmed": True, "not_confirmed": False}
FINDINGS_PASSES = 100    # replays of a findings file: enough for SGD to converge
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


def features_of(table: WideTable) -> dict[str, np.ndarray]:
    """Each customer's theft features after the last day, fed one calendar day at a time."""
    if np.any(table.values < 0):
        row, col = np.argwhere(table.values < 0)[0]
        raise ValueError(f"customer {table.customers[row]!r}, {table.days[col]}: negative "
                         f"energy {table.values[row, col]}")
    extractor = TheftFeatures(len(table.customers))
    columns = {day: i for i, day in enumerate(table.days)}
    missing = np.full(len(table.customers), np.nan)
    day = table.days[0]
    while day <= table.days[-1]:
        i = columns.get(day)
        extractor.learn_one(missing if i is None else table.values[:, i], day.weekday())
        day += timedelta(days=1)
    return extractor.features()


def _ordered(table: WideTable, risk: np.ndarray) -> list[tuple[str, float]]:
    order = sorted(range(len(table.customers)), key=lambda i: (-risk[i], table.customers[i]))
    return [(table.customers[i], float(risk[i])) for i in order]


def rank(table: WideTable) -> list[tuple[str, float]]:
    """(customer, risk) pairs, highest risk first (ties by customer id).

    >>> days = [date(2024, 1, 1) + timedelta(days=d) for d in range(120)]
    >>> rng = np.random.default_rng(3)
    >>> use = 10 * (1 + 0.1 * rng.standard_normal((12, 120)))
    >>> use[11, 60:] *= 0.5
    >>> ranked = rank(WideTable([f"c{i}" for i in range(12)], days, use))
    >>> ranked[0][0], len({r for _, r in ranked}) == 12
    ('c11', True)
    """
    return _ordered(table, unsupervised_risk(peer_scores(features_of(table))))


def rank_with_findings(table: WideTable, findings: dict[str, bool], seed: int = 0,
                       source: str = "<findings>") -> list[tuple[str, float]]:
    """Every customer re-ranked by a model trained on the inspected ones (`findings`:
    customer -> theft confirmed), blended with the unsupervised risk."""
    customers = set(table.customers)
    unknown = [c for c in findings if c not in customers]
    if unknown:
        raise ValueError(f"{source}: {len(unknown)} customers not in the consumption file, "
                         f"e.g. {', '.join(map(repr, unknown[:5]))}")
    return _ordered(table, findings_risk(features_of(table), table.customers, findings, seed))


def findings_risk(features: dict[str, np.ndarray], customers: list[str],
                  findings: dict[str, bool], seed: int = 0) -> np.ndarray:
    """Risk of every customer from a `InspectionLearner` trained on `findings` (several
    shuffled passes: a file of findings is a batch), blended with the unsupervised risk."""
    scores = peer_scores(features)
    prior = unsupervised_risk(scores)
    inputs = [inspection_inputs(scores, prior, i) for i in range(len(customers))]
    index = {c: i for i, c in enumerate(customers)}
    learner = InspectionLearner(seed=seed)
    learner.learn_many([(inputs[index[c]], confirmed) for c, confirmed in findings.items()],
                       FINDINGS_PASSES)
    return np.array([learner.blend(learner.predict_one(x), p) for x, p in zip(inputs, prior,
                                                                               strict=True)])


def read_findings(lines: Iterable[str], source: str = "<findings>") -> dict[str, bool]:
    """customer -> theft confirmed, from a CSV with header ``customer,finding``; every bad
    row is an error naming the file and line."""
    reader = csv.reader(lines)
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header[:2] != ["customer", "finding"]:
        raise ValueError(f"{source}: header must be 'customer,finding', got {','.join(header)!r}")
    findings: dict[str, bool] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        customer, finding = (row + [""])[0].strip(), (row + ["", ""])[1].strip().lower()
        if not customer or finding not in FINDINGS:
            raise ValueError(f"{source}: line {line_no}: {','.join(row)!r}: needs a customer and "
                             f"a finding 'confirmed' or 'not_confirmed'")
        if customer in findings and findings[customer] != FINDINGS[finding]:
            raise ValueError(f"{source}: line {line_no}: customer {customer!r} has conflicting "
                             f"findings")
        findings[customer] = FINDINGS[finding]
    return findings
