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


cdef class HSTCore:
    """Masses and splits of `n_trees` trees of `height` levels, plus the window counter."""

    cdef readonly int n_trees, height, window_size, counter, n_nodes
    cdef readonly bint first_window, built
    cdef readonly list features
    cdef readonly object split_on, thresholds, l_mass, r_mass
    cdef int[:, ::1] _split, _l, _r
    cdef double[:, ::1] _thr
    cdef double[::1] _values
    cdef long long[::1] _tree_sums
    cdef unsigned char[::1] _present, _scoring
    cdef Py_ssize_t[::1] _nodes
    cdef long long _stop_mass
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
        self._scoring = np.zeros(n_trees, np.uint8)

    def _install(self, list features, split_on, thresholds):
        """Take trees from `hst.build_trees` for the given (sorted) features."""
        self.features = list(features)
        self.split_on, self.thresholds = split_on, thresholds
        self.l_mass = np.zeros((self.n_trees, self.n_nodes), np.int32)
        self.r_mass = np.zeros((self.n_trees, self.n_nodes), np.int32)
        self._split, self._thr, self._l, self._r = split_on, thresholds, self.l_mass, self.r_mass
        self._values = np.zeros(max(len(features), 1))
        self._present = np.zeros(max(len(features), 1), np.uint8)
        self.built = True

    cdef inline void _read_dict(self, dict x) except *:
        cdef Py_ssize_t j
        cdef PyObject* item
        for j in range(len(self.features)):
            item = PyDict_GetItem(x, self.features[j])
            if item is NULL:
                self._present[j] = 0
            else:
                self._present[j] = 1
                self._values[j] = <object>item

    cdef inline void _read_row(self, const double[:, ::1] X, Py_ssize_t r,
                               const long[::1] columns) noexcept:
        cdef Py_ssize_t j
        cdef long c
        for j in range(columns.shape[0]):
            c = columns[j]
            if c < 0 or isnan(X[r, c]):
                self._present[j] = 0
            else:
                self._present[j] = 1
                self._values[j] = X[r, c]

    cdef double _walk(self, bint score, bint learn) noexcept:
        """Score (River's `_walk_score`) and/or learn (`_walk_learn`) the current sample.

        Both walks take the same path: a missing feature is decided on the
        children's l_mass, which the learn walk has not touched yet at that
        point, so scoring then learning in one pass equals River's
        `score_one(x); learn_one(x)`.
        """
        cdef Py_ssize_t t, d, k, node, left, base
        cdef Py_ssize_t n_nodes = self.n_nodes
        cdef long long r, depth_pow = 1
        cdef double total = 0.0
        cdef int* mass = &self._l[0, 0]
        cdef const int* reference = &self._r[0, 0]
        cdef const int* split = &self._split[0, 0]
        cdef const double* thr = &self._thr[0, 0]
        cdef const double* values = &self._values[0]
        cdef const unsigned char* present = &self._present[0]
        cdef Py_ssize_t* nodes = &self._nodes[0]
        cdef long long* sums = &self._tree_sums[0]
        cdef unsigned char* scoring = &self._scoring[0]
        for t in range(self.n_trees):
            nodes[t], sums[t], scoring[t] = 0, 0, score
        for d in range(self.height):
            for t in range(self.n_trees):
                base = t * n_nodes
                node = nodes[t]
                if scoring[t]:
                    r = reference[base + node]
                    sums[t] += r * depth_pow
                    if r < self._stop_mass:
                        scoring[t] = 0
                        if not learn:
                            continue
                elif not learn:
                    continue
                if learn:
                    mass[base + node] += 1
                left = 2 * node + 1
                if present[split[base + node]]:
                    nodes[t] = left + (not (values[split[base + node]] < thr[base + node]))
                else:
                    nodes[t] = left + (mass[base + left] < mass[base + left + 1])
            depth_pow <<= 1
        for t in range(self.n_trees):
            if learn:
                mass[t * n_nodes + nodes[t]] += 1
            if scoring[t]:
                sums[t] += reference[t * n_nodes + nodes[t]] * depth_pow
            total += <double>sums[t]
        if learn:
            self.counter += 1
            if self.counter == self.window_size:
                for t in range(self.n_trees):
                    for k in range(n_nodes):
                        self._r[t, k] = self._l[t, k]
                        self._l[t, k] = 0
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
