"""Offline files: same seed same bytes, the file replays as the stream it recorded."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
import yaml

from gridwatch.cli import main
from gridwatch.config import Settings
from gridwatch.sensors.offline import StreamFile, labels_path_for, scenario_run, write_parquet
from gridwatch.sensors.replay import replay_file
from gridwatch.sensors.scenarios import load_scenario, parse_scenario
from gridwatch.sensors.stream import iter_batches
from gridwatch.vocabulary.labels import read_labels
from gridwatch.vocabulary.schema import parse_batch

ROOT = Path(__file__).resolve().parents[1]
RAW = {"days": 3, "warmup_days": 1,
       "grid": {"substations": 1, "feeders_per_substation": 1, "areas_per_feeder": 3,
                "meters_per_area": 10, "meters_spread": 0.3},
       "events": [{"kind": "dq_duplicate"}, {"kind": "theft_bypass"}, {"kind": "outage_area"}]}


def _write(path: Path, seed: int) -> str:
    write_parquet(scenario_run(parse_scenario(RAW), seed), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_ci(path: Path) -> str:
    write_parquet(scenario_run(load_scenario(ROOT / "scenarios" / "ci.yaml"), 9), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_in_another_process(tmp_path: Path) -> None:
    """Another process (other hash seed, other memory layout) writes the same bytes; a
    padded dictionary once leaked uninitialised memory into the file, so this matters."""
    first = _write_ci(tmp_path / "a.parquet")
    code = ("import sys; from pathlib import Path; "
            "from tests.test_sensors_stream import _write_ci; "
            "print(_write_ci(Path(sys.argv[1])))")
    again = subprocess.run([sys.executable, "-c", code, str(tmp_path / "b.parquet")],
                           capture_output=True, text=True, check=True, cwd=ROOT,
                           env=os.environ | {"PYTHONHASHSEED": "123"}).stdout.strip()
    assert first == again
    assert (labels_path_for(tmp_path / "a.parquet").read_bytes()
            == labels_path_for(tmp_path / "b.parquet").read_bytes())


def test_other_seed_other_bytes(tmp_path: Path) -> None:
    assert _write(tmp_path / "a.parquet", 5) != _write(tmp_path / "b.parquet", 6)


def test_file_holds_the_stream_and_its_labels(tmp_path: Path) -> None:
    path = tmp_path / "run.parquet"
    run = scenario_run(parse_scenario(RAW), 5)
    in_memory = [b.to_json() for day in scenario_run(parse_scenario(RAW), 5).days_iter()
                 for b in iter_batches(day.rows)]
    counts = write_parquet(run, path)
    stream = StreamFile.open(path)
    from_file = [b.to_json() for t in stream.tables() for b in iter_batches(t)]
    assert from_file == in_memory
    assert counts["readings"] == stream.num_rows == sum(
        len(parse_batch(raw).readings) for raw in from_file)
    assert stream.labels == run.labels == read_labels(labels_path_for(path))
    sent = [parse_batch(raw).sent_at for raw in from_file]
    assert sent == sorted(sent)


def test_a_foreign_file_is_refused_with_its_name(tmp_path: Path) -> None:
    bogus = tmp_path / "x.parquet"
    bogus.write_bytes(b"not parquet at all")
    with pytest.raises(ValueError, match="x.parquet"):
        StreamFile.open(bogus)


@pytest.mark.integration
def test_replay_publishes_every_batch_of_the_file(tmp_path: Path, mosquitto_url: str) -> None:
    path = tmp_path / "run.parquet"
    write_parquet(scenario_run(parse_scenario(RAW | {"days": 1, "events": []}), 2), path)
    expected = sum(1 for t in StreamFile.open(path).tables() for _ in iter_batches(t))
    settings = Settings()
    settings.mqtt.url = mosquitto_url
    settings.mqtt.topic_prefix = "replay-test"
    settings.simulator.speed = 86_400.0 / 1.5          # the day in 1.5 s
    received: list[bytes] = []
    ready = threading.Event()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                         client_id="test-replay")
    client.on_connect = lambda c, *_: c.subscribe("replay-test/#", qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda c, u, msg: received.append(msg.payload)
    url = urlparse(mosquitto_url)
    client.connect(url.hostname, url.port)
    client.loop_start()
    try:
        assert ready.wait(10)
        started = time.monotonic()
        result = replay_file(settings, path)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 10
        while len(received) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.loop_stop()
        client.disconnect()
    assert result["batches_published"] == expected == len(received)
    assert result["complete"] is True
    assert 1.0 < elapsed < 6.0                       # paced, not dumped at once
    assert all(parse_batch(p).readings for p in received)


def test_cli_writes_a_file_and_refuses_wrong_combinations(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(RAW))
    out = tmp_path / "s.parquet"
    assert main(["simulate", "--scenario", str(scenario), "--seed", "3", "--out", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["readings"] == StreamFile.open(out).num_rows > 0 and result["labels"] == 3
    assert main(["simulate", "--live", "--out", str(out)]) == 2
    assert main(["simulate", "--scenario", str(scenario), "--out", str(tmp_path / "x.csv")]) == 2
    assert "must name a .parquet file" in capsys.readouterr().err
