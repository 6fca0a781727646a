"""Run GridWatch processes against a stack from Python: configs, children, sample batches.

Why here and not in the tests: the integration tests and `bench/pipeline.py`
both start bridges and workers as child processes with isolated
configurations; the benchmarks must not import the tests (they are not
installed), so the building blocks live with the dev stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..vocabulary.schema import SCHEMA_V1
from .stack import free_port


def write_config(path: Path, overrides: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(overrides))
    return path


def base_config(tmp_path: Path, mosquitto_url: str, kafka_url: str, metrics_url: str,
                name: str) -> dict[str, Any]:
    """A configuration isolated from other tests: own topics, group, client id and ports."""
    return {
        "mqtt": {"url": mosquitto_url, "topic_prefix": f"gw-{name}", "client_id": f"br-{name}",
                 "alerts_topic": f"gw-{name}/alerts"},
        "kafka": {"url": kafka_url, "app_id": f"gw-{name}", "partitions": 2,
                  "readings_topic": f"{name}.readings", "deadletter_topic": f"{name}.dead",
                  "alerts_topic": f"{name}.alerts", "inspections_topic": f"{name}.inspections"},
        "metrics": {"url": metrics_url, "flush_interval_ms": 200},
        "worker": {"web_port": free_port(), "data_dir": str(tmp_path / "worker")},
        "alerts": {"group_id": f"alerts-{name}", "retry_backoff_s": 0.1},
        "stack": {"state_dir": str(tmp_path / "state")},
    }


def spawn(config: Path, *command: str, log: Path) -> subprocess.Popen:
    """Run `gridwatch -c CONFIG COMMAND...` as a child process, output to `log`."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "gridwatch", "-c", str(config), *command],
                                stdout=out, stderr=subprocess.STDOUT, env=env)


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def stopped_within(process: subprocess.Popen, limit_s: float) -> float:
    """Seconds from SIGTERM to exit (the process is killed if it overruns, to clean up)."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(limit_s + 10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.monotonic() - started


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def reading(meter: str, ts: float, volts: float, energy: float, role: str = "customer") -> dict:
    return {"meter": meter, "ts": ts, "role": role, "phases": 1, "energy_kwh": energy,
            "voltage": [volts], "current": [5.0], "power_kw": 1.0, "pf": 0.95}


def batch(area: str, feeder: str, ts: float, volts: list[float]) -> dict:
    readings = [reading(f"{area}-M{i:02d}", ts, v, 100 + ts / 3600) for i, v in enumerate(volts)]
    readings.append(reading(f"{area}-AREA", ts, 225.0, 5000 + ts / 360, role="area"))
    return {"schema": SCHEMA_V1, "concentrator": f"C-{area}", "area": area, "feeder": feeder,
            "sent_at": ts, "readings": readings}
