"""Security settings reach the clients that need them, and secrets never leave masked views.

Unit tests of pure mappings (no broker): Kafka TLS/SASL options for aiokafka
and Faust, MQTT address and TLS choice, the ACL text, redaction.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest
import trustme

from gridwatch.clients.kafka import client_options, faust_credentials
from gridwatch.clients.mqtt import broker_address, uses_tls
from gridwatch.config import (
    ConfigError,
    KafkaSettings,
    MqttSettings,
    Settings,
    load_settings,
    settings_as_dict,
    settings_diff,
)
from gridwatch.devstack.mqtt_security import acl_text, bridge_account, concentrator_account


def test_plaintext_kafka_gets_no_credentials() -> None:
    options = client_options(KafkaSettings(url="kafka://k1:9092"))
    assert options == {"bootstrap_servers": "k1:9092", "security_protocol": "PLAINTEXT"}
    assert faust_credentials(KafkaSettings()) is None


def test_sasl_ssl_kafka_maps_every_setting(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    kafka = KafkaSettings(url="kafka://k1:9093;k2:9093", security_protocol="SASL_SSL",
                          sasl_mechanism="SCRAM-SHA-256", sasl_username="gw",
                          sasl_password="pw", ssl_ca_file=str(ca_file))
    options = client_options(kafka)
    assert (options["security_protocol"], options["sasl_mechanism"],
            options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "SASL_SSL", "SCRAM-SHA-256", "gw", "pw")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    credentials = faust_credentials(kafka)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("gw", "pw")
    assert credentials.ssl_context is not None


def test_ssl_only_kafka_gives_faust_ssl_credentials(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    kafka = KafkaSettings(security_protocol="SSL", ssl_ca_file=str(ca_file))
    assert "sasl_mechanism" not in client_options(kafka)
    assert isinstance(faust_credentials(kafka), faust.SSLCredentials)


@pytest.mark.parametrize(("text", "key"), [
    ("kafka: {security_protocol: TLS}", "kafka.security_protocol"),
    ("kafka: {security_protocol: SASL_SSL, sasl_mechanism: GSSAPI}", "kafka.sasl_mechanism"),
    ("kafka: {ssl_cert_file: c.pem}", "kafka.ssl_cert_file"),
    ("mqtt: {cert_file: c.pem}", "mqtt.cert_file"),
    ("alerts: {api: {key_file: k.pem}}", "alerts.api.cert_file"),
])
def test_bad_security_settings_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == key


def test_mqtt_tls_by_scheme_or_ca_with_its_default_port() -> None:
    assert broker_address(MqttSettings(url="mqtts://b")) == ("b", 8883)
    assert broker_address(MqttSettings(url="mqtt://b")) == ("b", 1883)
    assert uses_tls(MqttSettings(url="mqtt://b:8883", ca_file="ca.pem"))
    assert not uses_tls(MqttSettings())


def test_acl_lets_each_concentrator_write_only_its_own_area() -> None:
    text = acl_text([concentrator_account("gw", "C-A1", "A1", "p"),
                     bridge_account("gw", "gw/alerts", "bridge", "q")])
    assert text == ("user C-A1\ntopic write gw/A1/C-A1/readings\n\n"
                    "user bridge\ntopic write gw/alerts\ntopic read gw/+/+/readings\n")
    with pytest.raises(ValueError, match="MQTT topic"):
        concentrator_account("gw", "C-A1", "A1/#")


def test_every_secret_is_masked_and_diffs_never_show_one() -> None:
    secrets = {"GRIDWATCH__MQTT__PASSWORD": "mqtt-s3cret",
               "GRIDWATCH__KAFKA__SASL_PASSWORD": "kafka-s3cret",
               "GRIDWATCH__METRICS__TOKEN": "influx-s3cret",
               "GRIDWATCH__ALERTS__SMTP__PASSWORD": "smtp-s3cret",
               "GRIDWATCH__ALERTS__WEBHOOKS": '[{url: "http://h/x", secret: "hmac-s3cret"}]'}
    settings = load_settings(None, environ=secrets)
    shown = repr(settings_as_dict(settings, redact=True))
    assert "s3cret" not in shown and shown.count("***") == len(secrets)
    assert "s3cret" not in repr(settings_diff(Settings(), settings))
