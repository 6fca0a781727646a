"""NAB benchmark of the `gridwatch score` detectors, with baselines from the same run.

Reads a directory in NAB's layout (``data/<category>/<file>.csv`` with a
``timestamp,value`` header, and ``labels/combined_windows.json``), runs every
detector strictly online over every file present, and scores them with
`gridwatch.evaluation.nab` (windows, scaled sigmoid, the three
application profiles, 15 % probation, threshold swept per detector and
profile over the corpus as NAB does, normalised so null = 0, perfect = 100).

The GridWatch detectors run through `gridwatch score`'s own code path
(`run_score` on the file's CSV text): what is measured is what an engineer
gets from the command line. Baselines in the same run: ``null`` (never
alerts: 0 by construction), ``random`` (uniform scores, seeded) and
``river-hst`` (River's own `river.anomaly.HalfSpaceTrees` behind a
`MinMaxScaler`, as River's documentation pairs them).

A subset of NAB's 58 files is not comparable with published full-corpus
scores; the JSON lists the files used. Scores are also given per category,
each with its own threshold sweep.

Usage: ``python -m bench.nab --data DIR [--detectors A,B] [--categories C,D]
[--dev CATS] [--param DETECTOR:KEY=VALUE ...] [--plot out.png] [--json]``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gridwatch.detectors.cli import run_score
from gridwatch.detectors.scoring import SCORERS
from gridwatch.evaluation.nab import (
    PROFILES,
    LabelledFile,
    Profile,
    SweepResult,
    label_rows,
    load_windows,
    probation_rows,
    score_at,
    sweep,
)

BASELINES = ("null", "random", "river-hst")
RANDOM_SEED = 7


class NabFile:
    """One data file of the corpus: its rows as CSV text, timestamps, values and labels."""

    def __init__(self, name: str, path: Path,
                 windows: list[tuple[datetime, datetime]]) -> None:
        self.name = name
        self.category = name.split("/", 1)[0]
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or [h.strip().lower() for h in rows[0][:2]] != ["timestamp", "value"]:
            raise ValueError(f"{path}: header must start with 'timestamp,value'")
        body = [r for r in rows[1:] if r]
        try:
            self.timestamps = [datetime.fromisoformat(r[0]) for r in body]
            self.values = np.array([float(r[1]) for r in body])
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{path}: unreadable row: {exc}") from exc
        # equal stamps are allowed: NAB's own files repeat one at a clock change
        if any(b < a for a, b in zip(self.timestamps, self.timestamps[1:], strict=False)):
            raise ValueError(f"{path}: timestamps go backwards")
        self.csv_text = "timestamp,value\n" + "".join(f"{r[0]},{r[1]}\n" for r in body)
        self.labels: LabelledFile = label_rows(name, self.timestamps, windows)


def load_corpus(root: Path, categories: set[str] | None) -> list[NabFile]:
    """Every file named in the windows file whose CSV is present (and in `categories`)."""
    windows = load_windows(root / "labels" / "combined_windows.json")
    files = []
    for name in sorted(windows):
        path = root / "data" / name
        if path.is_file() and (categories is None or name.split("/")[0] in categories):
            files.append(NabFile(name, path, windows[name]))
    if not files:
        raise ValueError(f"{root}: no data file of labels/combined_windows.json found "
                         f"under data/")
    return files


def score_with_cli(detector: str, params: list[str]) -> Callable[[NabFile], np.ndarray]:
    """Scores of one file from `gridwatch score --detector NAME`'s own code path."""
    def run(f: NabFile) -> np.ndarray:
        args = argparse.Namespace(list=False, json=False, detector=detector, param=params)
        out = io.StringIO()
        err = io.StringIO()
        saved_stderr, sys.stderr = sys.stderr, err
        try:
            code = run_score(args, stdin=io.StringIO(f.csv_text), stdout=out)
        finally:
            sys.stderr = saved_stderr
        if code != 0:
            raise RuntimeError(f"gridwatch score failed on {f.name}: {err.getvalue().strip()}")
        rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
        return np.array([float(r[2]) for r in rows])
    return run


def score_river_hst(f: NabFile) -> np.ndarray:
    """River's HalfSpaceTrees on the min-max scaled value, score before learn."""
    from river import anomaly, compose, preprocessing

    model = compose.Pipeline(preprocessing.MinMaxScaler(),
                             anomaly.HalfSpaceTrees(seed=42))
    out = np.empty(len(f.values))
    for i, x in enumerate(f.values):
        features = {"value": float(x)}
        out[i] = model.score_one(features)
        model.learn_one(features)
    return out


def score_random(f: NabFile) -> np.ndarray:
    """Uniform random scores, seeded by the file name so every run agrees."""
    seed = RANDOM_SEED + sum(f.name.encode())
    return np.random.default_rng(seed).random(len(f.values))


def score_null(f: NabFile) -> np.ndarray:
    """Never alerts."""
    return np.zeros(len(f.values))


def detector_runners(names: list[str], params: dict[str, list[str]]
                     ) -> dict[str, Callable[[NabFile], np.ndarray]]:
    """Map each requested detector name to the function that scores a file with it."""
    fixed = {"null": score_null, "random": score_random, "river-hst": score_river_hst}
    out = {}
    for name in names:
        if name in SCORERS:
            out[name] = score_with_cli(name, params.get(name, []))
        elif name in fixed:
            out[name] = fixed[name]
        else:
            raise ValueError(f"unknown detector {name!r}; choose from "
                             f"{', '.join([*SCORERS, *fixed])}")
    return out


def evaluate(files: list[NabFile], scores: dict[str, list[np.ndarray]],
             dev: set[str] | None = None) -> dict:
    """Per detector: corpus and per-category NAB scores for each profile.

    With `dev` categories, also the score of the other (test) files at the
    threshold swept on the dev files alone: what a threshold tuned
    elsewhere gives on data it never saw.
    """
    categories = sorted({f.category for f in files})
    result: dict = {}
    for name, per_file in scores.items():
        entry: dict = {"corpus": {}, "by_category": {}}
        for profile_name, profile in PROFILES.items():
            best = sweep([f.labels for f in files], per_file, profile)
            entry["corpus"][profile_name] = _summary(best)
            for cat in categories:
                idx = [i for i, f in enumerate(files) if f.category == cat]
                sub = sweep([files[i].labels for i in idx], [per_file[i] for i in idx], profile)
                entry["by_category"].setdefault(cat, {})[profile_name] = _summary(sub)
            if dev:
                entry.setdefault("test_at_dev_threshold", {})[profile_name] = \
                    _test_at_dev_threshold(files, per_file, profile, dev)
        result[name] = entry
    return result


def _test_at_dev_threshold(files: list[NabFile], per_file: list[np.ndarray],
                           profile: Profile, dev: set[str]) -> dict:
    dev_idx = [i for i, f in enumerate(files) if f.category in dev]
    test_idx = [i for i, f in enumerate(files) if f.category not in dev]
    if not dev_idx or not test_idx:
        raise ValueError("--dev needs files both in and outside the dev categories")
    chosen = sweep([files[i].labels for i in dev_idx], [per_file[i] for i in dev_idx], profile)
    test = score_at([files[i].labels for i in test_idx], [per_file[i] for i in test_idx],
                    profile, chosen.threshold)
    return _summary(test)


def _summary(best: SweepResult) -> dict:
    threshold = best.threshold if np.isfinite(best.threshold) else None  # None: never alert
    return {"score": round(best.normalised, 2), "threshold": threshold,
            "tp": best.tp, "fp": best.fp, "fn": best.fn}


def plot(files: list[NabFile], scores: dict[str, list[np.ndarray]], path: Path,
         thresholds: dict[str, float | None], count: int = 4) -> None:
    """Value, detector scores, windows and probation for the first `count` files."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = files[:count]
    fig, axes = plt.subplots(2 * len(shown), 1, figsize=(14, 3.2 * len(shown)), squeeze=False)
    for k, f in enumerate(shown):
        ax_v, ax_s = axes[2 * k][0], axes[2 * k + 1][0]
        t = np.array(f.timestamps, dtype="datetime64[s]")
        ax_v.plot(t, f.values, lw=0.6, color="black")
        ax_v.set_title(f.name, fontsize=9)
        for ax in (ax_v, ax_s):
            for w in range(f.labels.n_windows):
                rows = np.flatnonzero(f.labels.window == w)
                ax.axvspan(t[rows[0]], t[rows[-1]], color="tab:red", alpha=0.15)
            ax.axvline(t[probation_rows(len(t))], color="grey", ls=":", lw=0.8)
        i = files.index(f)
        for name, per_file in scores.items():
            if name in ("null", "random"):
                continue
            line, = ax_s.plot(t, per_file[i], lw=0.6, label=name)
            if thresholds.get(name) is not None:
                ax_s.axhline(thresholds[name], color=line.get_color(), ls="--", lw=0.6)
        ax_s.set_ylim(-0.02, 1.02)
        ax_s.set_ylabel("score")
        ax_s.legend(loc="upper left", fontsize=7)
    fig.suptitle("NAB: value, anomaly scores (dashed: standard-profile threshold), "
                 "windows (red), probation end (dotted)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _parse_params(items: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, pair = item.partition(":")
        if not sep or "=" not in pair:
            raise ValueError(f"--param {item!r} must look like DETECTOR:KEY=VALUE")
        out.setdefault(name, []).append(pair)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="NAB-layout directory")
    parser.add_argument("--detectors", default=",".join([*SCORERS, *BASELINES]),
                        help="comma-separated detectors (default: all GridWatch + baselines)")
    parser.add_argument("--categories", default="",
                        help="comma-separated categories to score (default: all present)")
    parser.add_argument("--dev", default="",
                        help="comma-separated DEV categories: also score the rest at the "
                             "threshold swept on these")
    parser.add_argument("--param", action="append", default=[],
                        metavar="DETECTOR:KEY=VALUE", help="scorer parameter, repeatable")
    parser.add_argument("--plot", type=Path, help="write a PNG of a few files")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    try:
        cats = {c for c in args.categories.split(",") if c} or None
        files = load_corpus(args.data, cats)
        runners = detector_runners([d for d in args.detectors.split(",") if d],
                                   _parse_params(args.param))
    except ValueError as exc:
        print(f"bench.nab: {exc}", file=sys.stderr)
        return 2
    scores: dict[str, list[np.ndarray]] = {name: [] for name in runners}
    seconds = dict.fromkeys(runners, 0.0)
    with tqdm(total=len(runners) * len(files), desc="nab", file=sys.stderr) as bar:
        for f in files:
            for name, run in runners.items():
                start = time.perf_counter()
                scores[name].append(run(f))
                seconds[name] += time.perf_counter() - start
                bar.update()
    try:
        results = evaluate(files, scores, {c for c in args.dev.split(",") if c} or None)
    except ValueError as exc:
        print(f"bench.nab: {exc}", file=sys.stderr)
        return 2
    rows = sum(len(f.values) for f in files)
    report = {
        "files": [{"name": f.name, "rows": len(f.values), "windows": f.labels.n_windows}
                  for f in files],
        "rows": rows,
        "windows": sum(f.labels.n_windows for f in files),
        "detectors": results,
        "us_per_row": {k: round(1e6 * v / rows, 2) for k, v in seconds.items()},
        "params": args.param,
        "dev_categories": sorted(c for c in args.dev.split(",") if c),
        "threshold_rule": "swept per detector and profile over the scored files (as NAB does)",
        "note": "subset of NAB: not directly comparable with full-corpus published scores",
    }
    if args.plot:
        plot(files, scores, args.plot,
             {n: r["corpus"]["standard"]["threshold"] for n, r in results.items()})
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"{len(files)} files, {rows} rows, {report['windows']} windows")
        print(f"{'detector':20s}" + "".join(f"{p:>22s}" for p in PROFILES))
        for name, r in results.items():
            print(f"{name:20s}" + "".join(f"{r['corpus'][p]['score']:22.2f}" for p in PROFILES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
