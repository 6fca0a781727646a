# cython: language_level=3
"""Compiled core of Half-Space Trees: heap-ordered trees in flat typed arrays.

Walks and mass updates mirror `river.anomaly.hst` step for step (including
the missing-feature rule: go to the child with more l_mass, left on ties),
so scores are identical to River's. The walks advance all trees one level
at a time: the trees are independent, so the CPU overlaps their memory
loads instead of waiting on one root-to-leaf chain at a time. Per-tree
scores are summed as integers (exact, as River's float sums of integer
terms are while below 2**53, which the constructor guarantees). Trees come
from `hst.build_trees`; `hst.HalfSpaceTreesAPI` supplies `_build` and the
River-facing parts. Twin: `pure_hst.py`.
"""

import math

import numpy as np

from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.math cimport isnan

# One node = one 20-byte record, so a step of a walk touches one cache line
# instead of four parallel arrays.
NODE_DTYPE = np.dtype([("thr", "f8"), ("split", "i4"), ("l", "i4"), ("r", "i4")])


cdef packed struct Node:
    double thr
    int split
    int l
    int r


cdef class HSTCore:
    """Masses and splits of `n_trees` trees of `height` levels, plus the window counter."""

    cdef readonly int n_trees, height, window_size, counter, n_nodes
    cdef readonly bint first_window, built
    cdef readonly list features
    cdef readonly object nodes, split_on, thresholds, l_mass, r_mass
    cdef Node[:, ::1] _tree
    cdef double[::1] _values
    cdef long long[::1] _tree_sums
    cdef unsigned char[::1] _present
    cdef long long[::1] _scoring
    cdef Py_ssize_t[::1] _nodes
    cdef long long _stop_mass
    cdef bint _complete
    cdef double _score_scale

    def _setup_core(self, int n_trees, int height, int window_size):
        self.n_trees, self.height, self.window_size = n_trees, height, window_size
        self.n_nodes = (1 << (height + 1)) - 1
        self.counter = 0
        self.first_window = True
        self.built = False
        self.features = []
        self._stop_mass = math.ceil(0.1 * window_size)  # r < 0.1 * w  <=>  r < ceil(0.1 * w)
        self._score_scale = <double>(<long long>n_trees * window_size * self.n_nodes)
        self._nodes = np.zeros(n_trees, np.intp)
        self._tree_sums = np.zeros(n_trees, np.int64)
        self._scoring = np.zeros(n_trees, np.int64)

    def _install(self, list features, split_on, thresholds):
        """Take trees from `hst.build_trees` for the given (sorted) features."""
        self.features = list(features)
        self.nodes = np.zeros((self.n_trees, self.n_nodes), NODE_DTYPE)
        self.nodes["split"], self.nodes["thr"] = split_on, thresholds
        self.split_on, self.thresholds = self.nodes["split"], self.nodes["thr"]
        self.l_mass, self.r_mass = self.nodes["l"], self.nodes["r"]
        self._tree = self.nodes
        self._values = np.zeros(max(len(features), 1))
        self._present = np.zeros(max(len(features), 1), np.uint8)
        self.built = True

    cdef inline void _read_dict(self, dict x) except *:
        cdef Py_ssize_t j
        cdef PyObject* item
        self._complete = True
        for j in range(len(self.features)):
            item = PyDict_GetItem(x, self.features[j])
            if item is NULL:
                self._present[j] = 0
                self._complete = False
            else:
                self._present[j] = 1
                self._values[j] = <object>item

    cdef inline void _read_row(self, const double[:, ::1] X, Py_ssize_t r,
                               const long[::1] columns) noexcept:
        cdef Py_ssize_t j
        cdef long c
        self._complete = True
        for j in range(columns.shape[0]):
            c = columns[j]
            if c < 0 or isnan(X[r, c]):
                self._present[j] = 0
                self._complete = False
            else:
                self._present[j] = 1
                self._values[j] = X[r, c]

    cdef inline double _walk(self, bint score, bint learn) noexcept:
        """Score (River's `_walk_score`) and/or learn (`_walk_learn`) the current sample.

        Both walks take the same path: a missing feature is decided on the
        children's l_mass, which the learn walk has not touched yet at that
        point, so scoring then learning in one pass equals River's
        `score_one(x); learn_one(x)`.
        """
        cdef Py_ssize_t t, d, k, node, left
        cdef Py_ssize_t n_nodes = self.n_nodes
        cdef long long r, depth_pow = 1, stop_mass = self._stop_mass
        cdef long long any_scoring
        cdef bint complete = self._complete
        cdef double total = 0.0
        cdef Node* tree
        cdef Node* at
        cdef Node* all_nodes = &self._tree[0, 0]
        cdef const double* values = &self._values[0]
        cdef const unsigned char* present = &self._present[0]
        cdef Py_ssize_t* nodes = &self._nodes[0]
        cdef long long* sums = &self._tree_sums[0]
        cdef long long* scoring = &self._scoring[0]
        for t in range(self.n_trees):
            nodes[t], sums[t], scoring[t] = 0, 0, score
        d = 0
        # Phase 1, while some tree still scores: score (branch-free), learn, descend.
        while score and d < self.height:
            any_scoring = 0
            tree = all_nodes
            for t in range(self.n_trees):
                node = nodes[t]
                at = tree + node
                r = at.r
                sums[t] += (r * depth_pow) & -scoring[t]
                scoring[t] &= r >= stop_mass
                any_scoring |= scoring[t]
                if learn:
                    at.l += 1
                left = 2 * node + 1
                if complete or present[at.split]:
                    nodes[t] = left + (not (values[at.split] < at.thr))
                else:
                    nodes[t] = left + (tree[left].l < tree[left + 1].l)
                tree += n_nodes
            depth_pow <<= 1
            d += 1
            if not any_scoring:
                break
        # Phase 2, every tree done scoring: learn and descend only.
        while learn and d < self.height:
            tree = all_nodes
            for t in range(self.n_trees):
                node = nodes[t]
                at = tree + node
                at.l += 1
                left = 2 * node + 1
                if complete or present[at.split]:
                    nodes[t] = left + (not (values[at.split] < at.thr))
                else:
                    nodes[t] = left + (tree[left].l < tree[left + 1].l)
                tree += n_nodes
            d += 1
        for t in range(self.n_trees):
            at = all_nodes + t * n_nodes + nodes[t]
            if learn:
                at.l += 1
            sums[t] += (at.r * depth_pow) & -scoring[t]
            total += <double>sums[t]
        if learn:
            self.counter += 1
            if self.counter == self.window_size:
                for k in range(self.n_trees * n_nodes):
                    all_nodes[k].r = all_nodes[k].l
                    all_nodes[k].l = 0
                self.first_window = False
                self.counter = 0
        return 1.0 - total / self._score_scale if score else 0.0

    def learn_one(self, dict x):
        if not self.built:
            self._build(x)
        self._read_dict(x)
        self._walk(False, True)

    def score_one(self, dict x):
        if self.first_window:
            return 0.0
        self._read_dict(x)
        return self._walk(True, False)

    def _rows(self, const double[:, ::1] X, const long[::1] columns, bint score, bint learn):
        out = np.zeros(X.shape[0])
        cdef double[::1] scores = out
        cdef Py_ssize_t r
        for r in range(X.shape[0]):
            self._read_row(X, r, columns)
            scores[r] = self._walk(score and not self.first_window, learn)
        return out
