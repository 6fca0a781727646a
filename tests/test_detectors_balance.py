"""The energy balance's learning of an area's usual unexplained energy, bin by bin."""

from __future__ import annotations

from gridwatch.config import LeakageSettings, TheftSettings
from gridwatch.detectors.balance import DRIFT_H, VAR_CLIP_Z, EnergyBalance

N = 24.0   # intervals in a 6-hour bin of 15-minute readings


def healthy_bin(sum_r: float) -> list[float]:
    """Bin accumulators (n, sum r, sum r^2, sum x, sum x^2, sum loss, sum x*loss, kWh)."""
    return [N, sum_r, sum_r * sum_r / N, 40.0, 80.0, 2.0, 4.0, 100.0]


def learned(sums: list[float], bal: dict | None = None) -> dict:
    balance = EnergyBalance(TheftSettings(), LeakageSettings(), interval_s=900)
    bal = {} if bal is None else bal
    for sum_r in sums:
        balance._learn_area(bal, healthy_bin(sum_r))
    return bal


def test_one_freak_bin_widens_the_spread_by_at_most_the_clip():
    calm = [0.3, -0.3] * 10
    bal = learned(calm)
    before = bal["bin_var"]
    learned([-70.0], bal)          # a register catching up after days stuck
    assert bal["bin_var"] <= before + 0.1 * (VAR_CLIP_Z ** 2) * before + 1e-12
    assert bal["bin_var"] > before


def test_spread_is_not_learned_while_the_drift_cusum_is_high():
    bal = learned([0.3, -0.3] * 10)
    before = bal["bin_var"]
    bal["drift"] = DRIFT_H + 1.0
    learned([1.0, 1.2, 1.4], bal)   # a leak creeping up
    assert bal["bin_var"] == before
    bal["drift"] = 0.0
    learned([1.0], bal)
    assert bal["bin_var"] > before
