"""Hot kernels in Cython, with a pure-Python fallback chosen automatically.

API summary (names are stable; every bank holds one area's meters in typed
NumPy arrays, index ``i`` is the meter's slot in the area, NaN = missing
reading and is skipped; ``update`` = one reading, ``update_many`` = one
reading per meter in one call; each bank has ``grow(n)``, ``state_bytes``
(per meter), ``to_bytes()`` / ``Cls.from_bytes(b)`` for Faust tables, and
pickles; both implementations read each other's bytes):

- ``EWStats(n, fading_factor=0.5)``: EW mean/var (= river.stats.EWMean/EWVar);
  ``.means``, ``.variances()``, ``mean(i)``, ``var(i)``.
- ``MeanVar(n, ddof=1)``: running mean/var (= river.stats.Mean/Var).
- ``RollingMeanVar(n, window=8, ddof=1)``: (= utils.Rolling(stats.Var, w)).
- ``SeasonalBaseline(n, n_slots=24, fading_factor=0.1, clip=3.0, warmup=4,
  min_scale=1e-3)``: robust EW level + MAD per slot;
  ``update(i, slot, x) -> z`` / ``update_many(slot, x) -> z array`` score
  *then* learn (z is NaN while warming up); ``expected(slot)``.
- ``PageHinkley(n, min_instances=30, delta=0.005, threshold=50, alpha=0.9999,
  mode="both")`` (= river.drift.PageHinkley): ``update -> bool``,
  ``update_many -> bool array``, ``statistics()``.
- ``Cusum(n, k=0.5, h=5.0)``: two-sided CUSUM of a z-score: ``update -> +1/-1/0``,
  ``update_many -> int8 array``; ``.highs``, ``.lows``.
- ``VoltageQualification(n, lower_v=198.0, upper_v=235.4, dead_v=50.0)``:
  ``set_limits(i, lo, hi)``, ``update -> class`` (constants QUALIFIED=0,
  BELOW=1, ABOVE=2, UNMONITORED=3 exported here), ``update_many -> uint8 array``, ``rates()``,
  ``area_rate()``, ``reset()``; ``.low_runs``, ``.minimums``.
- ``LossAttribution(n, fading_factor=0.1)``:
  ``update_many(loss_increase, expected, actual) -> (kWh per meter, unexplained)``;
  ``.suspicion`` (EW mean of attributed kWh).
- ``HalfSpaceTrees(n_trees=10, height=8, window_size=250, limits=None, seed=None)``:
  drop-in for river.anomaly.HalfSpaceTrees (same trees and scores for a seed;
  a River estimator, usable in pipelines); plus ``learn_many(X, features=None)``,
  ``score_many(X)`` and ``score_learn_many(X) -> scores`` (= score_one then
  learn_one per row) on 2-D float arrays, NaN = missing feature.
- ``ForecastCore(period=24, n_horizons=24, alpha_level, alpha_season, forgetting,
  ridge, quantile_rate)``: one series' online load forecaster (see
  `pure_forecast`): ``learn(slot, x, temp)`` per step (NaN = missing),
  ``forecast(slots) -> (mean, lower, upper)`` for the next steps' week slots.

- ``ContextCore(levels=8, quantile=0.02, quantile_rate=0.01, short=10, long=300,
  sd_floor=0.05, warm=30, probation=100, alarm=0.5, rest=100, quiet_factor=0.25)``:
  one stream's contextual-surprise scorer (`gridwatch score`'s default,
  `detectors.scoring.ContextSurprise`): ``score(x)`` (no state change),
  ``learn(x)``.

``gridwatch.ext.compiled`` / ``gridwatch.ext.fallback`` hold the two
implementations under the same names; ``IMPLEMENTATION`` says which one
``gridwatch.ext`` exported. Benchmark: ``gridwatch bench kernels [--json]``.

Why a fallback: a site that cannot compile (no compiler on a locked-down
host) must still run the same detectors with the same results, only slower.
It is announced once with a warning so nobody benchmarks it by accident;
GRIDWATCH_PURE_PYTHON=1 forces it.
"""

from __future__ import annotations

import os
import warnings

if os.environ.get("GRIDWATCH_PURE_PYTHON") == "1":
    from .fallback import *  # noqa: F403
else:
    try:
        from .compiled import *  # noqa: F403
    except ImportError:  # pragma: no cover - exercised when the extension is not built
        from .fallback import *  # noqa: F403
        warnings.warn("gridwatch.ext: Cython extension not compiled, using the pure-Python "
                      "fallback (same results, slower)", RuntimeWarning, stacklevel=2)

from .fallback import __all__  # noqa: E402,F401
