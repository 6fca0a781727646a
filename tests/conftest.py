"""Real services for integration tests, each on a free port under a temporary directory.

Integration tests talk to the same binaries production uses (Mosquitto, a
Kafka-protocol broker, VictoriaMetrics) over sockets; they are started once
per test session and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridwatch.devstack.stack import (
    Service,
    free_port,
    mosquitto_service,
    tansu_service,
    victoria_metrics_service,
)


def _serve(service: Service, url: str) -> Iterator[str]:
    service.start(timeout_s=30)
    try:
        yield url
    finally:
        service.stop()


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def mosquitto_url(services_dir: Path) -> Iterator[str]:
    """URL of a real Mosquitto broker (mqtt://127.0.0.1:PORT)."""
    port = free_port()
    yield from _serve(mosquitto_service(services_dir, "127.0.0.1", port, "mosquitto"),
                      f"mqtt://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def kafka_url(services_dir: Path) -> Iterator[str]:
    """URL of a real Kafka-protocol broker, tansu (kafka://127.0.0.1:PORT)."""
    port = free_port()
    yield from _serve(tansu_service(services_dir, "127.0.0.1", port, ""), f"kafka://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def metrics_url(services_dir: Path) -> Iterator[str]:
    """URL of a real VictoriaMetrics (http://127.0.0.1:PORT), InfluxDB v2 writes accepted."""
    port = free_port()
    service = victoria_metrics_service(services_dir, "127.0.0.1", port, "victoria-metrics")
    yield from _serve(service, f"http://127.0.0.1:{port}")
