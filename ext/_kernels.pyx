# cython: language_level=3
"""Compiled kernels; each has a pure-Python twin in `fallback.py` with the same results."""

import numpy as np
cimport numpy as cnp


def count_below(const double[::1] values, double limit):
    """Number of values strictly below `limit` (the voltage qualification inner loop)."""
    cdef Py_ssize_t i, n = values.shape[0]
    cdef Py_ssize_t count = 0
    for i in range(n):
        if values[i] < limit:
            count += 1
    return count
