"""`gridwatch theft rank [--findings]` on hand-made customers, and the real-data bench."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from gridwatch.bench import real_theft
from gridwatch.cli import main
from gridwatch.detectors.theft_features import TheftFeatures

DAYS = 150
START = date(2024, 1, 1)


def households(n: int, seed: int) -> np.ndarray:
    """Daily kWh of `n` honest homes: own level, weekend bump, 15 % day-to-day noise,
    and a cold spell every home shares."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(5.0, 15.0, size=(n, 1))
    weekday = np.array([(START + timedelta(days=d)).weekday() for d in range(DAYS)])
    weekend = np.where(weekday >= 5, 1.2, 1.0)
    cold = np.where((np.arange(DAYS) >= 70) & (np.arange(DAYS) < 85), 1.4, 1.0)
    return level * weekend * cold * (1 + 0.15 * rng.standard_normal((n, DAYS))).clip(0.2)


def write_wide(path, names: list[str], use: np.ndarray) -> str:
    header = ["CONS_NO", "FLAG"] + [(START + timedelta(days=d)).isoformat() for d in range(DAYS)]
    rows = [",".join(header)]
    for name, row in zip(names, use, strict=True):
        rows.append(",".join([name, "0"] + ["" if np.isnan(v) else f"{v:.3f}" for v in row]))
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def ranked(capsys, *argv: str) -> list[tuple[str, float]]:
    assert main(["theft", "rank", *argv]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "customer,risk"
    return [(c, float(r)) for c, r in (line.split(",") for line in lines[1:])]


def test_customer_whose_use_halves_ranks_above_peers_who_hold(tmp_path, capsys):
    use = households(30, seed=1)
    use[7, 90:] *= 0.5
    names = [f"c{i:02d}" for i in range(30)]
    out = ranked(capsys, write_wide(tmp_path / "wide.csv", names, use))
    assert out[0][0] == "c07"
    risks = [r for _, r in out]
    assert risks == sorted(risks, reverse=True)


def test_risk_is_graded_not_saturated(tmp_path, capsys):
    use = households(40, seed=2)
    for i in range(10):                       # ten thieves of different depth
        use[i, 60 + 5 * i:] *= 0.3 + 0.05 * i
    out = ranked(capsys, write_wide(tmp_path / "wide.csv", [f"c{i:02d}" for i in range(40)], use))
    risks = [r for _, r in out]
    assert len(set(risks)) == 40
    assert min(risks) > 0.0 and max(risks) < 0.99
    assert sum(c < "c10" for c, _ in out[:10]) >= 8


def test_findings_move_an_uninspected_customer_like_the_confirmed_ones_up(tmp_path, capsys):
    """Here the thieves are the big consumers who hide well (no drop, no zeros): the
    unsupervised risk cannot see them, confirmed findings teach the model to."""
    use = households(40, seed=3)
    use[:10] *= 3.0                           # big consumers c00-c09: the thieves here
    names = [f"c{i:02d}" for i in range(40)]
    path = write_wide(tmp_path / "wide.csv", names, use)
    before = dict(ranked(capsys, path))
    findings = tmp_path / "findings.csv"
    findings.write_text("customer,finding\n"
                        + "".join(f"c{i:02d},confirmed\n" for i in range(9))
                        + "".join(f"c{i:02d},not_confirmed\n" for i in range(10, 28)))
    after = ranked(capsys, path, "--findings", str(findings))
    assert sorted(c for c, _ in after) == names
    open_suspects = [c for c, _ in after if c == "c09" or c >= "c28"]
    before_open = sorted(open_suspects, key=lambda c: -before[c])
    assert before_open.index("c09") > 0           # the unsupervised risk did not see it
    assert open_suspects[0] == "c09"              # the findings did


def features_after(use: np.ndarray) -> dict[str, np.ndarray]:
    extractor = TheftFeatures(use.shape[0])
    for d in range(use.shape[1]):
        extractor.learn_one(use[:, d], (START + timedelta(days=d)).weekday())
    return extractor.features()


def lag_one_autocorrelation(row: np.ndarray) -> float:
    centred = row - row.mean()
    return float((centred[1:] * centred[:-1]).sum() / (centred * centred).sum())


def test_a_season_every_home_shares_is_no_level_shift():
    use = households(30, seed=5)
    use[:, 30:90] *= 2.0                      # a long hot spell: every home doubles
    assert min(lag_one_autocorrelation(row) for row in use) > 0.5  # raw use would step
    shifts = features_after(use)["level_shifts"]
    assert shifts.max() < 0.3


def test_bypassed_for_weeks_then_reconnected_stands_out_in_shifts_and_wander():
    use = households(30, seed=6)
    use[4, 60:100] *= 0.4                     # bypassed for 40 days, then found and fixed
    f = features_after(use)
    for name in ("level_shifts", "level_wander"):
        assert int(np.argmax(f[name])) == 4, name


def test_erratic_register_stands_out_in_variability():
    use = households(30, seed=7)
    rng = np.random.default_rng(7)
    use[9] *= np.where(rng.random(DAYS) < 0.3, 0.1, 1.0)   # bypassed on random days
    assert int(np.argmax(features_after(use)["variability"])) == 9


@pytest.mark.parametrize("text, message", [
    ("customer,finding\nc01,confirmed\nc02,maybe\n", "line 3"),
    ("id,result\nc01,confirmed\n", "header must be 'customer,finding'"),
    ("customer,finding\nnobody,confirmed\n", "not in the consumption file"),
    ("customer,finding\nc01,confirmed\nc01,not_confirmed\n", "conflicting"),
])
def test_bad_findings_file_is_an_error_naming_the_file(tmp_path, capsys, text, message):
    path = write_wide(tmp_path / "wide.csv", [f"c{i:02d}" for i in range(5)], households(5, 4))
    findings = tmp_path / "findings.csv"
    findings.write_text(text)
    assert main(["theft", "rank", path, "--findings", str(findings)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(findings) in err


@pytest.mark.skipif(not real_theft.DATA.exists(), reason=f"{real_theft.DATA} not present")
def test_real_theft_bench_ranks_real_thieves_above_chance():
    report = real_theft.run(quick=True)
    assert report["unsupervised"]["auc"] > 0.6
    assert report["unsupervised"]["distinct_risks"] == 86
    cv = report["findings_cv"]
    assert cv["auc_with_findings_mean"] > cv["auc_unsupervised_same_folds_mean"]
