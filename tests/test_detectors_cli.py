"""`gridwatch score` and `gridwatch theft rank` as an engineer runs them."""

from __future__ import annotations

import argparse
import io
import math

from gridwatch.cli import main
from gridwatch.detectors.cli import run_score


def score_text(text: str, *params: str, detector: str = "robust-likelihood") -> str:
    out = io.StringIO()
    args = argparse.Namespace(list=False, json=False, detector=detector, param=list(params))
    assert run_score(args, io.StringIO(text), out) == 0
    return out.getvalue()


def stream(n: int, spike_at: int) -> str:
    rows = ["timestamp,value"]
    for t in range(n):
        value = 10 + 3 * math.sin(t / 24 * 2 * math.pi) + (25 if t == spike_at else 0)
        rows.append(f"2024-01-01T{t:05d},{value:.4f}")
    return "\n".join(rows) + "\n"


def parsed(text: str) -> list[float]:
    lines = text.strip().splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    return [float(line.split(",")[2]) for line in lines[1:]]


def test_score_one_row_per_input_in_range_and_the_spike_stands_out():
    for detector in ("context-surprise", "robust-likelihood", "half-space-trees"):
        scores = parsed(score_text(stream(800, 700), detector=detector))
        assert len(scores) == 800
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores[700] >= max(scores[300:700])


def test_score_is_strictly_online():
    for detector in ("context-surprise", "robust-likelihood"):
        full = parsed(score_text(stream(600, 500), detector=detector))
        cut = "\n".join(stream(600, 500).splitlines()[:451]) + "\n"
        assert parsed(score_text(cut, detector=detector)) == full[:450]


def test_score_params_list_and_errors(capsys):
    assert parsed(score_text(stream(300, 250), "short=5", "point_sigmas=3")) != []
    assert main(["score", "--list"]) == 0
    assert "context-surprise (default)" in capsys.readouterr().out
    assert main(["score", "--param", "nonsense=1"]) == 2
    assert "has no parameter 'nonsense'" in capsys.readouterr().err


def test_theft_rank_ignores_flag_and_missing_cells(tmp_path, capsys):
    days = [f"2024/1/{d}" for d in range(1, 29)]
    rows = ["CONS_NO,FLAG," + ",".join(days)]
    for name, level in (("honest1", 10.0), ("honest2", 12.0), ("honest3", 8.0)):
        rows.append(f"{name},1," + ",".join(f"{level * (1 + 0.05 * (d % 3)):.2f}"
                                             for d in range(28)))
    thief = [f"{11.0 * (1 + 0.05 * (d % 3)):.2f}" if d < 14 else "2.0" for d in range(28)]
    thief[5] = ""
    rows.append("thief,0," + ",".join(thief))
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["theft", "rank", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "customer,risk"
    ranked = [line.split(",") for line in lines[1:]]
    assert ranked[0][0] == "thief"
    assert [float(r) for _, r in ranked] == sorted((float(r) for _, r in ranked), reverse=True)
    path.write_text("id,2024/1/1\nx,abc\n")
    assert main(["theft", "rank", str(path)]) == 2
    assert "'abc' is not a number" in capsys.readouterr().err
