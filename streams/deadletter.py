"""Dead-letter records of the bridge, kept under the Kafka message limit.

Why a limit: a broker refuses a record over its ``message.max.bytes``
(1 MB by default), and a refused dead letter would block the bridge's
acknowledgements. A payload small enough travels whole (base64); a bigger
one is kept as its SHA-256 digest, its size and a prefix, enough to find
the sender's copy and see what it was. The reason is capped too: a schema
error can quote a field whose value is megabytes long.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

REASON_MAX_CHARS = 2_000
ENVELOPE_RESERVE = 2_048  # field names, topic, timestamps, digest


def deadletter_record(reason: str, mqtt_topic: str, payload: bytes, max_bytes: int,
                      received_at: float | None = None) -> bytes:
    """The JSON dead-letter record for `payload`, at most `max_bytes` long.

    >>> small = json.loads(deadletter_record("bad", "t", b"abc", 4096))
    >>> small["raw_b64"], small["raw_size"], small["truncated"]
    ('YWJj', 3, False)
    >>> big = json.loads(deadletter_record("bad", "t", b"x" * 100_000, 8192))
    >>> big["truncated"], big["raw_size"], len(base64.b64decode(big["raw_prefix_b64"])) < 8192
    (True, 100000, True)
    """
    if len(reason) > REASON_MAX_CHARS:
        reason = reason[:REASON_MAX_CHARS] + f"... ({len(reason)} characters in all)"
    topic = mqtt_topic[:1024]
    record: dict[str, Any] = {
        "reason": reason, "mqtt_topic": topic,
        "received_at": time.time() if received_at is None else received_at,
        "raw_size": len(payload), "raw_sha256": hashlib.sha256(payload).hexdigest(),
    }
    budget = max_bytes - len(json.dumps(record)) - ENVELOPE_RESERVE
    if 4 * ((len(payload) + 2) // 3) <= budget:
        record |= {"truncated": False, "raw_b64": base64.b64encode(payload).decode()}
    else:
        prefix = payload[:max(0, budget) * 3 // 4]
        record |= {"truncated": True, "raw_prefix_b64": base64.b64encode(prefix).decode()}
    return json.dumps(record).encode()
