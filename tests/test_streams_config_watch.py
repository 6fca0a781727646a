"""Hot reload: a changed file is validated, detector keys apply live and are logged old -> new."""

import logging
import os
from pathlib import Path

import pytest

from gridwatch.config import ConfigError, load_settings
from gridwatch.detectors.pipeline import AreaPipeline
from gridwatch.streams.config_watch import ConfigWatcher


def touch_later(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, (stat.st_atime + 5, stat.st_mtime + 5))


def test_detector_change_applies_and_is_logged(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("detectors: {low_voltage: {dead_voltage_v: 50.0}}\n")
    settings = load_settings(path, environ={})
    watcher, pipeline = ConfigWatcher(str(path), settings), AreaPipeline(settings.detectors)
    assert not watcher.changed()
    touch_later(path, "detectors: {low_voltage: {dead_voltage_v: 40.0}}\n"
                      "kafka: {partitions: 16}\n")
    assert watcher.changed()
    with caplog.at_level(logging.WARNING):
        fresh = watcher.reload()
        assert fresh is not None
        changes = pipeline.reconfigure(fresh.detectors)
    assert changes == {"low_voltage.dead_voltage_v": (50.0, 40.0)}
    assert "dead_voltage_v changed: 50.0 -> 40.0" in caplog.text
    assert "kafka.partitions changed from 8 to 16 (takes effect after a restart)" in caplog.text


def test_invalid_file_is_rejected_and_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("detectors: {low_voltage: {dead_voltage_v: 50.0}}\n")
    watcher = ConfigWatcher(str(path), load_settings(path, environ={}))
    touch_later(path, "detectors: {low_voltage: {dead_voltage: 40.0}}\n")
    with pytest.raises(ConfigError, match="detectors.low_voltage.dead_voltage"):
        watcher.reload()
    assert watcher.current.detectors.low_voltage.dead_voltage_v == 50.0


def test_non_detector_change_is_not_applied(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("kafka: {partitions: 8}\n")
    watcher = ConfigWatcher(str(path), load_settings(path, environ={}))
    touch_later(path, "kafka: {partitions: 4}\n")
    assert watcher.reload() is None
