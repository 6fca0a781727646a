"""The fixtures start real services that answer on their sockets."""

import urllib.request

import pytest

from gridwatch.config import host_port
from gridwatch.devstack.stack import MissingBinaryError, port_open, which_or_raise


@pytest.mark.integration
def test_real_services_answer(mosquitto_url: str, kafka_url: str, metrics_url: str) -> None:
    assert port_open(*host_port(mosquitto_url, 1883))
    assert port_open(*host_port(kafka_url, 9092))
    with urllib.request.urlopen(f"{metrics_url}/health") as response:
        assert response.read().strip() == b"OK"


def test_missing_binary_says_what_to_install() -> None:
    with pytest.raises(MissingBinaryError, match="apt-get install -y mosquitto"):
        which_or_raise("mosquitto", "/nonexistent/mosquitto")


def test_host_port_takes_first_broker() -> None:
    assert host_port("kafka://k1:9093;k2:9094", 9092) == ("k1", 9093)
    assert host_port("mqtt://broker", 1883) == ("broker", 1883)
