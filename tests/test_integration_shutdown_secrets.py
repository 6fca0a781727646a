"""Integration: bridge and dispatcher stop within 5 s of SIGTERM, and no secret leaks.

Both run as real processes with every secret of the configuration set
(MQTT and SMTP passwords, Kafka SASL password, metrics token, webhook HMAC
key). They do real work that logs and dead-letters: a malformed and a
valid batch through the bridge, an alert whose webhook is down (retries in
flight when SIGTERM arrives), at debug log level. Then their logs and final output, the
dead-letter records and `gridwatch config --json` are searched for every
secret value.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridwatch.alerts.sqlite_store import SqliteAlertStore
from gridwatch.alerts.store import AlertQuery
from gridwatch.config import load_settings
from gridwatch.devstack.processes import (
    base_config,
    batch,
    spawn,
    stopped_within,
    wait_for,
    write_config,
)
from gridwatch.devstack.stack import free_port
from gridwatch.streams.stats import read_stats
from tests.test_alerts_dispatcher import finding, produce
from tests.test_integration_pipeline import deadletters, publish

SECRETS = {"mqtt": "mqtt-pw-7Qz81", "kafka": "sasl-pw-4Kd02", "metrics": "influx-tk-9Vb33",
           "smtp": "smtp-pw-2Lm44", "webhook": "hmac-key-5Np55"}
STOP_WITHIN_S = 5.0


@pytest.mark.integration
def test_components_stop_quickly_and_never_reveal_secrets(tmp_path: Path, mosquitto_url: str,
                                                           kafka_url: str) -> None:
    config = base_config(tmp_path, mosquitto_url, kafka_url, "http://127.0.0.1:9", "secrets")
    config["mqtt"] |= {"username": "gridwatch", "password": SECRETS["mqtt"]}
    config["kafka"] |= {"sasl_password": SECRETS["kafka"]}
    config["metrics"] |= {"token": SECRETS["metrics"]}
    config["alerts"] |= {
        "store_path": str(tmp_path / "alerts.sqlite"), "group_wait_s": 0.1, "retries": 50,
        "retry_window_s": 30.0, "smtp": {"password": SECRETS["smtp"]},
        "webhooks": [{"url": f"http://127.0.0.1:{free_port()}/hook", "timeout_s": 1.0,
                      "secret": SECRETS["webhook"]}]}
    path = write_config(tmp_path / "gw.yaml", config)
    settings = load_settings(path, environ={})
    stats = tmp_path / "bridge.json"
    bridge = spawn(path, "-vv", "bridge", "--stats-file", str(stats), log=tmp_path / "bridge.log")
    dispatcher = spawn(path, "-vv", "alerts", "dispatch", "--json",
                       log=tmp_path / "dispatcher.log")
    try:
        wait_for(lambda: read_stats(stats).get("connected"), 30, "bridge connected")
        topic = "gw-secrets/F01-A01/C-F01-A01/readings"
        publish(mosquitto_url, [(topic, b"{not json"),
                                (topic, json.dumps(batch("F01-A01", "F01", 900.0,
                                                         [220.0])).encode())])
        wait_for(lambda: read_stats(stats).get("received", 0) >= 2, 30, "both batches")
        asyncio.run(produce(settings, [finding("outage_area", "F01-A01")]))
        store = SqliteAlertStore(settings.alerts.store_path)
        try:
            wait_for(lambda: bool(store.list_alerts(AlertQuery())), 60, "the alert stored")
        finally:
            store.close()
        time.sleep(1.5)  # the webhook delivery is now retrying against a dead port
    finally:
        bridge_s = stopped_within(bridge, STOP_WITHIN_S)
        dispatcher_s = stopped_within(dispatcher, STOP_WITHIN_S)
    assert bridge.returncode == 0 and dispatcher.returncode == 0
    print(f"stopped after SIGTERM: bridge {bridge_s:.2f} s, dispatcher {dispatcher_s:.2f} s")
    assert bridge_s < STOP_WITHIN_S and dispatcher_s < STOP_WITHIN_S
    shown = subprocess.run([sys.executable, "-m", "gridwatch", "-c", str(path), "config",
                            "--json"], capture_output=True, text=True, check=True).stdout
    letters = asyncio.run(deadletters(kafka_url, "secrets.dead", timeout_s=5))
    assert letters and "not JSON" in letters[0]["reason"]
    outputs = {"bridge log": (tmp_path / "bridge.log").read_text(),
               "dispatcher log": (tmp_path / "dispatcher.log").read_text(),
               "config --json": shown, "dead letters": json.dumps(letters),
               "bridge stats": stats.read_text()}
    assert "delivery to default/webhooks[0] failed" in outputs["dispatcher log"]
    assert "dead-lettered a payload" in outputs["bridge log"]  # logged at debug level
    leaks = {(name, key) for name, text in outputs.items() for key, secret in SECRETS.items()
             if secret in text}
    assert leaks == set()
