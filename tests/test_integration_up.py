"""Integration: `gridwatch up` starts the embedded stack itself and runs the whole system.

Every service is given a free port, so `up` finds none of them reachable and
starts real Mosquitto, tansu and VictoriaMetrics as its children, then the
bridge, a worker, the dispatcher, the API and the simulator (with malformed
messages injected), and reports what flowed through. With no receiver
configured, the alerts go to the local receiver; the default demo scenario,
back-dated to end at now, must raise several kinds of alerts and leave
readings stamped in the last hour in VictoriaMetrics (read back by `up`
before it stops the store).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridwatch.devstack.processes import write_config
from gridwatch.devstack.stack import free_port, port_open


@pytest.mark.integration
def test_up_runs_everything_and_reports_json(tmp_path: Path, searchable_tmp: Path) -> None:
    ports = {name: free_port() for name in ("mqtt", "kafka", "metrics", "web", "api")}
    config = write_config(tmp_path / "gridwatch.yaml", {
        "mqtt": {"url": f"mqtt://127.0.0.1:{ports['mqtt']}"},
        "kafka": {"url": f"kafka://127.0.0.1:{ports['kafka']}", "partitions": 2},
        "metrics": {"url": f"http://127.0.0.1:{ports['metrics']}"},
        "worker": {"web_port": ports["web"]},
        "alerts": {"api": {"port": ports["api"]}},
        "simulator": {"speed": 5760.0},
        "stack": {"state_dir": str(searchable_tmp / "state")},
    })
    result = subprocess.run(
        [sys.executable, "-m", "gridwatch", "-c", str(config), "up", "--duration", "45",
         "--bad-rate", "0.05", "--json"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH")})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("readings_published", "readings_processed", "alerts_raised",
                "alerts_delivered", "metrics_written", "deadletters"):
        assert report[key] > 0, (key, report, result.stderr[-2000:])
    assert report["readings_processed"] == report["readings_forwarded"]
    assert 40 <= report["duration_s"] <= 90
    assert report["notifications_received"] > 0, report
    assert len(report["received_by_kind"]) >= 5, report["received_by_kind"]
    assert report["metrics_last_hour"] > 0, report
    assert report["metrics_last_day"] > report["metrics_last_hour"], report
    assert time.time() - report["simulated_until"] < 3600, report["simulated_until"]
    views = report["views"]
    api = f"http://127.0.0.1:{ports['api']}"
    assert views["work_orders"] == f"{api}/ui/"
    assert views["api"] == f"{api}/openapi.json"
    assert views["dashboards_dir"] == str(searchable_tmp / "state" / "dashboards")
    assert views["receiver"].startswith("http://127.0.0.1:")
    for where in (views["work_orders"], views["dashboards_command"], views["api"]):
        assert where in result.stderr, where
    store_log = (searchable_tmp / "state" / "logs" / "victoria-metrics.log").read_text()
    assert "timestamp older than" not in store_log, store_log[-2000:]
    assert not any(port_open("127.0.0.1", port) for port in ports.values()), \
        "up left a service running"
