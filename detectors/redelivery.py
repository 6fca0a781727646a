"""Batches our own transport delivered twice, told apart from a meter's duplicate readings.

Why: MQTT QoS 1 and the bridge's acknowledge-after-Kafka make the transport
at-least-once. A bridge killed after Kafka took a batch but before MQTT got
the acknowledgement is sent the batch again, and produces it again under a
new Kafka offset. Screened like any upload, its readings would be a second
reading of every meter for the same interval: a ``dq_duplicate`` blamed on
the meters for what our own pipeline did.

How: the bridge stamps every batch with a stable id, the digest of the MQTT
payload (`batch_id`), carried in a Kafka record header. Each area's state
remembers the last ``keep`` ids per concentrator; a batch whose id is among
them is the very same upload again and is skipped (and counted by the
worker). A meter that really sends a reading twice does so in a *new* upload
(another ``sent_at``, other readings beside it), so its batch has a new id
and the data-quality screen still reports the duplicate.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

BATCH_ID_HEADER = "gridwatch-batch-id"
KEEP = 64        # ids remembered per concentrator: far more than one bridge batch redelivers


def batch_id(payload: bytes) -> str:
    """The stable id of an upload: the first 128 bits of its payload's SHA-256, in hex.

    >>> payload = b'{"schema": "gridwatch.batch.v1"}'
    >>> batch_id(payload) == batch_id(bytes(payload))
    True
    >>> len(batch_id(b"x"))
    32
    """
    return hashlib.sha256(payload).hexdigest()[:32]


class RedeliveryState(TypedDict, total=False):
    """The slice of ``AreaState.scalars`` this module owns."""

    batch_ids: dict[str, list[str]]     # concentrator -> its last ids, oldest first


class Redeliveries:
    """Remembers each concentrator's recent batch ids in the area state; spots a repeat.

    >>> scalars = {}
    >>> seen = Redeliveries(keep=2)
    >>> [seen.repeated(scalars, "C1", i) for i in ("a", "b", "a", "c", "a")]
    [False, False, True, False, False]
    >>> scalars["batch_ids"]
    {'C1': ['c', 'a']}
    >>> seen.repeated(scalars, "C1", None)
    False
    """

    State = RedeliveryState

    def __init__(self, keep: int = KEEP) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.keep = keep

    def repeated(self, scalars: dict, concentrator: str, batch_id: str | None) -> bool:
        """True if ``batch_id`` was already applied for ``concentrator``; otherwise note it.

        A batch without an id (an older bridge, the evaluator) is never a repeat.
        """
        if batch_id is None:
            return False
        ids = scalars.setdefault("batch_ids", {}).setdefault(concentrator, [])
        if batch_id in ids:
            return True
        ids.append(batch_id)
        del ids[:-self.keep]
        return False
