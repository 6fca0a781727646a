"""The quick real-data scorer benchmark runs, and the default scorer beats null and random."""

from __future__ import annotations

import pytest

from bench.detectors import DATA
from bench.real_scorers import DETECTORS, run
from gridwatch.evaluation.nab import PROFILES

pytestmark = pytest.mark.skipif(not (DATA / "streams").is_dir(),
                                reason="the shared real data folder is not on this host")


def test_quick_benchmark_ours_beats_null_and_random():
    result = run(quick=True)
    corpora = result["corpora"]
    assert set(corpora) == {"appliance_power", "skab", "ucr_anomaly_archive", "injected"}
    for entry in corpora.values():
        assert set(entry["scores"]) == set(DETECTORS)
        assert all(set(by_profile) == set(PROFILES) for by_profile in entry["scores"].values())
        assert entry["scores"]["null"]["standard"] == 0.0
        assert entry["scores"]["ours"]["standard"] > 0.0
    mean = {name: sum(e["scores"][name]["standard"] for e in corpora.values()) / len(corpora)
            for name in ("ours", "random")}
    assert mean["ours"] > mean["random"]
    pooled = result["pooled"]
    assert pooled["null"]["standard"] == 0.0
    assert pooled["ours"]["standard"] > max(pooled["random"]["standard"], 0.0)
