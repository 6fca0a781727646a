"""Malformed concentrator messages, to prove the bridge rejects each kind with a reason.

Why varied: real field devices send every sort of garbage (truncated uploads,
old firmware with another schema, a meter reporting a negative voltage,
binary noise). Each corruption below breaks exactly one rule of
`gridwatch.vocabulary.schema`, so a dead letter's reason can be checked against
the corruption that produced it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from ..vocabulary.schema import Batch


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _not_json(batch: Batch, rng: random.Random) -> bytes:
    return b"AT+UPLOAD " + batch.concentrator.encode() + b" ERR 0x1F"


def _truncated(batch: Batch, rng: random.Random) -> bytes:
    raw = batch.to_json()
    return raw[: max(1, len(raw) // 2)]


def _non_utf8(batch: Batch, rng: random.Random) -> bytes:
    return b'{"schema":"gridwatch.batch.v1","area":"\xff\xfe' + bytes([0x80 + rng.randrange(64)])


def _wrong_schema(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    obj["schema"] = "gridwatch.batch.v0"
    return _dumps(obj)


def _missing_field(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    reading = obj["readings"][rng.randrange(len(obj["readings"]))]
    del reading[rng.choice(("meter", "ts", "energy_kwh", "voltage"))]
    return _dumps(obj)


def _negative_voltage(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    reading = obj["readings"][rng.randrange(len(obj["readings"]))]
    reading["voltage"] = [-abs(v) - 1.0 for v in reading["voltage"]]
    return _dumps(obj)


def _wrong_phase_count(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    reading = obj["readings"][rng.randrange(len(obj["readings"]))]
    reading["current"] = reading["current"] + [0.0, 0.0]
    return _dumps(obj)


def _text_number(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    reading = obj["readings"][rng.randrange(len(obj["readings"]))]
    reading["energy_kwh"] = str(reading["energy_kwh"])
    return _dumps(obj)


def _empty_readings(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    obj["readings"] = []
    return _dumps(obj)


def _unknown_event(batch: Batch, rng: random.Random) -> bytes:
    obj = batch.to_dict()
    obj["readings"][0]["events"] = ["firmware_panic"]
    return _dumps(obj)


CORRUPTIONS: dict[str, Callable[[Batch, random.Random], bytes]] = {
    "not_json": _not_json,
    "truncated_json": _truncated,
    "non_utf8": _non_utf8,
    "wrong_schema": _wrong_schema,
    "missing_field": _missing_field,
    "negative_voltage": _negative_voltage,
    "wrong_phase_count": _wrong_phase_count,
    "number_as_text": _text_number,
    "empty_readings": _empty_readings,
    "unknown_event": _unknown_event,
}


def corrupt(batch: Batch, rng: random.Random) -> tuple[str, bytes]:
    """A malformed payload derived from ``batch``: (corruption name, bytes).

    >>> from gridwatch.vocabulary.schema import Reading, SchemaError, parse_batch
    >>> b = Batch("C1", "A1", "F1", 1.0, [Reading("M1", 900, "customer", 1, 1.0, [220.0], [1.0])])
    >>> rng = random.Random(0)
    >>> rejected = set()
    >>> for name, fn in CORRUPTIONS.items():
    ...     try:
    ...         parse_batch(fn(b, rng))
    ...     except SchemaError:
    ...         rejected.add(name)
    >>> rejected == set(CORRUPTIONS)
    True
    """
    name = rng.choice(sorted(CORRUPTIONS))
    return name, CORRUPTIONS[name](batch, rng)
