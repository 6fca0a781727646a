"""Silence watchdog: report a concentrator drop-out while its area is still silent.

Why: `check_gap` sees a drop-out only when the next batch arrives, because
the pipeline runs once per batch; a control room needs to know while the
area is dark to the system. The watchdog remembers each area's last upload
and, asked `check(now)` between batches, reports every area that has missed
more than ``silence_intervals`` expected uploads.

One episode, one alert: the watchdog fires the very alert `check_gap` would
fire on resumption (kind ``dq_concentrator_dropout``, entity the
concentrator, ``started_at`` the first missing interval), so the alert id
(kind + entity + start) is the same. When uploads resume, `note_upload` drops
the batch's own drop-out findings for that gap and resolves the watchdog's
episode itself; a gap the watchdog never reported is left to `check_gap`.

Whose clock: ``now`` is event time (the readings' timestamps), never the
wall clock alone, so replaying last month's data does not find every area
silent. `StreamClock` gives the newest event time seen plus the wall time
elapsed since it was seen: event time that keeps running when nothing
arrives, and restarts from the data on a replay or a restart.

An area outage explains a silence (a concentrator without supply cannot
upload): while the pipeline reports ``outage_area`` open for an area, its
silence is not reported. In the simulator the concentrators keep uploading
through outages, so there this case does not arise; a real concentrator on
a dead transformer goes quiet after its power-down report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..config import DataQualitySettings
from ..vocabulary.findings import FIRING, RESOLVED, Finding
from ..vocabulary.kinds import DQ_CONCENTRATOR_DROPOUT, OUTAGE_AREA
from ..vocabulary.schema import Batch

NAME = "silence"
KIND = DQ_CONCENTRATOR_DROPOUT
OUTAGE_KIND = OUTAGE_AREA


@dataclass(slots=True)
class Upload:
    """What the watchdog keeps of one area: its last upload and an open silence, if any."""

    concentrator: str
    feeder: str
    last_ts: float                      # event time of the newest interval delivered
    seen_at: float                      # clock reading when that upload was seen
    shard: int = 0                      # the Kafka partition the area's batches come on
    silent_since: float | None = None   # started_at of the silence reported, while open
    outage: bool = False                # an area outage is open: silence explained


class StreamClock:
    """Event time that keeps running between events: newest event time + elapsed wall time.

    >>> clock = StreamClock()
    >>> clock.now(wall=10.0) is None
    True
    >>> clock.see(1_000.0, wall=50.0)
    >>> clock.see(400.0, wall=60.0)       # an old event does not turn the clock back
    >>> clock.now(wall=80.0)
    1030.0
    """

    def __init__(self) -> None:
        self.newest: float | None = None
        self.seen_at = 0.0

    def see(self, event_ts: float, wall: float) -> None:
        if self.newest is None or event_ts > self.newest:
            self.newest = float(event_ts)
            self.seen_at = float(wall)

    def now(self, wall: float) -> float | None:
        if self.newest is None:
            return None
        return self.newest + max(0.0, wall - self.seen_at)


def upload_ts(batch: Batch, interval_s: float) -> float:
    """The interval a batch delivers: its median reading time, on the interval grid.

    The median, not the newest reading, so one meter whose clock runs ahead
    does not move the area (and the stream clock) into the future.
    """
    stamps = sorted(r.ts for r in batch.readings)
    middle = stamps[(len(stamps) - 1) // 2]
    return float(round(middle / interval_s) * interval_s)


class SilenceWatch:
    """Last upload per area; a drop-out finding for areas silent too long.

    >>> from gridwatch.config import DataQualitySettings
    >>> from gridwatch.vocabulary.schema import Batch, Reading
    >>> def upload(area, ts):
    ...     return Batch(f"C-{area}", area, "F1", ts, [Reading("m1", ts, "customer", 1, 1.0,
    ...                                                        [220.0], [1.0])])
    >>> watch = SilenceWatch(DataQualitySettings(interval_s=900, silence_intervals=2))
    >>> for ts in (0.0, 900.0):
    ...     _ = watch.note_upload(upload("A1", ts), [], seen_at=ts)
    ...     _ = watch.note_upload(upload("A2", ts), [], seen_at=ts)
    >>> watch.check(2_700.0)                     # two intervals late: not yet
    []
    >>> [(f.entity, f.status, f.started_at) for f in watch.check(3_200.0)]
    [('C-A1', 'firing', 1800.0), ('C-A2', 'firing', 1800.0)]
    >>> watch.check(9_000.0)                     # reported once per episode
    []
    >>> [(f.status, f.started_at, f.at) for f in watch.note_upload(upload("A1", 9_000.0), [],
    ...                                                            seen_at=9_000.0)]
    [('resolved', 1800.0, 9000.0)]
    """

    def __init__(self, settings: DataQualitySettings) -> None:
        self.settings = settings
        self.areas: dict[str, Upload] = {}
        self.clocks: dict[int, StreamClock] = {}
        self.dirty: set[str] = set()

    def note_upload(self, batch: Batch, findings: list[Finding], seen_at: float,
                    shard: int = 0) -> list[Finding]:
        """Note an area's upload; return the batch's findings to publish, plus any resolution.

        ``findings`` are what the pipeline made of this batch: the drop-out
        findings of the gap the watchdog already reported (same start) are
        dropped (one episode, one alert), and an area outage opening or
        closing is noted.
        """
        ts = upload_ts(batch, self.settings.interval_s)
        self.clocks.setdefault(shard, StreamClock()).see(ts, seen_at)
        record = self.areas.get(batch.area)
        self.dirty.add(batch.area)
        if record is None:
            self.areas[batch.area] = Upload(batch.concentrator, batch.feeder, ts, seen_at, shard,
                                            outage=self._outage(batch.area, findings, False))
            return findings
        record.concentrator, record.feeder, record.shard = batch.concentrator, batch.feeder, shard
        record.outage = self._outage(batch.area, findings, record.outage)
        if ts <= record.last_ts:
            return findings          # a late or repeated upload: the area is still as behind
        silent_for, record.last_ts, record.seen_at = ts - record.last_ts, ts, seen_at
        since = record.silent_since
        if since is None:
            return findings
        record.silent_since = None
        half = self.settings.interval_s / 2
        kept = [f for f in findings if not (f.kind == KIND and f.entity == batch.concentrator
                                            and abs(f.started_at - since) < half)]
        kept.append(Finding(
            kind=KIND, entity=batch.concentrator, entity_type="concentrator", area=batch.area,
            feeder=batch.feeder, started_at=since, at=ts, status=RESOLVED, detector=NAME,
            score=0.0, observed={"resumed_ts": ts, "silent_s": silent_for},
            reason=f"Concentrator {batch.concentrator} uploads again."))
        return kept

    def check(self, now: float, shard: int | None = None) -> list[Finding]:
        """Firings for the areas (of ``shard``, or all) silent too long at event time `now`."""
        interval = self.settings.interval_s
        limit = (self.settings.silence_intervals + 0.5) * interval
        found: list[Finding] = []
        for area, record in self.areas.items():
            if ((shard is not None and record.shard != shard) or record.outage
                    or record.silent_since is not None or now - record.last_ts <= limit):
                continue
            silent = now - record.last_ts
            missing = int(silent // interval)
            record.silent_since = record.last_ts + interval
            self.dirty.add(area)
            found.append(Finding(
                kind=KIND, entity=record.concentrator, entity_type="concentrator", area=area,
                feeder=record.feeder, started_at=record.silent_since, at=float(now),
                status=FIRING, detector=NAME, score=1.0,
                observed={"missing_intervals": missing, "last_ts": record.last_ts,
                          "last_seen_at": record.seen_at, "silent_s": round(silent, 1)},
                threshold={"silence_intervals": self.settings.silence_intervals,
                           "interval_s": interval},
                evidence={"clock": "event time of the newest upload seen, plus wall time "
                                   "elapsed since"},
                reason=(f"Concentrator {record.concentrator} has sent nothing for {missing} "
                        f"intervals ({silent / 3600:.1f} h) and is still silent.")))
        return found

    def check_shards(self, shards: Iterable[int], wall: float) -> list[Finding]:
        """`check` each shard against its own clock (a lagging partition is not silence).

        A shard whose newest upload of all is overdue is skipped (see
        `stalled_shards`): when every concentrator of a partition falls
        silent at once, the bridge, the broker or the head-end stopped, and
        hundreds of drop-out alerts would bury the one fault.
        """
        stalled = set(self.stalled_shards(shards, wall))
        found: list[Finding] = []
        for shard in sorted(set(shards) - stalled):
            clock = self.clocks.get(shard)
            now = clock.now(wall) if clock is not None else None
            if now is not None:
                found += self.check(now, shard)
        return found

    def stalled_shards(self, shards: Iterable[int], wall: float) -> list[int]:
        """Shards of more than one area where nothing at all arrived for the silence limit.

        >>> from gridwatch.config import DataQualitySettings
        >>> watch = SilenceWatch(DataQualitySettings(interval_s=900, silence_intervals=2))
        >>> watch.clocks[0] = StreamClock()
        >>> watch.clocks[0].see(900.0, wall=100.0)
        >>> watch.areas = {a: Upload(f"C-{a}", "F1", 900.0, 100.0) for a in ("A1", "A2")}
        >>> watch.stalled_shards([0], wall=100.0 + 2_000.0), watch.stalled_shards([0], 5_000.0)
        ([], [0])
        """
        limit = (self.settings.silence_intervals + 0.5) * self.settings.interval_s
        areas_per_shard = Counter(record.shard for record in self.areas.values())
        return [shard for shard in sorted(shards)
                if areas_per_shard[shard] > 1 and shard in self.clocks
                and wall - self.clocks[shard].seen_at > limit]

    def record(self, area: str) -> bytes:
        """One area's state as bytes for a table keyed by area (see `restore`)."""
        return json.dumps(asdict(self.areas[area]), separators=(",", ":")).encode()

    def take_dirty(self) -> list[str]:
        """Areas changed since the last call, whose records need writing."""
        changed, self.dirty = sorted(self.dirty & self.areas.keys()), set()
        return changed

    def keep_shards(self, shards: set[int]) -> None:
        """Forget areas and clocks of shards no longer owned (after a rebalance)."""
        self.areas = {a: r for a, r in self.areas.items() if r.shard in shards}
        self.clocks = {s: c for s, c in self.clocks.items() if s in shards}

    def restore(self, records: Iterable[tuple[str, bytes]], shards: set[int],
                wall: float) -> int:
        """Adopt saved records of ``shards`` for areas not known yet; return how many.

        The clock of each adopted shard restarts from its newest upload at
        ``wall``: the time the worker was away is not counted as silence,
        since the uploads of that time are still waiting in the topic.
        """
        adopted = 0
        for area, raw in records:
            record = Upload(**json.loads(raw))
            if record.shard not in shards or area in self.areas:
                continue
            record.seen_at = wall
            self.areas[area] = record
            self.clocks.setdefault(record.shard, StreamClock()).see(record.last_ts, wall)
            adopted += 1
        return adopted

    @staticmethod
    def _outage(area: str, findings: list[Finding], was_open: bool) -> bool:
        for finding in findings:
            if finding.kind == OUTAGE_KIND and finding.entity == area:
                was_open = finding.status == FIRING
        return was_open
