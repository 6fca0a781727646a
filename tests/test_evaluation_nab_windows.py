"""NAB windows derived from per-row labels (`windows_from_labels`, `rows_in_windows`)."""

from __future__ import annotations

import numpy as np

from gridwatch.evaluation.nab import rows_in_windows, windows_from_labels


def labels(n: int, *spans: tuple[int, int]) -> np.ndarray:
    out = np.zeros(n, dtype=int)
    for first, last in spans:
        out[first:last + 1] = 1
    return out


def test_no_labels_no_windows():
    assert windows_from_labels(np.zeros(500, dtype=int)) == []


def test_short_span_is_widened_to_the_nab_size_and_centred():
    (first, last), = windows_from_labels(labels(2000, (1000, 1000)))
    assert last - first + 1 == 200
    assert abs((first + last) / 2 - 1000) <= 1


def test_long_span_is_kept_and_edges_clip():
    assert windows_from_labels(labels(1000, (100, 399))) == [(100, 399)]
    assert windows_from_labels(labels(1000, (0, 0))) == [(0, 50)]


def test_window_size_divides_by_the_number_of_anomalies():
    windows = windows_from_labels(labels(4000, (500, 500), (2000, 2000), (3500, 3500)))
    assert [last - first + 1 for first, last in windows] == [133, 133, 133]


def test_overlapping_windows_merge_and_rows_are_weighted():
    windows = windows_from_labels(labels(1000, (500, 500), (530, 530)))
    assert windows == [(476, 555)]
    f = rows_in_windows("x", 1000, windows)
    assert f.n_windows == 1 and (f.window[476:556] == 0).all() and f.window[475] == -1
    assert f.sigma[476] > 0.98 and f.sigma[700] < 0
