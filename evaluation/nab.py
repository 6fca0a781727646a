"""NAB (Numenta Anomaly Benchmark) scoring, written from its published description.

Why NAB: it is the public labelled benchmark for *streaming* detectors, and
its score rewards what an operator wants: an alert early in an anomaly,
few false alarms, no missed anomaly. The rule, as NAB publishes it:

1. Each labelled anomaly is a *window* of rows (``labels/combined_windows.json``
   gives start and end timestamps, both inclusive). Data labelled per row
   gets its windows from `windows_from_labels`, by NAB's own labelling rule.
2. A row is a *detection* when the detector's score is >= a threshold.
3. A row's weight is the scaled sigmoid ``sigma(y) = 2 / (1 + exp(5 y)) - 1``
   (``-1`` when ``y > 3``) of its position ``y`` relative to the right end of a
   window, in window lengths: inside a window ``y = -(right - i + 1) / width``
   runs from -1 at the first row (``sigma`` ~ +0.987) to about 0 at the last;
   after a window ``y = (i - right) / width`` is positive, so a detection just
   past a window is barely penalised and one far past it costs the full
   weight. Rows before any window get ``sigma = -1``.
4. Per window only its earliest detection counts: ``A_TP * sigma``; a window
   without any detection costs ``-A_FN``; every detection outside windows
   adds ``A_FP * sigma`` (negative). Detections after the first in a window
   are neither rewarded nor penalised.
5. The first 15 % of each file (at most 15 % of 5000 rows) is the
   *probationary period*: a detector is still learning there, so those rows
   are not scored at all.
6. The raw score of a corpus is the sum over files. It is normalised as
   ``100 * (raw - null) / (perfect - null)`` where ``null`` is the raw score of
   the null detector (never detects: ``-A_FN`` per window) and ``perfect`` is
   ``A_TP`` per window (full credit for every window), so the null detector
   scores 0 and a detector that flags every window at its first row about 99.
7. The threshold is chosen per detector and per profile by sweeping it over
   every distinct score the detector produced on the corpus and keeping the
   best total (NAB optimises the threshold on the whole corpus the same way);
   the score reported is at that threshold.

Application profiles (NAB's cost matrices): ``standard`` (A_TP 1, A_FP 0.11,
A_FN 1), ``reward_low_FP_rate`` (A_FP 0.22) and ``reward_low_FN_rate`` (A_FN 2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 5000   # the fraction applies to at most this many rows
FAR_PAST_WINDOW = 3.0       # beyond this many window lengths past a window, sigma = -1
WINDOW_FRACTION = 0.10      # all windows of a file together span this share of its rows


@dataclass(frozen=True)
class Profile:
    """An application profile: how much a hit, a false alarm and a miss weigh."""

    a_tp: float
    a_fp: float
    a_fn: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(a_tp=1.0, a_fp=0.11, a_fn=1.0),
    "reward_low_FP_rate": Profile(a_tp=1.0, a_fp=0.22, a_fn=1.0),
    "reward_low_FN_rate": Profile(a_tp=1.0, a_fp=0.11, a_fn=2.0),
}


def scaled_sigmoid(position: float) -> float:
    """NAB's weight of a detection at ``position`` window lengths from a window's right end.

    >>> round(scaled_sigmoid(-1.0), 4), scaled_sigmoid(0.0), scaled_sigmoid(3.5)
    (0.9866, 0.0, -1.0)
    """
    if position > FAR_PAST_WINDOW:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_rows(n_rows: int) -> int:
    """Rows at the start of a file that are not scored (15 %, capped at 750).

    >>> probation_rows(1000), probation_rows(20000)
    (150, 750)
    """
    return int(math.floor(PROBATION_FRACTION * min(n_rows, PROBATION_CAP_ROWS)))


@dataclass(frozen=True)
class LabelledFile:
    """One data file's row weights: which window each scored row is in, and its sigma.

    ``window[i]`` is the index of the window row ``i`` belongs to (numbered
    within the file) or -1 outside windows; ``sigma[i]`` its scaled sigmoid;
    ``scored[i]`` is False in the probationary period.
    """

    name: str
    window: np.ndarray
    sigma: np.ndarray
    scored: np.ndarray
    n_windows: int


def window_bounds(timestamps: Sequence[datetime],
                  windows: Iterable[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """Row index ranges [first, last] of each window, in time order.

    A window that holds no row of the file is an error: it would be an
    anomaly no detector can find, so the data or the labels are wrong.
    """
    stamps = np.array(timestamps, dtype="datetime64[us]")
    bounds = []
    for start, end in sorted(windows):
        first = int(np.searchsorted(stamps, np.datetime64(start, "us"), side="left"))
        last = int(np.searchsorted(stamps, np.datetime64(end, "us"), side="right")) - 1
        if last < first:
            raise ValueError(f"window {start} .. {end} holds no row of the data")
        bounds.append((first, last))
    return bounds


def label_rows(name: str, timestamps: Sequence[datetime],
               windows: Iterable[tuple[datetime, datetime]]) -> LabelledFile:
    """Compute every row's window and sigma for one file (independent of any detector).

    >>> from datetime import timedelta
    >>> t0 = datetime(2020, 1, 1)
    >>> ts = [t0 + timedelta(minutes=i) for i in range(100)]
    >>> f = label_rows("x", ts, [(ts[50], ts[59])])
    >>> int(f.window[49]), int(f.window[50]), round(float(f.sigma[50]), 3), float(f.sigma[10])
    (-1, 0, 0.987, -1.0)
    """
    return rows_in_windows(name, len(timestamps), window_bounds(timestamps, windows))


def windows_from_labels(labels: Sequence[int] | np.ndarray) -> list[tuple[int, int]]:
    """NAB windows [first, last] (row indices) from per-row 0/1 labels.

    NAB's labelling rule: the window length is 10 % of the file's rows divided
    by the number of anomalies; each window is centred on its anomaly. Here an
    anomaly is a labelled span: a span shorter than the window is widened
    to it, centred on the span (clipped at the file's ends); a longer span is
    kept as it is. Windows that then touch or overlap merge into one.

    >>> labels = np.zeros(1000, dtype=int); labels[500:510] = 1
    >>> windows_from_labels(labels)
    [(455, 554)]
    >>> labels[520] = 1  # two anomalies: windows of 50 rows, which overlap and merge
    >>> windows_from_labels(labels)
    [(480, 545)]
    """
    flags = np.asarray(labels) > 0
    n = int(flags.size)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    spans = list(zip(edges[0::2].tolist(), (edges[1::2] - 1).tolist(), strict=True))
    if not spans:
        return []
    size = int(WINDOW_FRACTION * n / len(spans))
    widened = []
    for first, last in spans:
        extra = max(size - (last - first + 1), 0)
        widened.append((max(first - extra // 2, 0), min(last + extra - extra // 2, n - 1)))
    merged = [widened[0]]
    for first, last in widened[1:]:
        if first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def rows_in_windows(name: str, n: int, bounds: Sequence[tuple[int, int]]) -> LabelledFile:
    """Every row's window and sigma for a file of `n` rows with windows at row `bounds`.

    >>> f = rows_in_windows("x", 100, [(50, 59)])
    >>> int(f.window[49]), int(f.window[50]), round(float(f.sigma[50]), 3), float(f.sigma[10])
    (-1, 0, 0.987, -1.0)
    """
    window = np.full(n, -1, dtype=np.int64)
    sigma = np.full(n, -1.0)
    for k, (first, last) in enumerate(bounds):
        width = last - first + 1
        for i in range(first, last + 1):
            window[i] = k
            sigma[i] = scaled_sigmoid(-(last - i + 1) / width)
        following = bounds[k + 1][0] if k + 1 < len(bounds) else n
        for i in range(last + 1, following):
            sigma[i] = scaled_sigmoid((i - last) / width)
    scored = np.ones(n, dtype=bool)
    scored[:probation_rows(n)] = False
    return LabelledFile(name, window, sigma, scored, len(bounds))


@dataclass(frozen=True)
class SweepResult:
    """The best threshold of one detector under one profile, and what it scored."""

    threshold: float
    raw: float
    null: float
    perfect: float
    tp: int
    fp: int
    fn: int

    @property
    def normalised(self) -> float:
        """NAB score: 0 for the null detector, 100 for full credit on every window."""
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def sweep(files: Sequence[LabelledFile], scores: Sequence[np.ndarray],
          profile: Profile) -> SweepResult:
    """Best corpus score over all thresholds (each distinct score; above the max = null).

    Lowering the threshold turns rows into detections in order of falling
    score; each such row either adds its false-alarm cost or may become the
    earliest detection of its window, so one pass over the sorted rows gives
    the total at every threshold.

    >>> from datetime import timedelta
    >>> ts = [datetime(2020, 1, 1) + timedelta(minutes=i) for i in range(100)]
    >>> f = label_rows("x", ts, [(ts[50], ts[59])])
    >>> s = np.zeros(100); s[50] = 0.9; s[80] = 0.5
    >>> r = sweep([f], [s], PROFILES["standard"])
    >>> r.threshold, r.tp, r.fp, r.fn, round(r.normalised, 1)
    (0.9, 1, 0, 0, 99.3)
    """
    if len(files) != len(scores):
        raise ValueError("one score array per file is needed")
    win_ids, sigmas, values = [], [], []
    offset = 0
    for f, s in zip(files, scores, strict=True):
        s = np.asarray(s, dtype=float)
        if s.shape != f.window.shape:
            raise ValueError(f"{f.name}: {s.shape[0]} scores for {f.window.shape[0]} rows")
        keep = f.scored
        win_ids.append(np.where(f.window[keep] >= 0, f.window[keep] + offset, -1))
        sigmas.append(f.sigma[keep])
        values.append(s[keep])
        offset += f.n_windows
    n_windows = offset
    win = np.concatenate(win_ids) if win_ids else np.zeros(0, dtype=np.int64)
    sig = np.concatenate(sigmas) if sigmas else np.zeros(0)
    val = np.concatenate(values) if values else np.zeros(0)
    null = -profile.a_fn * n_windows
    perfect = profile.a_tp * n_windows
    order = np.argsort(-val, kind="stable").tolist()
    win_list, sig_list, val_list = win.tolist(), sig.tolist(), val.tolist()
    best_sigma = [-math.inf] * n_windows
    total, tp, fp = null, 0, 0
    best = SweepResult(math.inf, null, null, perfect, 0, 0, n_windows)
    i = 0
    while i < len(order):
        level = val_list[order[i]]
        while i < len(order) and val_list[order[i]] == level:
            row = order[i]
            w, weight = win_list[row], sig_list[row]
            if w < 0:
                total += profile.a_fp * weight
                fp += 1
            elif best_sigma[w] == -math.inf:
                total += profile.a_fn + profile.a_tp * weight
                best_sigma[w] = weight
                tp += 1
            elif weight > best_sigma[w]:
                total += profile.a_tp * (weight - best_sigma[w])
                best_sigma[w] = weight
            i += 1
        if total > best.raw:
            best = SweepResult(level, total, null, perfect, tp, fp, n_windows - tp)
    return best


def score_at(files: Sequence[LabelledFile], scores: Sequence[np.ndarray], profile: Profile,
             threshold: float) -> SweepResult:
    """Corpus score at a fixed threshold (e.g. one chosen on other files).

    >>> from datetime import timedelta
    >>> ts = [datetime(2020, 1, 1) + timedelta(minutes=i) for i in range(100)]
    >>> f = label_rows("x", ts, [(ts[50], ts[59])])
    >>> s = np.zeros(100); s[50] = 0.9; s[80] = 0.5
    >>> r = score_at([f], [s], PROFILES["standard"], 0.5)
    >>> r.tp, r.fp, r.fn
    (1, 1, 0)
    """
    total, tp, fp, n_windows = 0.0, 0, 0, 0
    for f, s in zip(files, scores, strict=True):
        detected = f.scored & (np.asarray(s, dtype=float) >= threshold)
        outside = detected & (f.window < 0)
        fp += int(outside.sum())
        total += profile.a_fp * float(f.sigma[outside].sum())
        for w in range(f.n_windows):
            hits = np.flatnonzero(detected & (f.window == w))
            if hits.size:
                tp += 1
                total += profile.a_tp * float(f.sigma[hits[0]])
            else:
                total -= profile.a_fn
        n_windows += f.n_windows
    null = -profile.a_fn * n_windows
    return SweepResult(threshold, total, null, profile.a_tp * n_windows, tp, fp, n_windows - tp)


def load_windows(path: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    """Read NAB's ``combined_windows.json``: file (``category/name.csv``) -> windows."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read NAB windows: {exc}") from exc
    out = {}
    for name, windows in raw.items():
        try:
            out[name] = [(_stamp(a), _stamp(b)) for a, b in windows]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: windows of {name!r} are not [start, end] pairs: "
                             f"{exc}") from exc
    return out


def _stamp(text: str) -> datetime:
    """NAB timestamps: 'YYYY-MM-DD HH:MM:SS' with optional fraction."""
    return datetime.fromisoformat(text.strip())
