"""Every real-data figure in one run: generic scorers, theft ranking, false alarms on real streams.

Sections:
- ``scorers``: `bench.real_scorers` (NAB's rules on real labelled streams;
  ours beside River HalfSpaceTrees, a windowed Gaussian, random and null);
- ``theft``: `bench.real_theft` (unsupervised AUC and precision@k on the
  real SGCC customers of ``sgcc_dev.csv``, and 5-fold cross-validated AUC
  with the other folds' labels as inspection findings);
- ``false_alarms``: the real household and transformer series replayed as
  the meters of healthy areas (`gridwatch.sensors.realdata`) through the
  `DetectionStage` the worker runs; nothing is injected, so every alert is
  a false alarm. Counted per area-day.

Usage: ``python -m bench.real [--json] [--quick]``; ``--quick`` takes
small samples (CI, under a minute). Progress goes to stderr.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench import real_scorers, real_theft
from bench.detectors import DATA
from bench.real_cli import bench_main
from gridwatch.config import DetectorSettings, SimulatorSettings
from gridwatch.evaluation.runner import run_pipeline
from gridwatch.sensors.realdata import real_data_run
from gridwatch.sensors.stream import iter_batches
from gridwatch.vocabulary.findings import FIRING
from gridwatch.vocabulary.schema import Batch

FALSE_ALARM_DAYS = {True: 5, False: 28}
FALSE_ALARM_GRID = SimulatorSettings(feeders=2, areas_per_feeder=2, meters_per_area=30)


def false_alarms(quick: bool, data: Path = DATA) -> dict[str, object]:
    """Alerts per area-day on label-free real-data streams (all of them false alarms)."""
    days = FALSE_ALARM_DAYS[quick]
    run = real_data_run(data, FALSE_ALARM_GRID, days=days)

    def batches() -> Iterator[Batch]:
        for day in run.days_iter(progress=True):
            yield from iter_batches(day.rows)

    result = run_pipeline(batches(), DetectorSettings(), progress=True)
    alerts = [f for f in result.findings if f.status == FIRING]
    area_days = result.areas * days
    return {"areas": result.areas, "days": days, "meters_per_area":
            FALSE_ALARM_GRID.meters_per_area, "alerts": len(alerts),
            "alerts_per_area_day": round(len(alerts) / max(area_days, 1), 4),
            "by_kind": dict(Counter(f.kind for f in alerts))}


def run(quick: bool, data: Path = DATA) -> dict[str, object]:
    """The whole real-data report."""
    return {"quick": quick,
            "scorers": real_scorers.run(quick, data),
            "theft": real_theft.run(quick, data / "sgcc_dev.csv"),
            "false_alarms": false_alarms(quick, data)}


def print_report(report: dict) -> None:
    """The report as tables."""
    print("Generic scorers, NAB normalised score (standard profile; null = 0, perfect = 100)")
    corpora = report["scorers"]["corpora"]
    names = list(next(iter(corpora.values()))["scores"])
    print(f"  {'corpus':22s}" + "".join(f"{n[:18]:>19s}" for n in names))
    for corpus, entry in [*corpora.items(), ("pooled", {"scores": report["scorers"]["pooled"]})]:
        print(f"  {corpus:22s}" + "".join(f"{entry['scores'][n]['standard']:19.2f}"
                                          for n in names))
    theft = report["theft"]
    print(f"\nTheft ranking on real customers ({theft['data']})")
    rows = {"unsupervised (ours)": theft["unsupervised"], **theft["baselines"]}
    for name, figures in rows.items():
        print(f"  {name:38s}" + "  ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"  with findings, 5-fold CV: {theft['findings_cv']}")
    fa = report["false_alarms"]
    print(f"\nFalse alarms on real healthy streams: {fa['alerts']} alerts over {fa['areas']} "
          f"areas x {fa['days']} days = {fa['alerts_per_area_day']} per area-day "
          f"{fa['by_kind'] or ''}")


def main(argv: list[str] | None = None) -> int:
    return bench_main("bench.real", __doc__.splitlines()[0], DATA, run, print_report, argv)


if __name__ == "__main__":
    sys.exit(main())
