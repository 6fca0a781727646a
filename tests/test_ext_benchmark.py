"""The kernel benchmark's document: schema, parity fields, CLI wiring (no speed asserted here)."""

from __future__ import annotations

import json

from gridwatch.cli import main
from gridwatch.ext.benchmark import CASES
from gridwatch.ext.cli import KERNELS

FIELDS = {"river_ops", "ours_ops", "ours_batch_ops", "ratio", "batch_ratio", "max_parity_error",
          "state_bytes"}


def test_cli_lists_every_benchmark_case():
    assert tuple(CASES) == KERNELS


def test_gridwatch_bench_kernels_json(capsys):
    assert main(["bench", "kernels", "--json", "--budget", "0.01",
                 "--only", "half_space_trees", "page_hinkley", "loss_attribution"]) == 0
    doc = json.loads(capsys.readouterr().out)
    kernels = doc["kernels"]
    assert set(kernels) == {"half_space_trees", "page_hinkley", "loss_attribution"}
    for entry in kernels.values():
        assert set(entry) >= FIELDS
        assert entry["max_parity_error"] <= 1e-12 and entry["ours_batch_ops"] > 0
    assert kernels["loss_attribution"]["ours_ops"] is None
    assert doc["per_meter_state_bytes_total"] == (kernels["page_hinkley"]["state_bytes"]
                                                  + kernels["loss_attribution"]["state_bytes"])
    assert doc["targets"]["parity<=1e-12"] is True


def test_bad_budget_is_rejected(capsys):
    assert main(["bench", "kernels", "--budget", "0"]) == 2
    assert "--budget must be > 0" in capsys.readouterr().err


def test_plot_option_writes_a_png(tmp_path, capsys):
    target = tmp_path / "kernels.png"
    assert main(["bench", "kernels", "--budget", "0.01", "--only", "cusum",
                 "--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cusum" in capsys.readouterr().out
