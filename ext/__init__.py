"""Hot kernels in Cython, with a pure-Python fallback chosen automatically.

Why a fallback: a site that cannot compile (no compiler on a locked-down
host) must still run the same detectors with the same results, only slower.
The fallback is announced once with a warning so nobody benchmarks it by
accident.
"""

from __future__ import annotations

import warnings

try:
    from gridwatch.ext._kernels import count_below
    COMPILED = True
except ImportError:  # pragma: no cover - exercised when the extension is not built
    from gridwatch.ext.fallback import count_below
    COMPILED = False
    warnings.warn("gridwatch.ext: Cython extension not compiled, using the pure-Python "
                  "fallback (same results, slower)", RuntimeWarning, stacklevel=2)

__all__ = ["COMPILED", "count_below"]
