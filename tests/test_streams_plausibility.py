"""Plausibility bounds and dead-letter size at the bridge, plus a fuzz test of its parser.

Every absurd but schema-valid value must become a dead letter whose reason
names the quantity and the configured bound; every simulated scenario
reading (all labelled kinds of `scenarios/ci.yaml`) must still pass; and no
input at all may make `route` raise.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridwatch.config import Settings, load_settings
from gridwatch.devstack.processes import batch
from gridwatch.sensors.offline import StreamFile, scenario_run, write_parquet
from gridwatch.sensors.scenarios import load_scenario
from gridwatch.sensors.stream import iter_batches
from gridwatch.streams.bridge import MqttKafkaBridge, Routed
from gridwatch.vocabulary.schema import parse_batch

ROOT = Path(__file__).resolve().parents[1]
PREFIX = Settings().mqtt.topic_prefix
TOPIC = f"{PREFIX}/F1-A1/C-F1-A1/readings"


def route(payload: bytes, config: Settings | None = None, topic: str = TOPIC) -> Routed:
    return MqttKafkaBridge(config or Settings()).route(topic, payload)


def with_reading(**fields: Any) -> bytes:
    body = batch("F1-A1", "F1", 900.0, [220.0, 221.0])
    body["readings"][0].update(fields)
    return json.dumps(body).encode()


@pytest.mark.parametrize(("fields", "quantity", "bound"), [
    ({"energy_kwh": 1e300}, "energy_kwh", "[0, 1e+09]"),
    ({"reverse_kwh": 5e12}, "reverse_kwh", "[0, 1e+09]"),
    ({"voltage": [1e6]}, "voltage_v", "[0, 1000]"),
    ({"current": [2e5]}, "current_a", "[0, 10000]"),
    ({"power_kw": -3e7}, "power_kw", "[-100000, 100000]"),
    ({"pf": 1e10}, "pf", "[-1, 1]"),
    ({"rated_kva": 1e9}, "rated_kva", "[0, 100000]"),
])
def test_absurd_value_is_dead_lettered_naming_quantity_and_bound(
        fields: dict[str, Any], quantity: str, bound: str) -> None:
    routed = route(with_reading(**fields))
    reason = json.loads(routed.value)["reason"]
    assert routed.dead
    assert f"bridge.plausible.{quantity}" in reason and bound in reason
    assert "readings[0]" in reason and "F1-A1-M00" in reason


def test_register_running_backwards_within_a_batch_is_dead_lettered() -> None:
    body = batch("F1-A1", "F1", 900.0, [220.0])
    later = dict(body["readings"][0], ts=1800.0, energy_kwh=body["readings"][0]["energy_kwh"] - 3)
    body["readings"].insert(0, later)  # out of order on the wire: judged in time order
    routed = route(json.dumps(body).encode())
    reason = json.loads(routed.value)["reason"]
    assert routed.dead and "energy_kwh changed by -3 kWh" in reason
    assert "energy_step_kwh" in reason and "readings[0]" in reason


def test_bounds_are_configurable_per_quantity(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("bridge: {plausible: {voltage_v: {min: 100.0, max: 300.0}}}\n")
    custom = load_settings(path, environ={})
    assert route(with_reading(voltage=[90.0]), custom).dead
    assert not route(with_reading(voltage=[90.0])).dead
    path.write_text("bridge: {plausible: {pf: {min: 1.0, max: -1.0}}}\n")
    with pytest.raises(ValueError, match="bridge.plausible.pf.min"):
        load_settings(path, environ={})


def test_every_reading_of_the_ci_scenario_is_plausible(tmp_path: Path) -> None:
    path = tmp_path / "ci.parquet"
    write_parquet(scenario_run(load_scenario(ROOT / "scenarios" / "ci.yaml"), 5), path)
    bridge, checked = MqttKafkaBridge(Settings()), 0
    for table in StreamFile.open(path).tables():
        for one in iter_batches(table):
            routed = bridge.route(f"{PREFIX}/{one.area}/{one.concentrator}/readings",
                                  one.to_json())
            assert not routed.dead, json.loads(routed.value)["reason"]
            checked += len(one.readings)
    assert checked > 10_000


def test_oversized_payload_keeps_digest_size_and_prefix_under_the_limit() -> None:
    config = Settings()
    config.bridge.max_payload_bytes = 8_000_000
    payload = b'{"schema": "' + b"x" * 5_000_000 + b'"}'
    record_bytes = route(payload, config).value
    record = json.loads(record_bytes)
    assert len(record_bytes) <= config.bridge.deadletter_max_bytes
    assert record["truncated"] and record["raw_size"] == len(payload)
    assert record["raw_sha256"] == hashlib.sha256(payload).hexdigest()
    prefix = base64.b64decode(record["raw_prefix_b64"])
    assert payload.startswith(prefix) and len(prefix) > 500_000
    assert len(record["reason"]) < 2_100


@pytest.mark.parametrize("payload", [
    with_reading(energy_kwh=10**400), with_reading(voltage=[-(10**350)]),
    b'{"schema": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000,
])
def test_numbers_json_cannot_hold_in_a_float_are_dead_lettered(payload: bytes) -> None:
    routed = route(payload)
    assert routed.dead and "bridge could not validate" not in json.loads(routed.value)["reason"]


def test_small_rejected_payload_is_kept_whole() -> None:
    record = json.loads(route(b"\x00garbage").value)
    assert not record["truncated"] and base64.b64decode(record["raw_b64"]) == b"\x00garbage"


# --- fuzz: every input is accepted or dead-lettered with a reason; nothing raises ---------

numbers = st.one_of(st.integers(-10**30, 10**30), st.integers(10**300, 10**400),
                    st.floats(allow_nan=True, allow_infinity=True))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
FIELDS = ["meter", "ts", "role", "phases", "energy_kwh", "voltage", "current", "power_kw", "pf",
          "reverse_kwh", "events", "rated_kva"]
TOP = ["schema", "concentrator", "area", "feeder", "sent_at", "readings"]


@st.composite
def mutated_batches(draw: st.DrawFn) -> bytes:
    """A valid batch with some fields replaced by arbitrary JSON values or removed."""
    body = batch("F1-A1", "F1", 900.0, [220.0, 221.0, 219.5])
    readings = body["readings"]
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            target, name = body, draw(st.sampled_from(TOP))
        else:
            target, name = draw(st.sampled_from(readings)), draw(st.sampled_from(FIELDS))
        if draw(st.integers(0, 5)) == 0:
            target.pop(name, None)
        else:
            target[name] = draw(json_values)
    return json.dumps(body, allow_nan=True).encode()


def assert_routed_safely(payload: bytes, topic: str = TOPIC) -> None:
    routed = route(payload, topic=topic)
    if routed.dead:
        record = json.loads(routed.value)
        assert record["reason"] and record["raw_size"] == len(payload)
        assert len(routed.value) <= Settings().bridge.deadletter_max_bytes
    else:
        parsed = parse_batch(routed.value)
        assert routed.key == parsed.area.encode() and routed.readings == len(parsed.readings)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_batches())
def test_fuzz_mutated_batches_are_accepted_or_dead_lettered(payload: bytes) -> None:
    assert_routed_safely(payload)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), json_values.map(
    lambda v: json.dumps(v, allow_nan=True).encode())),
       st.text(max_size=60))
def test_fuzz_arbitrary_bytes_and_topics_never_raise(payload: bytes, topic: str) -> None:
    assert_routed_safely(payload, topic)
