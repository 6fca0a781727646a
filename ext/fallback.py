"""Pure-Python twins of the Cython kernels, used when the extension is not built."""

from __future__ import annotations

from collections.abc import Sequence


def count_below(values: Sequence[float], limit: float) -> int:
    """Number of values strictly below `limit`.

    >>> count_below([190.0, 199.0, 221.0], 198.0)
    1
    """
    return sum(1 for v in values if v < limit)
