# cython: language_level=3, initializedcheck=False
"""Compiled core of Half-Space Trees: heap-ordered trees in flat typed arrays.

Walks and mass updates reproduce `river.anomaly.hst` exactly (including the
missing-feature rule: go to the child with more l_mass, left on ties), so
scores are identical to River's. Three things make it fast:

- one 20-byte record per node, so a step touches one cache line;
- all trees advance one level at a time, so the CPU overlaps their loads;
- River's score of a path only depends on the reference masses (fixed for a
  whole window) along that path, so at each window swap the score of every
  root-to-leaf path is tabulated once; scoring is then "walk to the leaf,
  read the table", and a fused score+learn walk costs about one learn walk.
  The walk to the leaf takes River's path because scoring and learning
  decide missing features on the same l_mass values.

Per-tree scores are sums of integers (exact, as River's float sums of
integer terms are while below 2**53, which the constructor guarantees).
Trees come from `hst.build_trees`; `hst.HalfSpaceTreesAPI` supplies `_build`
and the River-facing parts. Twin: `pure_hst.py`.
"""

import math

import numpy as np

from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.math cimport isnan

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
    cdef long long[:, ::1] _leaf_scores
    cdef long long[::1] _path_sums
    cdef unsigned char[::1] _path_open
    cdef double[::1] _values
    cdef unsigned char[::1] _present
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
        self._leaf_scores = np.zeros((n_trees, 1 << height), np.int64)
        self._path_sums = np.zeros(self.n_nodes, np.int64)
        self._path_open = np.zeros(self.n_nodes, np.uint8)

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

    def _restore(self, l_mass, r_mass, int counter, bint first_window):
        """Put back masses and window position saved by `HalfSpaceTreesAPI.__reduce__`."""
        self.nodes["l"], self.nodes["r"] = l_mass, r_mass
        self.counter, self.first_window = counter, first_window
        if not first_window:
            self._tabulate_leaf_scores()

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

    cdef void _tabulate_leaf_scores(self) noexcept:
        """River's `_walk_score` result for every root-to-leaf path, from the reference masses.

        Top-down over heap order: a node's path sum is its parent's plus
        r * 2**depth while the path is still open, and a path closes below
        the first node whose r is under the stop mass (River returns there).
        """
        cdef Py_ssize_t t, k, parent, depth_start, first_leaf = (1 << self.height) - 1
        cdef int depth
        cdef long long r
        cdef Node* tree
        cdef long long* sums = &self._path_sums[0]
        cdef unsigned char* open_ = &self._path_open[0]
        for t in range(self.n_trees):
            tree = &self._tree[t, 0]
            sums[0] = tree[0].r
            open_[0] = tree[0].r >= self._stop_mass
            depth_start = 1
            for depth in range(1, self.height + 1):
                for k in range(depth_start, 2 * depth_start + 1):
                    parent = (k - 1) >> 1
                    if open_[parent]:
                        r = tree[k].r
                        sums[k] = sums[parent] + (r << depth)
                        open_[k] = r >= self._stop_mass
                    else:
                        sums[k] = sums[parent]
                        open_[k] = 0
                depth_start = 2 * depth_start + 1
            for k in range(first_leaf, self.n_nodes):
                self._leaf_scores[t, k - first_leaf] = sums[k]

    cdef inline double _walk(self, bint score, bint learn) noexcept:
        """Score (River's `_walk_score`) and/or learn (`_walk_learn`) the current sample.

        Scoring before learning in one pass equals River's `score_one(x);
        learn_one(x)`: a missing feature is decided on the children's l_mass,
        which the learn walk has not touched yet at that point.
        """
        cdef Py_ssize_t t, d, k, node, left, first_leaf = (1 << self.height) - 1
        cdef Py_ssize_t n_nodes = self.n_nodes
        cdef double total = 0.0
        cdef bint complete = self._complete
        cdef Node* tree
        cdef Node* at
        cdef Node* all_nodes = &self._tree[0, 0]
        cdef const double* values = &self._values[0]
        cdef const unsigned char* present = &self._present[0]
        cdef Py_ssize_t* nodes = &self._nodes[0]
        for t in range(self.n_trees):
            nodes[t] = 0
        for d in range(self.height):
            tree = all_nodes
            for t in range(self.n_trees):
                node = nodes[t]
                at = tree + node
                if learn:
                    at.l += 1
                left = 2 * node + 1
                if complete or present[at.split]:
                    nodes[t] = left + (not (values[at.split] < at.thr))
                else:
                    nodes[t] = left + (tree[left].l < tree[left + 1].l)
                tree += n_nodes
        for t in range(self.n_trees):
            if learn:
                all_nodes[t * n_nodes + nodes[t]].l += 1
            if score:
                total += <double>self._leaf_scores[t, nodes[t] - first_leaf]
        if learn:
            self.counter += 1
            if self.counter == self.window_size:
                for k in range(self.n_trees * n_nodes):
                    all_nodes[k].r = all_nodes[k].l
                    all_nodes[k].l = 0
                self._tabulate_leaf_scores()
                self.first_window = False
                self.counter = 0
        return 1.0 - total / self._score_scale if score else 0.0

    def learn_one(self, x):
        if type(x) is not dict:
            x = dict(x)
        if not self.built:
            self._build(x)
        self._read_dict(x)
        self._walk(False, True)

    def score_one(self, x):
        if self.first_window:
            return 0.0
        self._read_dict(x if type(x) is dict else dict(x))
        return self._walk(True, False)

    def _rows(self, const double[:, ::1] X, const long[::1] columns, bint score, bint learn):
        out = np.zeros(X.shape[0])
        cdef double[::1] scores = out
        cdef Py_ssize_t r
        for r in range(X.shape[0]):
            self._read_row(X, r, columns)
            scores[r] = self._walk(score and not self.first_window, learn)
        return out
