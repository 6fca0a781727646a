"""Data quality: duplicates, out-of-order and clock-skewed readings, drop-outs, stuck meters.

Why before every other detector: a duplicated or late reading fed to the
energy balance would invent consumption, a skewed clock would put a meter's
evening peak at the wrong hour. So each batch is screened first: duplicates
and late readings are reported and kept out of the detectors, readings from
a meter whose clock is off are reported and re-stamped to the interval they
belong to. A stuck meter (the very same reading again and again) is reported
and its frozen values are kept out of the voltage and theft judgements.

Collection success rate = readings received / readings expected (known
meters x intervals), per area per day, is written as a metric.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from ..config import DataQualitySettings, DetectorSettings
from ..vocabulary.findings import Finding
from ..vocabulary.kinds import (
    DQ_CLOCK_SKEW,
    DQ_CONCENTRATOR_DROPOUT,
    DQ_DUPLICATE,
    DQ_OUT_OF_ORDER,
    DQ_STUCK_METER,
)
from ..vocabulary.schema import Batch, Reading
from .episodes import Episodes
from .state import MeterTable

if TYPE_CHECKING:
    from .contract import Interval

NAME = "data_quality"


class BatchScreen:
    """Splits a batch into usable readings per interval and reports what is wrong with it.

    >>> from gridwatch.config import DataQualitySettings
    >>> from gridwatch.vocabulary.schema import Batch, Reading
    >>> r = lambda m, ts: Reading(m, ts, "customer", 1, 1.0, [220.0], [1.0])
    >>> batch = Batch("C1", "A1", "F1", 2000, [r("m1", 900), r("m2", 900), r("m1", 900)])
    >>> ep = Episodes({}, "A1", "F1")
    >>> groups = BatchScreen(DataQualitySettings()).screen(batch, MeterTable(), ep)
    >>> sorted(groups), [f.kind for f in ep.findings]
    ([900.0], ['dq_duplicate'])
    """

    def __init__(self, settings: DataQualitySettings) -> None:
        self.settings = settings

    def screen(self, batch: Batch, table: MeterTable, episodes: Episodes
               ) -> dict[float, list[Reading]]:
        """Usable readings grouped by (corrected) interval end, oldest first."""
        clean = self._clean_upload(batch, table)
        if clean is not None:
            self._sweep(episodes, clean)
            return {clean: list(batch.readings)}
        interval = self.settings.interval_s
        dominant = self._dominant_ts(batch)
        seen: set[tuple[str, float]] = set()
        last_in_batch: dict[str, float] = {}
        groups: dict[float, list[Reading]] = defaultdict(list)
        latest = max(r.ts for r in batch.readings)
        for reading in batch.readings:
            ts = reading.ts
            if reading.meter in last_in_batch and ts < last_in_batch[reading.meter]:
                self._flag(episodes, DQ_OUT_OF_ORDER, batch, latest,
                           f"meter {reading.meter} sent {ts:.0f} after "
                           f"{last_in_batch[reading.meter]:.0f} in one upload")
            last_in_batch[reading.meter] = max(ts, last_in_batch.get(reading.meter, ts))
            snapped = float(round(ts / interval) * interval)
            skewed = (abs(ts - snapped) > self.settings.clock_tolerance_s
                      or ts > batch.sent_at + self.settings.clock_tolerance_s)
            if dominant is not None and (skewed or snapped not in dominant[1]):
                skewed = True
                snapped = dominant[0]
            if skewed:
                episodes.fire(DQ_CLOCK_SKEW, reading.meter, "meter", at=latest, detector=NAME,
                              score=min(1.0, abs(ts - snapped) / interval),
                              observed={"reading_ts": ts, "interval_ts": snapped,
                                        "offset_s": ts - snapped},
                              threshold={"clock_tolerance_s": self.settings.clock_tolerance_s},
                              reason=(f"Meter {reading.meter} stamps its readings "
                                      f"{ts - snapped:+.0f} s off the {interval} s grid the "
                                      f"rest of the area uses."))
                episodes.touch(DQ_CLOCK_SKEW, reading.meter, latest)
            key = (reading.meter, snapped)
            row = table.index.get(reading.meter)
            processed = table.col["last_ts"][row] if row is not None else np.nan
            if key in seen or snapped == processed:
                self._flag(episodes, DQ_DUPLICATE, batch, latest,
                           f"a second reading of meter {reading.meter} for {snapped:.0f}")
                continue
            if snapped < processed:
                self._flag(episodes, DQ_OUT_OF_ORDER, batch, latest,
                           f"meter {reading.meter} reading for {snapped:.0f} arrived after "
                           f"{processed:.0f} was processed")
                continue
            seen.add(key)
            if snapped != ts:
                reading = Reading(reading.meter, snapped, reading.role, reading.phases,
                                  reading.energy_kwh, reading.voltage, reading.current,
                                  reading.power_kw, reading.pf, reading.reverse_kwh,
                                  reading.events, reading.rated_kva)
            groups[snapped].append(reading)
        self._sweep(episodes, latest)
        return dict(sorted(groups.items()))

    def _clean_upload(self, batch: Batch, table: MeterTable) -> float | None:
        """The interval of an upload with nothing to report, or None.

        The common case (one interval, every meter once, stamped on the grid,
        newer than anything processed) skips the per-reading checks.
        """
        readings = batch.readings
        ts = readings[0].ts
        interval = self.settings.interval_s
        tolerance = self.settings.clock_tolerance_s
        if (any(r.ts != ts for r in readings)
                or abs(ts - round(ts / interval) * interval) > tolerance
                or ts > batch.sent_at + tolerance
                or len({r.meter for r in readings}) != len(readings)):
            return None
        rows = [table.index.get(r.meter) for r in readings]
        known = [row for row in rows if row is not None]
        if known and not (table.col["last_ts"][known] < ts).all():
            return None
        return float(ts)

    def _sweep(self, episodes: Episodes, at: float) -> None:
        quiet = self.settings.quiet_intervals * self.settings.interval_s
        for kind, why in ((DQ_DUPLICATE, "no duplicated reading"),
                          (DQ_OUT_OF_ORDER, "no out-of-order reading"),
                          (DQ_CLOCK_SKEW, "readings back on the interval grid")):
            episodes.sweep(kind, at, quiet, f"{why} for {self.settings.quiet_intervals} "
                                            f"intervals.")

    def _dominant_ts(self, batch: Batch) -> tuple[float, set[float]] | None:
        """The interval most meters report in this batch, and every well-populated interval.

        A reading stamped on the grid but at an interval almost nobody else in
        the upload reports is a clock running whole intervals off.
        """
        counts = Counter(float(round(r.ts / self.settings.interval_s) * self.settings.interval_s)
                         for r in batch.readings)
        if len(counts) < 2:
            return None
        top, top_count = counts.most_common(1)[0]
        if top_count < 4:
            return None
        common = {ts for ts, n in counts.items() if n >= 0.5 * top_count}
        return top, common

    def _flag(self, episodes: Episodes, kind: str, batch: Batch, at: float, what: str) -> None:
        episodes.fire(kind, batch.concentrator, "concentrator", at=at, detector=NAME,
                      observed={"example": what}, threshold={"allowed": 0},
                      reason=f"Concentrator {batch.concentrator} delivered {what}.")
        episodes.touch(kind, batch.concentrator, at)


class DataQualityState(TypedDict, total=False):
    """The per-interval data-quality checks' slice of ``AreaState.scalars``."""

    area_last_ts: float          # newest interval the area delivered
    partial_dropout_run: int     # intervals in a row with too few of the area's meters


class DataQualityChecks:
    """The per-interval checks: drop-outs (whole and partial) and stuck meters.

    Runs first, so the stuck meters it finds (`Interval.stuck`) are kept out of
    every later judgement.
    """

    name = NAME
    settings_keys = ("data_quality",)
    State = DataQualityState

    def __init__(self, settings: DataQualitySettings) -> None:
        self.settings = settings

    @classmethod
    def from_settings(cls, settings: DetectorSettings) -> DataQualityChecks:
        return cls(settings.data_quality)

    def observe(self, interval: Interval) -> list[Finding]:
        s, frame, episodes = self.settings, interval.frame, interval.episodes
        since = len(episodes.findings)
        table, scalars, concentrator = interval.table, interval.scalars, \
            interval.batch.concentrator
        check_gap(scalars, episodes, concentrator, interval.ts, s)
        check_collection(scalars, episodes, concentrator, interval.ts, len(frame.rows),
                         len(table), s)
        interval.stuck = stuck_meters(table, frame.rows, frame.energy,
                                      frame.vmin.astype(np.float32),
                                      frame.power.astype(np.float32), interval.powered,
                                      interval.ts, episodes, s)
        return interval.judged(since)


def check_gap(scalars: dict, episodes: Episodes, concentrator: str, ts: float,
              settings: DataQualitySettings) -> None:
    """Report a concentrator drop-out when an area's intervals resume after a gap."""
    last = scalars.get("area_last_ts")
    interval = settings.interval_s
    if last is not None and ts - last > (settings.dropout_min_missing + 0.5) * interval:
        missing = int(round((ts - last) / interval)) - 1
        started = last + interval
        episodes.fire(DQ_CONCENTRATOR_DROPOUT, concentrator, "concentrator", at=ts,
                      started_at=started, detector=NAME, score=1.0,
                      observed={"missing_intervals": missing, "last_ts": last, "resumed_ts": ts},
                      threshold={"dropout_min_missing": settings.dropout_min_missing},
                      reason=(f"Concentrator {concentrator} delivered nothing for {missing} "
                              f"intervals ({missing * interval / 3600:.1f} h)."))
        episodes.resolve(DQ_CONCENTRATOR_DROPOUT, concentrator, at=ts,
                         reason=f"Concentrator {concentrator} uploads again.")
    if last is None or ts > last:
        scalars["area_last_ts"] = ts


def check_collection(scalars: dict, episodes: Episodes, concentrator: str, ts: float,
                     reported: int, known: int, settings: DataQualitySettings) -> None:
    """Report a partial drop-out: far fewer of the area's meters than usual in one interval."""
    if known < 4:
        return
    rate = reported / known
    kind = DQ_CONCENTRATOR_DROPOUT
    if rate < settings.collection_min_rate:
        run = scalars.get("partial_dropout_run", 0) + 1
        scalars["partial_dropout_run"] = run
        if run >= settings.dropout_min_missing:
            episodes.fire(kind, concentrator, "concentrator", at=ts,
                          started_at=ts - (run - 1) * settings.interval_s, detector=NAME,
                          score=1.0 - rate,
                          observed={"collection_rate": round(rate, 4), "reported": reported,
                                    "known_meters": known},
                          threshold={"collection_min_rate": settings.collection_min_rate},
                          reason=(f"Concentrator {concentrator} delivered {reported} of "
                                  f"{known} meters for {run} intervals running."))
    else:
        scalars["partial_dropout_run"] = 0
        episodes.resolve(kind, concentrator, at=ts,
                         observed={"collection_rate": round(rate, 4)},
                         reason=f"Concentrator {concentrator} collects {rate:.0%} again.")


def stuck_meters(table: MeterTable, rows: np.ndarray, energy: np.ndarray, voltage: np.ndarray,
                 power: np.ndarray, powered: np.ndarray, ts: float, episodes: Episodes,
                 settings: DataQualitySettings) -> np.ndarray:
    """Advance the identical-reading run of each meter; return the mask of stuck ones.

    A meter without supply repeats 0 V and 0 kW honestly, so only powered
    meters count. Must run before the table's last values are overwritten.
    """
    col = table.col
    same = ((energy == col["energy"][rows]) & (voltage == col["voltage"][rows])
            & (power == col["power"][rows]) & powered)
    run = np.where(same, col["stuck_run"][rows] + 1, 0)
    col["stuck_run"][rows] = np.minimum(run, 30_000)
    stuck = run >= settings.stuck_intervals
    for i in np.flatnonzero(stuck & (run == settings.stuck_intervals)):
        meter = table.meters[rows[i]]
        episodes.fire(DQ_STUCK_METER, meter, "meter", at=ts,
                      started_at=ts - int(run[i]) * settings.interval_s, detector=NAME,
                      observed={"identical_readings": int(run[i]),
                                "energy_kwh": float(energy[i]), "voltage_v": float(voltage[i])},
                      threshold={"stuck_intervals": settings.stuck_intervals},
                      reason=(f"Meter {meter} has repeated the very same reading "
                              f"{int(run[i])} times."))
    for meter in episodes.open_entities(DQ_STUCK_METER):
        row = table.index[meter]
        hit = np.flatnonzero(rows == row)
        if hit.size and not same[hit[0]]:
            episodes.resolve(DQ_STUCK_METER, meter, at=ts,
                             reason=f"Meter {meter} readings change again.")
    return stuck
