"""Real services for integration tests, each on a free port under a temporary directory.

Integration tests talk to the same binaries production uses (Mosquitto, a
Kafka-protocol broker, VictoriaMetrics) over sockets; they are started once
per test session and stopped at the end.
"""

from __future__ import annotations

import shutil
import tempfile
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


def searchable_temp_dir(prefix: str) -> Path:
    """A fresh directory under the system temp dir that a service's own user can enter.

    Why not pytest's tmp_path: its root is private to the user running the
    tests (mode 700), and Mosquitto started as root drops to user
    ``mosquitto``, which could then not reach its persistence directory.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture
def searchable_tmp() -> Iterator[Path]:
    """Like tmp_path, but reachable by the user Mosquitto drops to (a `gridwatch up` state dir)."""
    path = searchable_temp_dir("gridwatch-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def services_dir() -> Iterator[Path]:
    path = searchable_temp_dir("gridwatch-services-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
