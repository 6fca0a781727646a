"""Generic scorers on real labelled streams, scored by NAB's rules, baselines in the same run.

Corpora (all real measurements; none is NAB's):
- ``appliance_power``, ``skab``, ``ucr_anomaly_archive``: the labelled streams
  of ``shared/data/streams`` (CSV ``timestamp,value,label``);
- ``injected``: real transformer and household channels of ``shared/data``
  with seeded spikes, level shifts, noise bursts and flat lines
  (`bench.detectors.inject`), labelled where injected.

NAB's rules exactly (`gridwatch.evaluation.nab`): windows from the
per-row labels (10 % of a file's rows divided by its anomalies, centred on
each labelled span), 15 % probation, every detection outside a window a
false positive weighted by the scaled sigmoid, one threshold per detector and
profile over the whole corpus, normalised so null = 0 and perfect = 100.

Detectors: ``ours`` (`gridwatch score`'s default), the previous default
``robust-likelihood``, River's HalfSpaceTrees
behind a MinMaxScaler (as `bench.nab`), a windowed Gaussian (NAB's
baseline: tail probability of the value against the mean and deviation of
the last 6,400 values, refreshed every 100), ``random`` and ``null``.
Also, per corpus, ``ours`` at the threshold swept on the *other* corpora
(what a threshold chosen elsewhere gives on data it never saw), and every
detector on all corpora pooled under one threshold (``pooled``).

Usage: ``python -m bench.real_scorers [--quick] [--json]``; ``--quick`` takes
a small seeded sample of files (for CI, under a minute).
"""

from __future__ import annotations

import csv
import math
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.detectors import DATA, KINDS, inject, real_streams
from bench.nab import score_random, score_river_hst
from bench.real_cli import bench_main
from gridwatch.detectors.scoring import DEFAULT_SCORER, make_scorer
from gridwatch.evaluation.nab import (
    PROFILES,
    LabelledFile,
    rows_in_windows,
    score_at,
    sweep,
    windows_from_labels,
)

STREAM_CORPORA = ("appliance_power", "skab", "ucr_anomaly_archive")
INJECTED = "injected"
INJECT_SEED = 11
QUICK_FILES = {"appliance_power": 40, "skab": 8, "ucr_anomaly_archive": 1, INJECTED: 2}
QUICK_ROWS = 6000          # quick mode: injected streams cut to this many rows
QUICK_SEED = 3
GAUSS_WINDOW = 6400
GAUSS_STEP = 100


@dataclass
class LabelledStream:
    """One file: its values and NAB row weights."""

    name: str
    values: np.ndarray
    labels: LabelledFile


def labelled(name: str, values: np.ndarray, flags: np.ndarray) -> LabelledStream:
    """A stream with its NAB windows derived from per-row 0/1 labels."""
    return LabelledStream(name, values,
                          rows_in_windows(name, len(values), windows_from_labels(flags)))


def read_stream(path: Path) -> LabelledStream:
    """A ``timestamp,value,label`` CSV; a bad header or row is an error naming the file."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or [h.strip().lower() for h in rows[0][:3]] != ["timestamp", "value", "label"]:
        raise ValueError(f"{path}: header must be 'timestamp,value,label'")
    try:
        values = np.array([float(r[1]) for r in rows[1:] if r])
        flags = np.array([int(float(r[2])) for r in rows[1:] if r])
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable row: {exc}") from exc
    return labelled(path.name, values, flags)


def load_corpora(data: Path, quick: bool) -> dict[str, list[LabelledStream]]:
    """Every dev corpus (a seeded sample of each in quick mode)."""
    rng = np.random.default_rng(QUICK_SEED)
    corpora: dict[str, list[LabelledStream]] = {}
    for corpus in STREAM_CORPORA:
        paths = sorted((data / "streams" / corpus).glob("*.csv"))
        if not paths:
            raise ValueError(f"{data / 'streams' / corpus}: no CSV files (see the data README)")
        if quick:
            keep = rng.choice(len(paths), size=min(QUICK_FILES[corpus], len(paths)),
                              replace=False)
            paths = [paths[i] for i in sorted(keep.tolist())]
        corpora[corpus] = [read_stream(p) for p in paths]
    corpora[INJECTED] = injected_corpus(data, quick)
    return corpora


def injected_corpus(data: Path, quick: bool) -> list[LabelledStream]:
    """Real channels with seeded anomalies; the injected spans are the labels."""
    rng = np.random.default_rng(INJECT_SEED)
    kinds = {"spike": 1, "level_shift": 60, "noise_burst": 40, "flat_line": 80}  # as injected
    streams = []
    for name, values in real_streams(data).items():
        x, starts = inject(values, rng)
        flags = np.zeros(len(x), dtype=int)
        for i, start in enumerate(starts):
            flags[start:start + kinds[KINDS[i % len(KINDS)]]] = 1
        if quick:
            x, flags = x[:QUICK_ROWS], flags[:QUICK_ROWS]
        streams.append(labelled(name, x, flags))
    return streams[:QUICK_FILES[INJECTED]] if quick else streams


def gridwatch_scorer(name: str) -> Callable[[LabelledStream], np.ndarray]:
    """Scores of a `gridwatch score` scorer with its defaults, score before learn, as the CLI."""
    def run(stream: LabelledStream) -> np.ndarray:
        scorer = make_scorer(name, {})
        out = np.empty(len(stream.values))
        for i, x in enumerate(stream.values.tolist()):
            out[i] = scorer.score_one(x)
            scorer.learn_one(x)
        return out
    return run


def score_windowed_gaussian(stream: LabelledStream) -> np.ndarray:
    """NAB's windowed-Gaussian baseline: two-sided tail of x against the recent window."""
    window: deque[float] = deque(maxlen=GAUSS_WINDOW)
    mean, sd = 0.0, 0.0
    out = np.zeros(len(stream.values))
    for i, x in enumerate(stream.values.tolist()):
        if len(window) >= 2 and sd > 0:
            out[i] = math.erf(abs(x - mean) / (sd * math.sqrt(2.0)))
        window.append(x)
        if i % GAUSS_STEP == 0 or len(window) < GAUSS_STEP:
            mean, sd = float(np.mean(window)), float(np.std(window))
    return out


def score_null(stream: LabelledStream) -> np.ndarray:
    """Never alerts."""
    return np.zeros(len(stream.values))


DETECTORS: dict[str, Callable[[LabelledStream], np.ndarray]] = {
    "ours": gridwatch_scorer(DEFAULT_SCORER),
    "robust-likelihood (previous default)": gridwatch_scorer("robust-likelihood"),
    "river-hst": score_river_hst,
    "windowed-gaussian": score_windowed_gaussian,
    "random": score_random,
    "null": score_null,
}


def run(quick: bool, data: Path = DATA) -> dict:
    """Per corpus and profile, the normalised NAB score of every detector (one run)."""
    corpora = load_corpora(data, quick)
    scores: dict[str, dict[str, list[np.ndarray]]] = {}
    seconds = dict.fromkeys(DETECTORS, 0.0)
    total = sum(len(files) for files in corpora.values()) * len(DETECTORS)
    with tqdm(total=total, desc="real scorers", file=sys.stderr) as bar:
        for corpus, files in corpora.items():
            scores[corpus] = {name: [] for name in DETECTORS}
            for f in files:
                for name, detector in DETECTORS.items():
                    start = time.perf_counter()
                    scores[corpus][name].append(detector(f))
                    seconds[name] += time.perf_counter() - start
                    bar.update()
    rows = sum(len(f.values) for files in corpora.values() for f in files)
    result: dict = {"quick": quick, "corpora": {}, "us_per_row": {
        name: round(1e6 * s / rows, 2) for name, s in seconds.items()}}
    for corpus, files in corpora.items():
        labels = [f.labels for f in files]
        entry: dict = {"files": len(files), "rows": int(sum(len(f.values) for f in files)),
                       "windows": int(sum(f.labels.n_windows for f in files)),
                       "scores": {}}
        for name in DETECTORS:
            entry["scores"][name] = {
                profile_name: round(sweep(labels, scores[corpus][name], profile).normalised, 2)
                for profile_name, profile in PROFILES.items()}
        entry["ours_at_threshold_of_other_corpora"] = _held_out(corpora, scores, corpus)
        result["corpora"][corpus] = entry
    result["pooled"] = _pooled(corpora, scores)
    return result


def _pooled(corpora: dict[str, list[LabelledStream]],
            scores: dict[str, dict[str, list[np.ndarray]]]) -> dict[str, dict[str, float]]:
    """Every detector over all corpora as one, one threshold: are its scores comparable
    across kinds of stream (what a mixed corpus such as NAB's asks)?"""
    labels = [f.labels for files in corpora.values() for f in files]
    return {name: {profile_name: round(sweep(labels, [s for c in corpora
                                                      for s in scores[c][name]],
                                             profile).normalised, 2)
                   for profile_name, profile in PROFILES.items()}
            for name in DETECTORS}


def _held_out(corpora: dict[str, list[LabelledStream]],
              scores: dict[str, dict[str, list[np.ndarray]]], corpus: str) -> dict[str, float]:
    """Ours on `corpus` at the threshold swept (per profile) on all the other corpora."""
    others = [c for c in corpora if c != corpus]
    labels = [f.labels for c in others for f in corpora[c]]
    other_scores = [s for c in others for s in scores[c]["ours"]]
    out = {}
    for profile_name, profile in PROFILES.items():
        chosen = sweep(labels, other_scores, profile).threshold
        held = score_at([f.labels for f in corpora[corpus]], scores[corpus]["ours"], profile,
                        chosen)
        out[profile_name] = round(held.normalised, 2)
    return out


def _print_table(scores: dict[str, dict[str, float]]) -> None:
    print(f"  {'detector':38s}" + "".join(f"{p:>20s}" for p in PROFILES))
    for name, by_profile in scores.items():
        print(f"  {name:38s}" + "".join(f"{by_profile[p]:20.2f}" for p in PROFILES))


def print_report(result: dict) -> None:
    """The per-corpus tables, then the pooled one."""
    for corpus, entry in result["corpora"].items():
        print(f"{corpus}: {entry['files']} files, {entry['rows']} rows, "
              f"{entry['windows']} windows")
        _print_table(entry["scores"])
    print("all corpora pooled, one threshold")
    _print_table(result["pooled"])


def main(argv: list[str] | None = None) -> int:
    return bench_main("bench.real_scorers", __doc__.splitlines()[0], DATA, run, print_report,
                      argv)


if __name__ == "__main__":
    sys.exit(main())
