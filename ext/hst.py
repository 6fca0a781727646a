"""Half-Space Trees: a drop-in for `river.anomaly.HalfSpaceTrees` with a flat-array core.

Why this split: River builds each tree from `random.Random(seed)` draws the
first time it learns. Those draws are replayed here in Python, in River's
exact order, so the same seed gives the very same trees; the trees are then
laid out in heap order (children of node k at 2k+1 and 2k+2) in typed
arrays, and the walks run in a core that is either compiled (`_hst.pyx`) or
pure Python (`pure_hst.py`), with identical scores. The final classes are
River estimators, so they work in River pipelines and `clone()` like the
original; the core is a base class (not a wrapped object) so `learn_one`
and `score_one` cost one call, not two.
"""

from __future__ import annotations

import collections
import functools
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import checks

PADDING = 0.15


def heap_size(height: int) -> int:
    """Nodes of a full binary tree with `height + 1` levels."""
    return 2 ** (height + 1) - 1


def build_trees(features: Sequence[Hashable], limits: Mapping[Hashable, tuple[float, float]],
                n_trees: int, height: int,
                rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Split feature (index into `features`) and threshold of every node, River's draws replayed.

    Mirrors `river.tree.padded.make_padded_tree`: per node, a feature drawn
    with weight equal to its range, a threshold uniform in the padded range,
    then the left subtree, then the right one (pre-order), sharing one rng.
    """
    split_on = np.full((n_trees, heap_size(height)), -1, np.int32)
    thresholds = np.zeros((n_trees, heap_size(height)))
    position = {name: j for j, name in enumerate(features)}
    for tree in range(n_trees):
        bounds = {name: limits[name] for name in features}
        _grow(bounds, height, 0, rng, position, split_on[tree], thresholds[tree])
    return split_on, thresholds


def _grow(bounds: dict, height: int, node: int, rng: random.Random, position: dict,
          split_on: np.ndarray, thresholds: np.ndarray) -> None:
    if height == 0:
        return
    on = rng.choices(population=list(bounds.keys()),
                     weights=[bounds[i][1] - bounds[i][0] for i in bounds])[0]
    a, b = bounds[on][0], bounds[on][1]
    at = rng.uniform(a + PADDING * (b - a), b - PADDING * (b - a))
    split_on[node], thresholds[node] = position[on], at
    saved = bounds[on]
    bounds[on] = (saved[0], at)
    _grow(bounds, height - 1, 2 * node + 1, rng, position, split_on, thresholds)
    bounds[on] = (at, saved[1])
    _grow(bounds, height - 1, 2 * node + 2, rng, position, split_on, thresholds)
    bounds[on] = saved


class HalfSpaceTreesAPI:
    """Half-Space Trees with River's parameters, trees and scores, and NumPy batch methods.

    The River-facing half of the class: `compiled.HalfSpaceTrees` and
    `fallback.HalfSpaceTrees` combine it with their core (which supplies
    `learn_one` / `score_one`) and River's `AnomalyDetector` base.

    `learn_many` / `score_many` take a 2-D float array whose columns are
    `features` (default: the features the trees were built on, or column
    indices 0..d-1 if no tree exists yet); NaN marks a missing value.

    >>> from gridwatch.ext import fallback
    >>> hst = fallback.HalfSpaceTrees(n_trees=5, height=3, window_size=3, seed=42)
    >>> for x in [0.5, 0.45, 0.43]:
    ...     hst.learn_one({'x': x})
    >>> for x in [0.5, 0.45, 0.43, 0.44, 0.445, 0.45, 0.0]:
    ...     hst.learn_one({'x': x})
    ...     print(f'{hst.score_one({"x": x}):.3f}')
    0.107
    0.071
    0.107
    0.107
    0.107
    0.071
    0.853
    """

    def __init__(self, n_trees: int = 10, height: int = 8, window_size: int = 250,
                 limits: dict[Hashable, tuple[float, float]] | None = None,
                 seed: int | None = None) -> None:
        checks.positive_int("n_trees", n_trees)
        checks.positive_int("height", height, minimum=0)
        checks.positive_int("window_size", window_size)
        if window_size * 2 ** (height + 1) >= 2**53:
            raise ValueError("window_size * 2**(height + 1) must stay below 2**53 so that "
                             "tree masses and scores are exact")
        self._setup_core(n_trees, height, window_size)
        self.limits: collections.defaultdict = collections.defaultdict(
            functools.partial(tuple, (0.0, 1.0)))
        if limits is not None:
            self.limits.update(limits)
        self.seed = seed
        self.rng = random.Random(seed)
        self._column_key: tuple | None = None
        self._column_map = np.zeros(0, np.int64)

    @property
    def size_limit(self) -> float:
        """Mass under which the scoring walk stops (0.1 * window_size, from the paper)."""
        return 0.1 * self.window_size

    @property
    def _max_score(self) -> int:
        return self.n_trees * self.window_size * (2 ** (self.height + 1) - 1)

    @property
    def _first_window(self) -> bool:
        return self.first_window

    def _build(self, features: Iterable[Hashable]) -> None:
        """Grow the trees on the sorted features of the first sample, as River does."""
        ordered = sorted(features)
        split_on, thresholds = build_trees(ordered, self.limits, self.n_trees, self.height,
                                           self.rng)
        self._install(ordered, split_on, thresholds)

    def _columns(self, X: np.ndarray, features: Sequence[Hashable] | None) -> tuple:
        rows = np.ascontiguousarray(X, dtype=np.float64)
        if rows.ndim != 2:
            raise ValueError(f"X must be a 2-D array (samples x features), got shape {rows.shape}")
        if features is not None:
            names = list(features)
        elif self.built:
            names = list(self.features)
        else:
            names = list(range(rows.shape[1]))
        if len(names) != rows.shape[1]:
            raise ValueError(f"X has {rows.shape[1]} columns but {len(names)} feature names")
        if not self.built:
            self._build(names)
        key = tuple(names)
        if self._column_key != key:
            where = {name: j for j, name in enumerate(names)}
            self._column_key = key
            self._column_map = np.array([where.get(f, -1) for f in self.features], np.int64)
        return rows, self._column_map

    def learn_many(self, X: np.ndarray, features: Sequence[Hashable] | None = None) -> None:
        """Learn the rows of X in order (window swaps happen mid-batch as in learn_one)."""
        self._rows(*self._columns(X, features), False, True)

    def score_many(self, X: np.ndarray,
                   features: Sequence[Hashable] | None = None) -> np.ndarray:
        """Score every row of X against the current model (no learning in between)."""
        if not self.built:
            return np.zeros(np.asarray(X).shape[0])
        return self._rows(*self._columns(X, features), True, False)

    def score_learn_many(self, X: np.ndarray,
                         features: Sequence[Hashable] | None = None) -> np.ndarray:
        """Score each row then learn it, exactly River's `score_one(x); learn_one(x)` loop.

        This is what a streaming detector does with every batch; one fused walk
        per tree serves both steps because they follow the same path.
        """
        return self._rows(*self._columns(X, features), True, True)

    def __reduce__(self) -> tuple:
        """Pickle / deepcopy support: parameters, rng position, trees and masses."""
        params = {"n_trees": self.n_trees, "height": self.height,
                  "window_size": self.window_size, "limits": dict(self.limits),
                  "seed": self.seed}
        trees = None
        if self.built:
            trees = (list(self.features), np.array(self.split_on), np.array(self.thresholds),
                     np.array(self.l_mass), np.array(self.r_mass), self.counter,
                     self.first_window)
        return _rebuild, (type(self), params, self.rng.getstate(), trees)

    @property
    def state_bytes(self) -> int:
        """Bytes of tree state: split feature, threshold and both masses of every node."""
        if not self.built:
            return 0
        return sum(a.nbytes for a in (self.split_on, self.thresholds, self.l_mass, self.r_mass))


def _rebuild(cls: type, params: dict, rng_state: tuple, trees: tuple | None) -> Any:
    """Inverse of `HalfSpaceTreesAPI.__reduce__`."""
    model = cls(**params)
    model.rng.setstate(rng_state)
    if trees is not None:
        features, split_on, thresholds, l_mass, r_mass, counter, first_window = trees
        model._install(features, split_on, thresholds)
        model._restore(l_mass, r_mass, counter, first_window)
    return model
