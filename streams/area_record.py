"""One area's value in the worker's ``area-state`` table: offset, unconfirmed metrics, state.

Why the metric points ride in the table value: the worker writes an area's
state (with the offset of the batch it applied) to the table's changelog,
and the batch's metric points to the metrics writer, which flushes them a
moment later from its own buffer. A worker killed in between recovers the
state, skips the replayed batches as already applied, and their points,
still in the dead process's buffer, would never reach the store. So the
value also keeps the points the writer has not yet confirmed (`Pending`);
a worker that loads a value whose points were left by another process
(another writer *epoch*) writes them again. Both the offset and the points
are in the one value, so they recover to the same point. A point written
twice is harmless: the store keeps one sample per series and timestamp
(InfluxDB by design, VictoriaMetrics with ``-dedup.minScrapeInterval``).

Wire format: the last applied offset (big-endian int64); then, if any
points are pending, ``b"GWP1"``, a big-endian uint32 length and that many
bytes of JSON ``{"epoch": ..., "entries": [[mark, [line, ...]], ...]}``;
then the detector state. A value without ``GWP1`` (written before this
format) reads as nothing pending.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

OFFSET = struct.Struct(">q")
PENDING_MAGIC = b"GWP1"
LENGTH = struct.Struct(">I")


@dataclass
class Pending:
    """Line-protocol points handed to a metrics writer (``epoch``) and not yet confirmed.

    Each entry is (mark, lines): the writer's submission count after the
    lines, so the entry is confirmed once the writer's settled count reaches
    the mark.

    >>> p = Pending("w1")
    >>> p.add("w1", 2, ["a 1", "b 1"]); p.add("w1", 3, ["c 1"])
    >>> p.settle("w1", 2); p.entries
    [(3, ['c 1'])]
    >>> p.orphaned("w1"), p.orphaned("w2")
    (False, True)
    """

    epoch: str = ""
    entries: list[tuple[int, list[str]]] = field(default_factory=list)

    def add(self, epoch: str, mark: int, lines: list[str]) -> None:
        """Note lines just handed to the writer of ``epoch`` (the area's own writer)."""
        if lines:
            self.epoch = epoch
            self.entries.append((mark, lines))

    def settle(self, epoch: str, settled: int) -> None:
        """Forget the entries the writer of ``epoch`` has flushed (written or given up)."""
        if self.epoch == epoch:
            self.entries = [(mark, lines) for mark, lines in self.entries if mark > settled]

    def orphaned(self, epoch: str) -> bool:
        """True if the points were left unconfirmed by another writer (a process now gone)."""
        return bool(self.entries) and self.epoch != epoch

    def lines(self) -> list[str]:
        return [line for _, lines in self.entries for line in lines]


@dataclass
class AreaRecord:
    """The table value of one area.

    >>> r = AreaRecord(41, b"GWS2...", Pending("w1", [(5, ["m f=1 900000"])]))
    >>> AreaRecord.unpack(r.pack()) == r
    True
    >>> AreaRecord.unpack(OFFSET.pack(7) + b"GWS2...").offset
    7
    >>> AreaRecord.unpack(None)
    AreaRecord(offset=-1, state=None, pending=Pending(epoch='', entries=[]))
    """

    offset: int = -1
    state: bytes | None = None
    pending: Pending = field(default_factory=Pending)

    def pack(self) -> bytes:
        parts = [OFFSET.pack(self.offset)]
        if self.pending.entries:
            text = json.dumps({"epoch": self.pending.epoch, "entries": self.pending.entries},
                              separators=(",", ":")).encode()
            parts += [PENDING_MAGIC, LENGTH.pack(len(text)), text]
        parts.append(self.state or b"")
        return b"".join(parts)

    @classmethod
    def unpack(cls, raw: bytes | None) -> AreaRecord:
        if not raw:
            return cls()
        offset = OFFSET.unpack_from(raw)[0]
        at = OFFSET.size
        pending = Pending()
        if raw[at:at + len(PENDING_MAGIC)] == PENDING_MAGIC:
            at += len(PENDING_MAGIC)
            (size,) = LENGTH.unpack_from(raw, at)
            at += LENGTH.size
            data = json.loads(raw[at:at + size])
            pending = Pending(data["epoch"], [(mark, lines) for mark, lines in data["entries"]])
            at += size
        return cls(offset, raw[at:] or None, pending)
