"""Bridge routing: valid batches keyed by area, everything else dead-lettered with a reason."""

import base64
import json

from gridwatch.config import Settings
from gridwatch.devstack.processes import batch
from gridwatch.streams.bridge import MqttKafkaBridge

PREFIX = Settings().mqtt.topic_prefix


def route(topic: str, payload: bytes):
    return MqttKafkaBridge(Settings()).route(topic, payload)


def test_valid_batch_goes_to_readings_keyed_by_area() -> None:
    payload = json.dumps(batch("F1-A1", "F1", 900.0, [220.0, 219.0])).encode()
    routed = route(f"{PREFIX}/F1-A1/C-F1-A1/readings", payload)
    assert (routed.topic, routed.key, routed.dead) == ("gridwatch.readings", b"F1-A1", False)
    assert routed.value == payload and routed.readings == 3


def test_malformed_payload_keeps_raw_bytes_topic_and_reason() -> None:
    routed = route(f"{PREFIX}/F1-A1/C-F1-A1/readings", b"\x00garbage")
    record = json.loads(routed.value)
    assert routed.dead and routed.topic == "gridwatch.deadletter"
    assert base64.b64decode(record["raw_b64"]) == b"\x00garbage"
    assert record["mqtt_topic"] == f"{PREFIX}/F1-A1/C-F1-A1/readings"
    assert "not JSON" in record["reason"]


def test_payload_published_under_another_areas_topic_is_rejected() -> None:
    payload = json.dumps(batch("F1-A1", "F1", 900.0, [220.0])).encode()
    routed = route(f"{PREFIX}/F1-A2/C-F1-A2/readings", payload)
    assert routed.dead and "was published on" in json.loads(routed.value)["reason"]


def test_oversized_payload_is_rejected() -> None:
    settings = Settings()
    settings.bridge.max_payload_bytes = 10
    payload = json.dumps(batch("F1-A1", "F1", 900.0, [220.0])).encode()
    routed = MqttKafkaBridge(settings).route(f"{PREFIX}/F1-A1/C-F1-A1/readings", payload)
    assert routed.dead and "max_payload_bytes" in json.loads(routed.value)["reason"]


def test_forwarded_batch_carries_a_stable_id_in_a_header() -> None:
    payload = json.dumps(batch("F1-A1", "F1", 900.0, [220.0])).encode()
    topic = f"{PREFIX}/F1-A1/C-F1-A1/readings"
    first, again = route(topic, payload), route(topic, payload)
    resent = route(topic, json.dumps(batch("F1-A1", "F1", 900.0, [220.0]) | {"sent_at": 960.0}
                                     ).encode())
    assert first.headers() == again.headers() and len(first.batch_id) == 32
    assert resent.batch_id != first.batch_id
    assert route(topic, b"junk").headers() == []
