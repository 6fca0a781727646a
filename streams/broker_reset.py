"""A Kafka broker that lost its log, told apart from a replay after a worker restart.

Why: the worker skips a record whose offset is at or below the one saved in
its area's state, because after a restart Faust replays what was applied
but not yet committed. A broker that restarts empty (the embedded tansu
keeps everything in memory) starts every partition at offset 0 again, and
a running worker would skip the *new* records as already applied, silently
(issue 12: 7,340 records, about 60 % of the readings).

How it is told apart: a replayed record is a batch this area has applied,
so its id (the bridge's payload digest, `detectors.redelivery`) is among
the ids the area's state remembers. A record at or below the saved offset
whose id the area has never seen is new data under regressed offsets: it is
processed, never skipped; the worker raises one ``pipeline_broker_reset``
finding per partition and counts the intervals of readings lost in the gap
between the area's last applied interval and the first one after the reset.
A record without an id (an older bridge) cannot be told apart and is
treated as a replay, as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..vocabulary.findings import FIRING, Finding
from ..vocabulary.kinds import PIPELINE_BROKER_RESET
from ..vocabulary.schema import Batch

NAME = "worker"


def regressed(batch_id: str | None, applied_ids: dict[str, list[str]]) -> bool:
    """True if a record at or below the saved offset is new data, not a replay.

    >>> regressed("b2", {"C1": ["a1", "b2"]}), regressed("z9", {"C1": ["a1"]})
    (False, True)
    >>> regressed(None, {})
    False
    """
    return batch_id is not None and not any(batch_id in ids for ids in applied_ids.values())


def intervals_lost(last_applied: float, batch: Batch, interval_s: float) -> int:
    """Whole intervals between the last applied one and the batch's first (0 if none).

    >>> from gridwatch.vocabulary.schema import Reading
    >>> b = Batch("C1", "A1", "F1", 9000.0, [Reading("m", 9000.0, "customer", 1, 1.0, [230.0],
    ...                                              [1.0])])
    >>> intervals_lost(4500.0, b, 900.0), intervals_lost(float("nan"), b, 900.0)
    (4, 0)
    """
    first = min(r.ts for r in batch.readings)
    if math.isnan(last_applied) or first <= last_applied:
        return 0
    return max(0, round((first - last_applied) / interval_s) - 1)


@dataclass
class BrokerResets:
    """Per partition, whether a reset was already reported; what was lost in all."""

    reported: set[int] = field(default_factory=set)
    records: int = 0
    intervals_lost: int = 0

    def note(self, partition: int, saved: int, offset: int, batch: Batch,
             lost: int) -> list[Finding]:
        """Count one record found under regressed offsets; the finding for its partition
        the first time."""
        self.records += 1
        self.intervals_lost += lost
        if partition in self.reported:
            return []
        self.reported.add(partition)
        ts = max(r.ts for r in batch.readings)
        return [Finding(
            kind=PIPELINE_BROKER_RESET, entity=batch.area, entity_type="area", area=batch.area,
            feeder=batch.feeder, started_at=ts, at=ts, status=FIRING, severity="critical",
            detector=NAME, observed={"partition": partition, "saved_offset": saved,
                                     "record_offset": offset, "intervals_lost": lost},
            reason=(f"The Kafka broker lost its log: partition {partition} delivers new "
                    f"readings (area {batch.area}) at offset {offset}, at or below offset "
                    f"{saved} already applied. They are processed, not skipped; readings "
                    f"produced before the reset and not yet consumed are lost ({lost} "
                    f"intervals for this area)."))]
