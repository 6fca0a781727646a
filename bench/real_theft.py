"""Theft ranking on real SGCC customers: unsupervised AUC and precision@k, and learning
from inspections under stratified cross-validation, beside baselines, in one run.

Why these figures: a utility inspects the top of the list, so precision@k
says what an inspection round finds; AUC says how well the whole list is
ordered. Ties are counted honestly: tied customers share their average rank,
and precision@k counts a tie across the cut-off at its expected share.
Learning from inspections is judged like it is used: the other folds' labels
go in as findings, and the held-out fold's AUC is compared with the
unsupervised AUC on the same fold, for several seeds of fold assignment.

Data: ``shared/data/sgcc_dev.csv`` (86 customers, ``FLAG`` 1 = theft). The
other customers of that subset are held out by the team and never read.

    python -m bench.real_theft [--json] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gridwatch.detectors.consumption import ConsumptionDrop
from gridwatch.detectors.theft_features import FEATURES, SIGNED_FEATURES
from gridwatch.detectors.theft_rank import WideTable, features_of, findings_risk, read_wide
from gridwatch.detectors.theft_risk import peer_scores, unsupervised_risk

DATA = Path(os.environ.get("GRIDWATCH_DATA", Path(__file__).resolve().parents[2]
                           / "shared" / "data")) / "sgcc_dev.csv"
FOLDS = 5


def percentiles(values: np.ndarray) -> np.ndarray:
    """Mid-rank of each value among all of them, in (0, 1); equal values share their rank.

    >>> percentiles(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [0.75, 0.125, 0.75, 0.375]
    """
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (below[inverse] + counts[inverse] / 2.0) / len(values)


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Probability that a random thief outranks a random honest customer; a tie counts half.

    >>> auc(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0]))
    0.875
    """
    positives = label == 1
    n1, n0 = int(positives.sum()), int((~positives).sum())
    if not n1 or not n0:
        raise ValueError("auc needs both classes")
    ranks = percentiles(score) * len(score) + 0.5
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def precision_at(score: np.ndarray, label: np.ndarray, k: int) -> float:
    """Expected share of thieves among the top `k` when ties at the cut-off fall at random.

    >>> precision_at(np.array([0.9, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0]), 2)
    0.75
    """
    order = np.sort(score)[::-1]
    cut = order[k - 1]
    above = score > cut
    tied = score == cut
    return float((label[above].sum() + (k - above.sum()) * label[tied].mean()) / k)


def read_labels(path: Path) -> dict[str, int]:
    """customer -> FLAG (1 = theft) of a wide SGCC file."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        flag = [h.strip().upper() for h in header].index("FLAG")
        return {row[0].strip(): int(row[flag]) for row in reader if row}


def stratified_folds(label: np.ndarray, seed: int, folds: int = FOLDS) -> np.ndarray:
    """Fold number of each customer, thieves and honest customers dealt out separately."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(label), dtype=int)
    for cls in (0, 1):
        members = rng.permutation(np.flatnonzero(label == cls))
        fold[members] = np.arange(len(members)) % folds
    return fold


def consumption_drop_risk(table: WideTable) -> np.ndarray:
    """The previous ranking (CUSUM of deficits, saturating risk), as a baseline."""
    detector = ConsumptionDrop(meters=len(table.customers), slots=1)
    for day in range(table.values.shape[1]):
        column = table.values[:, day]
        detector.step(column, 0, np.isfinite(column) & (column >= 0))
    return detector.risk()


def summary(score: np.ndarray, label: np.ndarray) -> dict[str, float]:
    return {"auc": round(auc(score, label), 3),
            "precision_at_10": round(precision_at(score, label, 10), 3),
            "precision_at_20": round(precision_at(score, label, 20), 3),
            "distinct_risks": len(np.unique(score)),
            "at_max": int((score == score.max()).sum())}


def cross_validate(features: dict[str, np.ndarray], customers: list[str], label: np.ndarray,
                   seeds: list[int]) -> dict[str, object]:
    """Findings from four folds, AUC on the fifth, against the unsupervised AUC on it."""
    unsupervised = unsupervised_risk(peer_scores(features))
    with_findings, without, gains = [], [], []
    for seed in tqdm(seeds, desc="theft CV seeds", file=sys.stderr, leave=False):
        fold = stratified_folds(label, seed)
        for k in range(FOLDS):
            held = fold == k
            findings = {customers[i]: bool(label[i]) for i in np.flatnonzero(~held)}
            risk = findings_risk(features, customers, findings, seed=seed)
            a, b = auc(risk[held], label[held]), auc(unsupervised[held], label[held])
            with_findings.append(a)
            without.append(b)
            gains.append(a - b)
    return {"seeds": seeds, "folds": FOLDS,
            "auc_with_findings_mean": round(float(np.mean(with_findings)), 3),
            "auc_with_findings_std": round(float(np.std(with_findings)), 3),
            "auc_unsupervised_same_folds_mean": round(float(np.mean(without)), 3),
            "auc_unsupervised_same_folds_std": round(float(np.std(without)), 3),
            "gain_mean": round(float(np.mean(gains)), 3),
            "gain_std": round(float(np.std(gains)), 3),
            "folds_improved": f"{sum(g > 0 for g in gains)}/{len(gains)}"}


def run(quick: bool = False, path: Path = DATA) -> dict[str, object]:
    """Every theft figure of the real-data report."""
    with open(path, newline="") as handle:
        table = read_wide(handle, str(path))
    flags = read_labels(path)
    label = np.array([flags[c] for c in table.customers])
    features = features_of(table)
    scores = peer_scores(features)
    rng = np.random.default_rng(0)
    report: dict[str, object] = {
        "data": f"{path.name}: {len(label)} customers, {int(label.sum())} thieves, "
                f"{len(table.days)} days",
        "unsupervised": summary(unsupervised_risk(scores), label),
        "baselines": {
            "consumption_drop_cusum (previous)": summary(consumption_drop_risk(table), label),
            "random": summary(rng.random(len(label)), label)},
        "variants": {
            "mean percentile of the signed features (first try)": summary(
                np.mean([percentiles(features[n]) for n in SIGNED_FEATURES], axis=0), label),
            "with peer_level (high = risky)": summary(
                unsupervised_risk(scores, (*SIGNED_FEATURES, "peer_level")), label),
            "without level_wander and variability": summary(
                unsupervised_risk(scores, tuple(n for n in SIGNED_FEATURES
                                                if n not in ("level_wander", "variability"))),
                label)},
        "feature_auc": {name: round(auc(features[name], label), 3) for name in FEATURES},
    }
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    report["findings_cv"] = cross_validate(features, table.customers, label, seeds)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.add_argument("--quick", action="store_true", help="two CV seeds instead of five")
    args = parser.parse_args(argv)
    report = run(args.quick)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for key, value in report.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
