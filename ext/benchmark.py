"""Kernel benchmark: River and our kernels on the same streams, in one process.

Why one process and one run: ratios are only meaningful when both sides see
the same machine state, so every kernel is timed River-single, ours-single
and ours-batch back to back, and the ratios are taken from those three
numbers. Parity is measured on a separate, untimed pass where River, our
single-reading path and our batch path consume identical data.

"single" = one reading per call (River's `update` / `learn_one`+`score_one`,
our `update(i, x)`), "batch" = one call per area interval (`update_many`
over `BATCH_METERS` meters, or HST `score_learn_many` over a batch of rows).
Where River has no equivalent (CUSUM, voltage qualification, loss
attribution) the baseline is our own pure-Python fallback, and the entry
says so in "baseline".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from river import anomaly, drift, stats, utils

from . import compiled, fallback

SINGLE_METERS, SINGLE_ROWS = 100, 100
BATCH_METERS, BATCH_ROWS = 256, 1000
HST_SAMPLES, HST_BATCH = 3000, 256
SEASONAL_SLOTS = 24

TARGETS = {"hst_ratio": 30.0, "hst_batch_ratio": 100.0, "per_meter_ratio": 10.0,
           "per_meter_batch_ops": 2e6, "per_meter_state_bytes": 1024}


@dataclass
class Case:
    """One kernel's three timed workloads, its parity check and its state size."""

    name: str
    baseline: str
    river_pass: Callable[[], int]
    ours_pass: Callable[[], int] | None
    batch_pass: Callable[[], int]
    parity: Callable[[], float]
    state_bytes: int
    per_meter: bool = True


def ops_per_second(work: Callable[[], int], budget: float) -> float:
    """Repeat `work` (which returns how many readings it processed) for about `budget` s."""
    done, start = 0, time.process_time()
    while True:
        done += work()
        elapsed = time.process_time() - start
        if elapsed >= budget:
            return done / elapsed


def _readings(seed: int, rows: int, meters: int, shift: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.normal(1.0, 0.3, (rows, meters))
    if shift:
        data[rows // 2:] += 1.5
    return data


def _bank_case(name: str, baseline: str, make_river: Callable[[], Any],
               river_updates: Callable[[Any], tuple], make_ours: Callable[[int], Any],
               compare: Callable[[Any, Any, int], float], shift: bool = False) -> Case:
    """A per-meter kernel whose River equivalent is one object (or a pair) per meter.

    `river_updates(obj)` gives the bound `update` methods one reading goes to,
    so River's loop pays no wrapper call that ours does not.
    """
    single = _readings(1, SINGLE_ROWS, SINGLE_METERS, shift).tolist()
    batch = _readings(2, BATCH_ROWS, BATCH_METERS, shift)
    river_objs = [make_river() for _ in range(SINGLE_METERS)]
    ours_single, ours_batch = make_ours(SINGLE_METERS), make_ours(BATCH_METERS)
    firsts = [river_updates(obj)[0] for obj in river_objs]
    seconds = [river_updates(obj)[-1] for obj in river_objs]
    paired = len(river_updates(river_objs[0])) == 2

    def river_pass() -> int:
        for row in single:
            if paired:
                for first, second, x in zip(firsts, seconds, row, strict=True):
                    first(x)
                    second(x)
            else:
                for first, x in zip(firsts, row, strict=True):
                    first(x)
        return SINGLE_ROWS * SINGLE_METERS

    def ours_pass() -> int:
        update = ours_single.update
        for row in single:
            for i, x in enumerate(row):
                update(i, x)
        return SINGLE_ROWS * SINGLE_METERS

    def batch_pass() -> int:
        update_many = ours_batch.update_many
        for row in batch:
            update_many(row)
        return BATCH_ROWS * BATCH_METERS

    def parity() -> float:
        data = _readings(3, 400, 8, shift)
        objs, one, many = [make_river() for _ in range(8)], make_ours(8), make_ours(8)
        worst = 0.0
        for row in data:
            many.update_many(row)
            for i, x in enumerate(row.tolist()):
                for update in river_updates(objs[i]):
                    update(x)
                one.update(i, x)
            for i in range(8):
                worst = max(worst, compare(one, objs[i], i), compare(many, objs[i], i))
        return worst

    return Case(name, baseline, river_pass, ours_pass, batch_pass, parity,
                make_ours(1).state_bytes)


def _ew_case() -> Case:
    return _bank_case(
        "ew_mean_var", "river.stats.EWMean + EWVar", lambda: (stats.EWMean(0.1), stats.EWVar(0.1)),
        lambda pair: (pair[0].update, pair[1].update), lambda n: compiled.EWStats(n, 0.1),
        lambda bank, pair, i: max(abs(bank.mean(i) - pair[0].get()),
                                  abs(bank.var(i) - pair[1].get())))


def _welford_case() -> Case:
    return _bank_case(
        "mean_var", "river.stats.Var (with its Mean)", stats.Var, lambda v: (v.update,),
        lambda n: compiled.MeanVar(n),
        lambda bank, v, i: max(abs(bank.mean(i) - v.mean.get()), abs(bank.var(i) - v.get())))


def _rolling_case() -> Case:
    return _bank_case(
        "rolling_mean_var", "river.utils.Rolling(stats.Var, window_size=8)",
        lambda: utils.Rolling(stats.Var, window_size=8), lambda r: (r.update,),
        lambda n: compiled.RollingMeanVar(n, window=8),
        lambda bank, r, i: max(abs(bank.mean(i) - r.mean.get()), abs(bank.var(i) - r.get())))


def _page_hinkley_case() -> Case:
    def compare(bank: Any, ph: drift.PageHinkley, i: int) -> float:
        flag = float(bool(bank.drifts[i]) != ph.drift_detected)
        return max(flag, abs(float(bank.sums_inc[i]) - ph._sum_increase),
                   abs(float(bank.sums_dec[i]) - ph._sum_decrease))
    return _bank_case(
        "page_hinkley", "river.drift.PageHinkley",
        lambda: drift.PageHinkley(threshold=5.0), lambda ph: (ph.update,),
        lambda n: compiled.PageHinkley(n, threshold=5.0), compare, shift=True)


class _SlotEWMeans:
    """River's equivalent of a seasonal baseline without clipping: two EWMeans per slot."""

    def __init__(self) -> None:
        self.levels = [stats.EWMean(0.1) for _ in range(SEASONAL_SLOTS)]
        self.spreads = [stats.EWMean(0.1) for _ in range(SEASONAL_SLOTS)]
        self.seen = [False] * SEASONAL_SLOTS
        self.slot = 0

    def update(self, x: float) -> None:
        level = self.levels[self.slot]
        if self.seen[self.slot]:
            self.spreads[self.slot].update(abs(x - level.get()))
        self.seen[self.slot] = True
        level.update(x)


def _seasonal_case() -> Case:
    """Readings arrive slot by slot; both sides are told the slot of each row."""
    single = _readings(1, SINGLE_ROWS, SINGLE_METERS).tolist()
    batch = _readings(2, BATCH_ROWS, BATCH_METERS)
    river_objs = [_SlotEWMeans() for _ in range(SINGLE_METERS)]

    def make(n: int) -> Any:
        return compiled.SeasonalBaseline(n, n_slots=SEASONAL_SLOTS, fading_factor=0.1, clip=0.0)
    ours_single, ours_batch = make(SINGLE_METERS), make(BATCH_METERS)

    def river_pass() -> int:
        for t, row in enumerate(single):
            slot = t % SEASONAL_SLOTS
            for obj, x in zip(river_objs, row, strict=True):
                obj.slot = slot
                obj.update(x)
        return SINGLE_ROWS * SINGLE_METERS

    def ours_pass() -> int:
        update = ours_single.update
        for t, row in enumerate(single):
            slot = t % SEASONAL_SLOTS
            for i, x in enumerate(row):
                update(i, slot, x)
        return SINGLE_ROWS * SINGLE_METERS

    def batch_pass() -> int:
        update_many = ours_batch.update_many
        for t, row in enumerate(batch):
            update_many(t % SEASONAL_SLOTS, row)
        return BATCH_ROWS * BATCH_METERS

    def parity() -> float:
        objs, one, many = [_SlotEWMeans() for _ in range(8)], make(8), make(8)
        worst = 0.0
        for t, row in enumerate(_readings(3, 400, 8)):
            slot = t % SEASONAL_SLOTS
            many.update_many(slot, row)
            for i, x in enumerate(row.tolist()):
                objs[i].slot = slot
                objs[i].update(x)
                one.update(i, slot, x)
                for bank in (one, many):
                    worst = max(worst, abs(bank.levels[i, slot] - objs[i].levels[slot].get()),
                                abs(bank.spreads[i, slot] - objs[i].spreads[slot].get()))
        return float(worst)

    return Case("seasonal_baseline", "river.stats.EWMean x2 per slot (clip=0 for parity)",
                river_pass, ours_pass, batch_pass, parity, make(1).state_bytes)


def _fallback_case(name: str, cls_name: str, kwargs: dict, data: Callable[[int, int, int],
                   np.ndarray], result: Callable[[Any], np.ndarray]) -> Case:
    """A kernel River has no equivalent for: the baseline is our pure-Python twin."""
    single = data(1, SINGLE_ROWS, SINGLE_METERS).tolist()
    batch = data(2, BATCH_ROWS, BATCH_METERS)
    slow = getattr(fallback, cls_name)(SINGLE_METERS, **kwargs)
    fast = getattr(compiled, cls_name)(SINGLE_METERS, **kwargs)
    fast_batch = getattr(compiled, cls_name)(BATCH_METERS, **kwargs)

    def single_pass(bank: Any) -> Callable[[], int]:
        def run() -> int:
            update = bank.update
            for row in single:
                for i, x in enumerate(row):
                    update(i, x)
            return SINGLE_ROWS * SINGLE_METERS
        return run

    def batch_pass() -> int:
        update_many = fast_batch.update_many
        for row in batch:
            update_many(row)
        return BATCH_ROWS * BATCH_METERS

    def parity() -> float:
        one = getattr(compiled, cls_name)(8, **kwargs)
        many = getattr(compiled, cls_name)(8, **kwargs)
        ref = getattr(fallback, cls_name)(8, **kwargs)
        worst = 0.0
        for row in data(3, 400, 8):
            many.update_many(row)
            ref.update_many(row)
            for i, x in enumerate(row.tolist()):
                one.update(i, x)
            worst = max(worst, float(np.max(np.abs(result(one) - result(ref)))),
                        float(np.max(np.abs(result(many) - result(ref)))))
        return worst

    return Case(name, f"gridwatch pure-Python {cls_name} (River has no equivalent)",
                single_pass(slow), single_pass(fast), batch_pass, parity, fast.state_bytes)


def _cusum_case() -> Case:
    return _fallback_case("cusum", "Cusum", {"k": 0.5, "h": 5.0},
                          lambda s, r, m: _readings(s, r, m, shift=True) - 1.0,
                          lambda b: np.concatenate([b.highs, b.lows]))


def _voltage_case() -> Case:
    return _fallback_case("voltage_qualification", "VoltageQualification", {},
                          lambda s, r, m: 220.0 + 40.0 * (_readings(s, r, m) - 1.0),
                          lambda b: np.concatenate([b.monitored, b.below, b.above, b.low_runs])
                          .astype(np.float64))


def _attribution_case() -> Case:
    rng = np.random.default_rng(4)
    expected = rng.uniform(0.5, 2.0, (BATCH_ROWS, BATCH_METERS))
    actual = expected * rng.uniform(0.3, 1.2, expected.shape)
    losses = rng.uniform(-1.0, 20.0, BATCH_ROWS).tolist()
    small = SINGLE_METERS
    slow, fast = fallback.LossAttribution(small), compiled.LossAttribution(BATCH_METERS)

    def river_pass() -> int:
        for t in range(SINGLE_ROWS):
            slow.update_many(losses[t], expected[t, :small], actual[t, :small])
        return SINGLE_ROWS * small

    def batch_pass() -> int:
        for t in range(BATCH_ROWS):
            fast.update_many(losses[t], expected[t], actual[t])
        return BATCH_ROWS * BATCH_METERS

    def parity() -> float:
        ours, ref = compiled.LossAttribution(BATCH_METERS), fallback.LossAttribution(BATCH_METERS)
        worst = 0.0
        for t in range(50):
            a, ua = ours.update_many(losses[t], expected[t], actual[t])
            b, ub = ref.update_many(losses[t], expected[t], actual[t])
            worst = max(worst, float(np.max(np.abs(a - b))), abs(ua - ub))
        return worst

    return Case("loss_attribution", "gridwatch pure-Python LossAttribution (per-area kernel, "
                "no single-reading form; River has no equivalent)", river_pass, None, batch_pass,
                parity, fast.state_bytes)


def _hst_case() -> Case:
    rng = np.random.default_rng(5)
    rows = rng.random((HST_SAMPLES, 3))
    rows[rng.random(rows.shape) < 0.05] = np.nan
    names = ["f0", "f1", "f2"]
    dicts = [{n: v for n, v in zip(names, row, strict=True) if not math.isnan(v)}
             for row in rows.tolist()]
    river, ours, batch = (anomaly.HalfSpaceTrees(seed=42), compiled.HalfSpaceTrees(seed=42),
                          compiled.HalfSpaceTrees(seed=42))
    for model in (river, ours):
        model.learn_one(dicts[0])
    batch.learn_many(rows[:1], names)

    def stream_pass(model: Any) -> Callable[[], int]:
        def run() -> int:
            learn, score = model.learn_one, model.score_one
            for x in dicts:
                score(x)
                learn(x)
            return HST_SAMPLES
        return run

    def batch_pass() -> int:
        for start in range(0, HST_SAMPLES, HST_BATCH):
            batch.score_learn_many(rows[start:start + HST_BATCH])
        return HST_SAMPLES

    def parity() -> float:
        ref, one, many = (anomaly.HalfSpaceTrees(seed=7), compiled.HalfSpaceTrees(seed=7),
                          compiled.HalfSpaceTrees(seed=7))
        many.learn_many(rows[:1], names)
        ref.learn_one(dicts[0])
        one.learn_one(dicts[0])
        expected = []
        worst = 0.0
        for x in dicts:
            expected.append(ref.score_one(x))
            worst = max(worst, abs(one.score_one(x) - expected[-1]))
            ref.learn_one(x)
            one.learn_one(x)
        scores = np.concatenate([many.score_learn_many(rows[s:s + HST_BATCH])
                                 for s in range(0, HST_SAMPLES, HST_BATCH)])
        return max(worst, float(np.max(np.abs(scores - np.array(expected)))))

    return Case("half_space_trees", "river.anomaly.HalfSpaceTrees (n_trees=10, height=8, "
                "window_size=250; learn_one+score_one)", stream_pass(river), stream_pass(ours),
                batch_pass, parity, ours.state_bytes, per_meter=False)


CASES: dict[str, Callable[[], Case]] = {
    "half_space_trees": _hst_case, "ew_mean_var": _ew_case, "mean_var": _welford_case,
    "rolling_mean_var": _rolling_case, "page_hinkley": _page_hinkley_case,
    "seasonal_baseline": _seasonal_case, "cusum": _cusum_case,
    "voltage_qualification": _voltage_case, "loss_attribution": _attribution_case,
}


def measure(case: Case, budget: float) -> dict[str, Any]:
    """Time the three workloads back to back and check parity."""
    river_ops = ops_per_second(case.river_pass, budget)
    ours_ops = ops_per_second(case.ours_pass, budget) if case.ours_pass else None
    batch_ops = ops_per_second(case.batch_pass, budget)
    return {
        "baseline": case.baseline,
        "river_ops": round(river_ops),
        "ours_ops": round(ours_ops) if ours_ops else None,
        "ours_batch_ops": round(batch_ops),
        "ratio": round(ours_ops / river_ops, 2) if ours_ops else None,
        "batch_ratio": round(batch_ops / river_ops, 2),
        "max_parity_error": case.parity(),
        "state_bytes": case.state_bytes,
        "state_unit": "per meter" if case.per_meter else "per model",
    }


def run(names: list[str], budget: float, progress: Callable[[str], None]) -> dict[str, Any]:
    """Benchmark the named kernels; returns the JSON document (kernels, totals, targets)."""
    started = time.perf_counter()
    kernels: dict[str, dict[str, Any]] = {}
    for name in names:
        kernels[name] = measure(CASES[name](), budget)
        progress(name)
    per_meter = {n: k for n, k in kernels.items() if k["state_unit"] == "per meter"}
    total_bytes = sum(k["state_bytes"] for k in per_meter.values())
    return {"kernels": kernels,
            "implementation": compiled.IMPLEMENTATION,
            "per_meter_state_bytes_total": total_bytes,
            "targets": _targets(kernels, per_meter, total_bytes),
            "seconds": round(time.perf_counter() - started, 1)}


def _targets(kernels: dict, per_meter: dict, total_bytes: int) -> dict[str, bool]:
    met: dict[str, bool] = {}
    if "half_space_trees" in kernels:
        hst = kernels["half_space_trees"]
        met["hst_ratio>=30"] = hst["ratio"] >= TARGETS["hst_ratio"]
        met["hst_batch_ratio>=100"] = hst["batch_ratio"] >= TARGETS["hst_batch_ratio"]
    for name, k in per_meter.items():
        if k["ratio"] is not None:
            met[f"{name}_ratio>=10"] = k["ratio"] >= TARGETS["per_meter_ratio"]
        met[f"{name}_batch_ops>=2e6"] = k["ours_batch_ops"] >= TARGETS["per_meter_batch_ops"]
    met["per_meter_state<=1024B"] = total_bytes <= TARGETS["per_meter_state_bytes"]
    met["parity<=1e-12"] = all(k["max_parity_error"] <= 1e-12 for k in kernels.values())
    return met
