"""Batch schema validation: good batches parse, every bad one says why."""

import json

import pytest

from gridwatch.vocabulary.schema import SCHEMA_V1, SchemaError, parse_batch


def good() -> dict:
    return {"schema": SCHEMA_V1, "concentrator": "C1", "area": "A1", "feeder": "F1",
            "sent_at": 1.0, "readings": [
                {"meter": "M1", "ts": 900, "energy_kwh": 10.0, "voltage": [220.0],
                 "current": [1.0]},
                {"meter": "M2", "ts": 900, "phases": 3, "role": "customer", "energy_kwh": 5.0,
                 "voltage": [220.0, 221.0, 219.0], "current": [1.0, 1.1, 0.9],
                 "events": ["cover_open"]}]}


def test_good_batch_parses() -> None:
    batch = parse_batch(json.dumps(good()).encode())
    assert [r.meter for r in batch.readings] == ["M1", "M2"]
    assert batch.readings[1].voltage == [220.0, 221.0, 219.0]
    assert parse_batch(batch.to_json()).to_dict() == batch.to_dict()


def mutate(path: tuple, value: object) -> bytes:
    obj = good()
    node = obj
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(obj).encode()


@pytest.mark.parametrize(("payload", "reason"), [
    (b"\xff\xfe", "not UTF-8"),
    (b"{oops", "not JSON"),
    (b"[]", "must be a JSON object"),
    (mutate(("schema",), "gridwatch.batch.v0"), "unsupported schema"),
    (mutate(("readings",), []), "non-empty list"),
    (mutate(("area",), ""), "'area'"),
    (mutate(("readings", 0, "ts"), KeyError), "missing field 'ts'"),
    (mutate(("readings", 0, "energy_kwh"), "12"), "'energy_kwh' must be a number"),
    (mutate(("readings", 0, "voltage"), [-1.0]), "not a finite number >= 0"),
    (mutate(("readings", 1, "voltage"), [220.0]), "list of 3 number"),
    (mutate(("readings", 0, "phases"), 2), "'phases' must be 1 or 3"),
    (mutate(("readings", 0, "role"), "feeder"), "'role'"),
    (mutate(("readings", 1, "events"), ["alien"]), "unknown event"),
])
def test_bad_batches_are_rejected_with_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(SchemaError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_batch(payload)


def test_nan_is_rejected() -> None:
    payload = json.dumps(good()).replace('"energy_kwh": 10.0', '"energy_kwh": NaN').encode()
    with pytest.raises(SchemaError, match="finite"):
        parse_batch(payload)


def test_trusted_rebuild_equals_validated_parse() -> None:
    from gridwatch.vocabulary.schema import parse_batch_obj, trusted_batch

    assert trusted_batch(good()).to_dict() == parse_batch_obj(good()).to_dict()
