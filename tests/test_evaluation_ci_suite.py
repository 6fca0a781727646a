"""The CI scenario suite end to end: every kind labelled once, the pipeline never fails."""

from __future__ import annotations

from gridwatch.config import Settings
from gridwatch.evaluation.harness import evaluate
from gridwatch.vocabulary.kinds import kinds_where


def test_ci_suite_covers_every_kind_and_runs_clean() -> None:
    outcome = evaluate("scenarios/ci.yaml", seed=1, days=None, settings=Settings().detectors,
                       progress=False)
    kinds = outcome.summary()["kinds"]
    assert all(kinds[kind]["events"] == 1 for kind in kinds_where(labelled=True))
    assert outcome.run.dead_letters == {}
    assert outcome.run.areas == 12
    assert outcome.meta["readings"] > 200_000
