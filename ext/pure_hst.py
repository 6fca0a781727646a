"""Pure-Python twin of `_hst.pyx`: the Half-Space Trees core on flat lists.

Same heap layout, walks and missing-feature rule as the compiled core and as
River, so scores are identical.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np


class HSTCore:
    """Masses and splits of `n_trees` trees of `height` levels, plus the window counter."""

    def _setup_core(self, n_trees: int, height: int, window_size: int) -> None:
        self.n_trees, self.height, self.window_size = n_trees, height, window_size
        self.n_nodes = 2 ** (height + 1) - 1
        self.counter = 0
        self.first_window = True
        self.built = False
        self.features: list[Hashable] = []

    def _install(self, features: list[Hashable], split_on: np.ndarray,
                 thresholds: np.ndarray) -> None:
        """Take trees from `hst.build_trees` for the given (sorted) features."""
        self.features = list(features)
        self.split_on, self.thresholds = split_on, thresholds
        self._splits, self._thresholds = split_on.tolist(), thresholds.tolist()
        self._l = [[0] * self.n_nodes for _ in range(self.n_trees)]
        self._r = [[0] * self.n_nodes for _ in range(self.n_trees)]
        self.built = True

    def _restore(self, l_mass: np.ndarray, r_mass: np.ndarray, counter: int,
                 first_window: bool) -> None:
        """Put back masses and window position saved by `HalfSpaceTreesAPI.__reduce__`."""
        self._l, self._r = np.asarray(l_mass).tolist(), np.asarray(r_mass).tolist()
        self.counter, self.first_window = counter, first_window

    @property
    def l_mass(self) -> np.ndarray:
        return np.array(self._l, np.int32)

    @property
    def r_mass(self) -> np.ndarray:
        return np.array(self._r, np.int32)

    def _child(self, t: int, node: int, values: list[float | None]) -> int:
        value = values[self._splits[t][node]]
        left = 2 * node + 1
        if value is not None:
            return left if value < self._thresholds[t][node] else left + 1
        masses = self._l[t]
        return left + 1 if masses[left] < masses[left + 1] else left

    def _learn(self, values: list[float | None]) -> None:
        for t in range(self.n_trees):
            masses, node = self._l[t], 0
            for _ in range(self.height):
                masses[node] += 1
                node = self._child(t, node, values)
            masses[node] += 1
        self.counter += 1
        if self.counter == self.window_size:
            self._r, self._l = self._l, [[0] * self.n_nodes for _ in range(self.n_trees)]
            self.first_window = False
            self.counter = 0

    def _score(self, values: list[float | None]) -> float:
        size_limit = 0.1 * self.window_size
        total = 0.0
        for t in range(self.n_trees):
            masses, node, depth_pow, tree_score = self._r[t], 0, 1, 0.0
            for _ in range(self.height):
                r = masses[node]
                tree_score += r * depth_pow
                if r < size_limit:
                    break
                node = self._child(t, node, values)
                depth_pow <<= 1
            else:
                tree_score += masses[node] * depth_pow
            total += tree_score
        return 1 - total / (self.n_trees * self.window_size * self.n_nodes)

    def _from_dict(self, x: dict) -> list[float | None]:
        return [float(x[f]) if f in x else None for f in self.features]

    def learn_one(self, x: dict) -> None:
        if not self.built:
            self._build(x)
        self._learn(self._from_dict(x))

    def score_one(self, x: dict) -> float:
        return 0.0 if self.first_window else self._score(self._from_dict(x))

    def _rows(self, X: np.ndarray, columns: np.ndarray, score: bool, learn: bool) -> np.ndarray:
        """Per row: score it (if asked and past the first window), then learn it (if asked)."""
        cols = columns.tolist()
        out = np.zeros(X.shape[0])
        for r, row in enumerate(X.tolist()):
            values = [None if c < 0 or math.isnan(row[c]) else row[c] for c in cols]
            if score and not self.first_window:
                out[r] = self._score(values)
            if learn:
                self._learn(values)
        return out
