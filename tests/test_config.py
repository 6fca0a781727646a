"""Configuration: defaults documented, overrides applied, every error names key and source."""

from pathlib import Path

import pytest
import yaml

from gridwatch.cli import main
from gridwatch.config import ConfigError, Settings, flatten, load_settings, settings_as_dict

REPO = Path(__file__).resolve().parent.parent


def test_example_file_documents_exactly_the_defaults() -> None:
    loaded = load_settings(REPO / "gridwatch.example.yaml", environ={})
    assert settings_as_dict(loaded) == settings_as_dict(Settings())


def test_example_file_lists_every_key() -> None:
    example = yaml.safe_load((REPO / "gridwatch.example.yaml").read_text())
    assert set(flatten(example)) == set(flatten(settings_as_dict(Settings())))


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("kafka:\n  url: kafka://file:9092\n  partitions: 4\n")
    settings = load_settings(path, environ={"GRIDWATCH__KAFKA__URL": "kafka://env:9092",
                                            "GRIDWATCH__DETECTORS__LOW_VOLTAGE__DEAD_VOLTAGE_V":
                                            "40"})
    assert settings.kafka.url == "kafka://env:9092"
    assert settings.kafka.partitions == 4
    assert settings.detectors.low_voltage.dead_voltage_v == 40.0


@pytest.mark.parametrize(("text", "key", "problem"), [
    ("kafka: {partitons: 3}", "kafka.partitons", "unknown key"),
    ("kafka: {partitions: many}", "kafka.partitions", "expected an integer"),
    ("mqtt: {qos: 3}", "mqtt.qos", "must be 0, 1 or 2"),
    ("metrics: {url: influx:8086}", "metrics.url", "http(s) URL"),
    ("alerts: {webhooks: [{url: ftp://x}]}", "alerts.webhooks[0].url", "http(s) URL"),
    ("detectors: {low_voltage: {single_phase: {lower_pct: 5}}}",
     "detectors.low_voltage.single_phase.lower_pct", "negative"),
    ("simulator: {bad_rate: 1.5}", "simulator.bad_rate", "between 0 and 1"),
    ("detectors: {forecast: {holidays: [2026-12-25, Christmas]}}",
     "detectors.forecast.holidays[1]", "YYYY-MM-DD"),
    ("detectors: {forecast: {horizon_h: 36}}", "detectors.forecast.horizon_h", "1..24"),
    ("- just\n- a list", "-", "mapping"),
])
def test_errors_name_key_and_file(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert caught.value.key == key
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)


def test_holidays_may_be_written_as_yaml_dates(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("detectors:\n  forecast:\n    holidays: [2026-12-25, '2027-01-01']\n")
    holidays = load_settings(path, environ={}).detectors.forecast.holidays
    assert holidays == ["2026-12-25", "2027-01-01"]


def test_bad_environment_value_names_the_variable_source() -> None:
    with pytest.raises(ConfigError, match="environment.*kafka.partitions"):
        load_settings(None, environ={"GRIDWATCH__KAFKA__PARTITIONS": "x"})


def test_cli_exits_nonzero_naming_key_and_file(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("worker: {web_prot: 1}\n")
    assert main(["-c", str(path), "config"]) == 2
    err = capsys.readouterr().err
    assert "worker.web_prot" in err and str(path) in err


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_settings(tmp_path / "nope.yaml", environ={})
