"""Integration: a real Mosquitto with TLS, per-concentrator accounts and the topic ACL.

Certificates are made in the test (`trustme`); the broker runs with the
files `gridwatch.devstack.mqtt_security` writes; the real bridge (TLS,
its own account) forwards to the real Kafka-protocol broker. A
concentrator publishing with the simulator's publisher reaches Kafka for
its own area only; plain-text, anonymous and wrong-password connections
are refused.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import trustme

from gridwatch.config import MqttSettings
from gridwatch.devstack.mqtt_security import (
    bridge_account,
    concentrator_account,
    write_broker_files,
)
from gridwatch.devstack.processes import base_config, batch, spawn, stop, wait_for, write_config
from gridwatch.devstack.stack import free_port, mosquitto_service
from gridwatch.sensors.publisher import MqttPublisher
from gridwatch.streams.stats import read_stats
from tests.test_integration_mqtt_restart import sent_at_values

PREFIX = "gw-secure"
T0 = 1_767_571_200.0


def connect_result(port: int, *, tls_ca: str = "", username: str = "",
                   password: str = "") -> str:
    """'ok', or why the broker (or the TLS handshake) refused the connection."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{username}")
    outcome: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: outcome.append(
        "ok" if not reason.is_failure else f"refused: {reason}")
    if username:
        client.username_pw_set(username, password)
    if tls_ca:
        client.tls_set(ca_certs=tls_ca)
    try:
        client.connect("127.0.0.1", port, keepalive=5)
        for _ in range(30):
            client.loop(timeout=0.1)
            if outcome:
                break
    except (OSError, ssl.SSLError) as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        client.disconnect()
    return outcome[0] if outcome else "no answer"


@pytest.mark.integration
def test_tls_accounts_and_acl_on_a_real_broker(tmp_path: Path, services_dir: Path,
                                               kafka_url: str) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    certs = services_dir / "secure-certs"
    certs.mkdir()
    ca_file, cert_file, key_file = certs / "ca.pem", certs / "server.pem", certs / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    server.cert_chain_pems[0].write_to_path(str(cert_file))
    server.private_key_pem.write_to_path(str(key_file))
    key_file.chmod(0o644)  # Mosquitto may read it after dropping to its own user
    port = free_port()
    north = concentrator_account(PREFIX, "C-F01-A01", "F01-A01")
    south = concentrator_account(PREFIX, "C-F02-A01", "F02-A01")
    bridge = bridge_account(PREFIX, f"{PREFIX}/alerts", "gridwatch-bridge")
    listener = write_broker_files(services_dir / "secure" / "auth", [north, south, bridge],
                                  "127.0.0.1", port, str(ca_file), str(cert_file),
                                  str(key_file))
    broker = mosquitto_service(services_dir / "secure", "127.0.0.1", port, "mosquitto",
                               listeners=listener)
    broker.start(timeout_s=30)
    url = f"mqtts://127.0.0.1:{port}"
    config = base_config(tmp_path, url, kafka_url, "http://127.0.0.1:9", "secure")
    config["mqtt"] |= {"topic_prefix": PREFIX, "ca_file": str(ca_file),
                       "username": bridge.username, "password": bridge.password}
    stats = tmp_path / "bridge.json"
    process = spawn(write_config(tmp_path / "gw.yaml", config), "bridge", "--stats-file",
                    str(stats), log=tmp_path / "bridge.log")
    try:
        wait_for(lambda: read_stats(stats).get("connected"), 30, "bridge connected over TLS")
        settings = MqttSettings(url=url, ca_file=str(ca_file), username=north.username,
                                password=north.password)
        publisher = MqttPublisher(settings, "north-concentrator")
        forged = batch("F02-A01", "F02", T0, [221.0])
        forged["concentrator"] = "C-F01-A01"
        publisher.publish(f"{PREFIX}/F02-A01/C-F01-A01/readings", json.dumps(forged).encode())
        publisher.publish(f"{PREFIX}/F01-A01/C-F01-A01/readings",
                          json.dumps(batch("F01-A01", "F01", T0 + 900, [220.0])).encode())
        publisher.close()
        wait_for(lambda: read_stats(stats).get("received", 0) >= 1, 30, "the own-area batch")
        probes = {
            "plain text": connect_result(port, username=north.username, password=north.password),
            "anonymous": connect_result(port, tls_ca=str(ca_file)),
            "wrong password": connect_result(port, tls_ca=str(ca_file), username=north.username,
                                             password="guess"),
            "own account": connect_result(port, tls_ca=str(ca_file), username=south.username,
                                          password=south.password),
        }
        received = read_stats(stats)["received"]
    finally:
        stop(process)
        broker.stop()
    assert received == 1  # the forged batch never reached the bridge
    assert asyncio.run(sent_at_values(kafka_url, "secure.readings", 1)) == {T0 + 900}
    assert probes["own account"] == "ok"
    assert probes["plain text"] == "no answer" or probes["plain text"].startswith("failed")
    assert probes["anonymous"].startswith("refused") and probes["wrong password"].startswith(
        "refused")
