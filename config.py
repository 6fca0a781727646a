"""Configuration: one YAML file, every key overridable from the environment.

Why one typed tree: the control room runs this for months, and a typo in a
threshold must stop the service at start with the key and the file named,
not be silently ignored until the night it matters. Every section is a
dataclass whose defaults are the documented defaults
(`gridwatch.example.yaml` is generated from them and tested to match).

Environment overrides use ``GRIDWATCH__<SECTION>__<KEY>`` (double
underscores between levels), values parsed as YAML scalars, e.g.
``GRIDWATCH__KAFKA__URL=kafka://broker:9092``.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

ENV_PREFIX = "GRIDWATCH__"
SECRET = {"secret": True}  # field metadata: masked in `config --json` and never logged
MASK = "***"
DEFAULT_CONFIG_ENV = "GRIDWATCH_CONFIG"
UNASSIGNED = "unassigned"  # a hierarchy level the configuration does not declare


KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class ConfigError(ValueError):
    """A configuration key or value is wrong; the message names the key and the source."""

    def __init__(self, key: str, source: str, problem: str) -> None:
        self.key, self.source, self.problem = key, source, problem
        super().__init__(f"configuration error in {source}: key '{key}': {problem}")


@dataclass
class MqttSettings:
    """Where meters' concentrators publish, and how the bridge subscribes."""

    url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = "gridwatch/v1"
    client_id: str = "gridwatch-bridge"
    username: str = ""
    password: str = field(default="", metadata=SECRET)
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    qos: int = 1
    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    alerts_topic: str = "gridwatch/v1/alerts"


@dataclass
class KafkaSettings:
    """Kafka (or any Kafka-protocol broker) topics and the Faust app id."""

    url: str = "kafka://127.0.0.1:9092"
    app_id: str = "gridwatch"
    readings_topic: str = "gridwatch.readings"
    deadletter_topic: str = "gridwatch.deadletter"
    alerts_topic: str = "gridwatch.alerts"
    inspections_topic: str = "gridwatch.inspections"
    partitions: int = 8
    replication: int = 1
    rebalance_timeout_s: float = 3.0
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 1.0
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", metadata=SECRET)
    ssl_ca_file: str = ""
    ssl_cert_file: str = ""
    ssl_key_file: str = ""


@dataclass
class MetricsSettings:
    """InfluxDB v2 write endpoint (VictoriaMetrics accepts the same writes)."""

    url: str = "http://127.0.0.1:8428"
    token: str = field(default="", metadata=SECRET)
    org: str = "gridwatch"
    bucket: str = "gridwatch"
    batch_size: int = 5000
    flush_interval_ms: int = 1000
    retry_interval_ms: int = 1000
    max_retries: int = 10


@dataclass
class Bounds:
    """The plausible range of one quantity, both ends included."""

    min: float = 0.0
    max: float = 0.0


def _bounds(low: float, high: float) -> Any:
    return field(default_factory=lambda: Bounds(low, high))


@dataclass
class PlausibilitySettings:
    """What a schema-valid reading may hold before it is taken for a fault, not a measurement.

    Why at the bridge: a register of 1e300 kWh or a phase at 1 MV passes the
    schema (a finite number) and would poison every baseline downstream; the
    bridge dead-letters the batch with the quantity and the bound instead.
    """

    energy_kwh: Bounds = _bounds(0.0, 1_000_000_000.0)
    reverse_kwh: Bounds = _bounds(0.0, 1_000_000_000.0)
    energy_step_kwh: Bounds = _bounds(0.0, 100_000.0)
    voltage_v: Bounds = _bounds(0.0, 1_000.0)
    current_a: Bounds = _bounds(0.0, 10_000.0)
    power_kw: Bounds = _bounds(-100_000.0, 100_000.0)
    pf: Bounds = _bounds(-1.0, 1.0)
    rated_kva: Bounds = _bounds(0.0, 100_000.0)


@dataclass
class BridgeSettings:
    """MQTT->Kafka batching (larger batches, fewer Kafka requests) and payload limits."""

    batch_max: int = 500
    linger_ms: int = 50
    max_payload_bytes: int = 4_000_000
    deadletter_max_bytes: int = 1_000_000
    plausible: PlausibilitySettings = field(default_factory=PlausibilitySettings)


@dataclass
class WorkerSettings:
    """Faust worker process settings."""

    web_port: int = 6066
    data_dir: str = ""
    commit_interval_s: float = 1.0


@dataclass
class WebhookReceiver:
    """One HTTP endpoint that receives alert notifications as JSON POSTs."""

    url: str = ""
    timeout_s: float = 5.0
    secret: str = field(default="", metadata=SECRET)


@dataclass
class SmtpSettings:
    """The mail relay email receivers send through."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "gridwatch@localhost"
    username: str = ""
    password: str = field(default="", metadata=SECRET)
    starttls: bool = False
    timeout_s: float = 10.0


@dataclass
class AlertApiSettings:
    """The work-order HTTP API of `gridwatch alerts serve`."""

    host: str = "127.0.0.1"
    port: int = 8090
    session_ttl_s: float = 43200.0
    cert_file: str = ""
    key_file: str = ""


@dataclass
class AlertSettings:
    """Alert dispatch: storage, default receivers, grouping defaults, retries.

    Teams, routes, receivers, inhibition rules and maintenance windows live
    in the policy file (`policy_file`); without one every alert goes to the
    webhooks below and to the MQTT alerts topic.
    """

    webhooks: list[WebhookReceiver] = field(default_factory=list)
    mqtt_enabled: bool = True
    retries: int = 5
    retry_backoff_s: float = 0.5
    retry_backoff_max_s: float = 30.0
    retry_window_s: float = 15.0
    replay_backoff_s: float = 5.0
    replay_backoff_max_s: float = 300.0
    group_id: str = "gridwatch-alerts"
    store_path: str = ""
    policy_file: str = ""
    group_by: list[str] = field(default_factory=lambda: ["area", "kind"])
    group_wait_s: float = 0.5
    group_interval_s: float = 60.0
    repeat_interval_s: float = 14400.0
    flap_window_s: float = 21600.0
    flap_max_transitions: int = 6
    tick_s: float = 0.1
    lease_s: float = 10.0
    public_url: str = ""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    api: AlertApiSettings = field(default_factory=AlertApiSettings)


@dataclass
class VoltageLimits:
    """GB/T 12325 deviation limits for one nominal voltage class."""

    nominal_v: float = 220.0
    lower_pct: float = -10.0
    upper_pct: float = 7.0

    @property
    def lower_v(self) -> float:
        return round(self.nominal_v * (1 + self.lower_pct / 100), 6)

    @property
    def upper_v(self) -> float:
        return round(self.nominal_v * (1 + self.upper_pct / 100), 6)


@dataclass
class LowVoltageSettings:
    """Low-voltage zone detector: an area whose points stay under the limit."""

    single_phase: VoltageLimits = field(default_factory=VoltageLimits)
    three_phase: VoltageLimits = field(
        default_factory=lambda: VoltageLimits(nominal_v=220.0, lower_pct=-7.0, upper_pct=7.0)
    )
    min_low_points_fraction: float = 0.25
    min_consecutive_intervals: int = 3
    clear_consecutive_intervals: int = 96
    dead_voltage_v: float = 50.0


@dataclass
class DataQualitySettings:
    """Data-quality screen: duplicates, late and skewed readings, drop-outs, stuck meters."""

    interval_s: int = 900
    clock_tolerance_s: float = 60.0
    quiet_intervals: int = 8
    dropout_min_missing: int = 2
    silence_intervals: int = 2
    collection_min_rate: float = 0.5
    stuck_intervals: int = 6


@dataclass
class FaultSettings:
    """Fault detectors: outages, power and phase loss, overload, sag and swell."""

    dead_voltage_v: float = 50.0
    outage_dark_fraction: float = 0.8
    sag_pu: float = 0.9
    swell_pu: float = 1.06
    sag_max_intervals: int = 4
    overload_ratio: float = 1.0
    overload_clear_ratio: float = 0.95
    overload_clear_intervals: int = 96
    overload_step_ratio: float = 2.0
    heavy_load_ratio: float = 0.9


@dataclass
class TheftSettings:
    """Theft: meter signs (tamper, reverse, phase, stopped) and the energy balance."""

    tamper_events: list[str] = field(default_factory=lambda: [
        "cover_open", "terminal_cover_open", "magnetic_interference"])
    quiet_intervals: int = 96
    reverse_min_kwh: float = 0.005
    phase_tamper_intervals: int = 2
    utc_offset_hours: float = 0.0
    night_bins: list[int] = field(default_factory=lambda: [0, 3])
    baseline_fading: float = 0.1
    warmup_bins: int = 8
    baseline_warmup_days: int = 3
    loss_z: float = 2.5
    min_excess_kwh: float = 0.2
    match_low: float = 0.4
    match_high: float = 2.5
    llr_min: float = 2.0
    evidence_cap: float = 12.0
    evidence_threshold: float = 10.0
    evidence_decay: float = 0.5
    calm_decay: float = 0.9
    min_bins: int = 2
    min_kwh_per_day: float = 1.5


@dataclass
class LeakageSettings:
    """Leakage and metering faults from the area's line-loss rate."""

    evidence_threshold: float = 10.0
    min_bins: int = 3
    clear_z: float = 1.5
    min_share: float = 0.02
    negative_loss_ratio: float = -0.01


@dataclass
class ForecastSettings:
    """Load forecasting per transformer area and its early warnings (forecast overload,
    forecast far-end low voltage)."""

    enabled: bool = False
    holidays: list[str] = field(default_factory=list)
    horizon_h: int = 24
    warmup_days: float = 9.0
    overload_ratio: float = 1.0
    confirm_forecasts: int = 2
    resolve_margin: float = 0.05


@dataclass
class DetectorSettings:
    """Parameters of every detector; each sub-section belongs to one detector."""

    low_voltage: LowVoltageSettings = field(default_factory=LowVoltageSettings)
    data_quality: DataQualitySettings = field(default_factory=DataQualitySettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    theft: TheftSettings = field(default_factory=TheftSettings)
    leakage: LeakageSettings = field(default_factory=LeakageSettings)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)


@dataclass
class SimulatorSettings:
    """Synthetic grid used by `gridwatch up` and `gridwatch simulate`."""

    seed: int = 7
    feeders: int = 2
    areas_per_feeder: int = 2
    meters_per_area: int = 20
    interval_s: int = 900
    speed: float = 2880.0
    bad_rate: float = 0.0
    start: str = "2026-01-05T00:00:00+00:00"
    scenario: str = ""


@dataclass
class StackSettings:
    """The embedded default stack: binaries, ports and where their data lives.

    ``history_h``: `gridwatch up` starts its simulated stream this many hours
    before now, replays them at ``simulator.speed`` and then follows the wall
    clock, so the metrics store holds the recent past that dashboards show by
    default (0: start at ``simulator.start`` and run at ``speed`` throughout).
    """

    state_dir: str = ".gridwatch"
    mosquitto_bin: str = "mosquitto"
    tansu_bin: str = ""
    victoria_metrics_bin: str = "victoria-metrics"
    startup_timeout_s: float = 30.0
    history_h: float = 24.0


@dataclass
class OrganisationSettings:
    """The utility's two hierarchies, as mappings from a unit to the unit above it.

    Why mappings and not a tree: each level is filled in by a different
    department (planning owns feeder -> substation, the business office owns
    area -> supply station), and a unit left out lands in ``unassigned``
    rather than stopping the service.
    """

    substations: dict[str, str] = field(default_factory=dict)      # feeder -> substation
    supply_stations: dict[str, str] = field(default_factory=dict)  # area -> supply station
    counties: dict[str, str] = field(default_factory=dict)         # supply station -> county
    cities: dict[str, str] = field(default_factory=dict)           # county -> city
    provinces: dict[str, str] = field(default_factory=dict)        # city -> province

    def tags(self, area: str, feeder: str) -> dict[str, str]:
        """The hierarchy labels of one transformer area (``unassigned`` where not declared).

        >>> OrganisationSettings(substations={"F1": "S1"}).tags("A1", "F1")["substation"]
        'S1'
        """
        station = self.supply_stations.get(area, UNASSIGNED)
        county = self.counties.get(station, UNASSIGNED)
        city = self.cities.get(county, UNASSIGNED)
        return {"substation": self.substations.get(feeder, UNASSIGNED),
                "supply_station": station, "county": county, "city": city,
                "province": self.provinces.get(city, UNASSIGNED)}


@dataclass
class KpiTargets:
    """What management measures against (the dashboards draw these as thresholds)."""

    line_loss_rate: float = 0.07
    voltage_qualification_rate: float = 0.99
    collection_rate: float = 0.98
    supply_reliability: float = 0.9990
    hours_to_acknowledge: float = 4.0
    hours_to_close: float = 48.0


@dataclass
class KpiSettings:
    """The utility's indicators: line-loss classes, targets and the organisation."""

    negative_loss_below: float = 0.0   # line-loss rate under this = negative loss
    high_loss_above: float = 0.10      # line-loss rate over this = high loss
    targets: KpiTargets = field(default_factory=KpiTargets)
    organisation: OrganisationSettings = field(default_factory=OrganisationSettings)


@dataclass
class Settings:
    """The whole configuration tree."""

    mqtt: MqttSettings = field(default_factory=MqttSettings)
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    bridge: BridgeSettings = field(default_factory=BridgeSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    detectors: DetectorSettings = field(default_factory=DetectorSettings)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    stack: StackSettings = field(default_factory=StackSettings)
    kpis: KpiSettings = field(default_factory=KpiSettings)
    source: str = field(default="<defaults>", metadata={"internal": True})


def _coerce(value: Any, hint: Any, key: str, source: str) -> Any:
    """Turn a YAML value into the declared type, or raise a ConfigError naming `key`."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(key, source, f"expected a mapping, got {type(value).__name__}")
        return _build(hint, value, key, source)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(key, source, f"expected a mapping, got {type(value).__name__}")
        return {_coerce(k, str, f"{key} (a name)", source): _coerce(v, str, f"{key}.{k}", source)
                for k, v in value.items()}
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(key, source, f"expected a list, got {type(value).__name__}")
        return [_coerce(v, item_hint, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if value is None else _coerce(value, args[0], key, source)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, source, f"expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(key, source, f"expected an integer, got {value!r}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(key, source, f"expected a number, got {value!r}")
    if hint is str:
        if isinstance(value, date):     # YAML reads an unquoted 2026-12-25 as a date
            return value.isoformat()
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(key, source, f"expected a string, got {value!r}")
    return value


def _build(cls: type, data: dict[str, Any], prefix: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for name in data:
        if name not in known:
            full = f"{prefix}.{name}" if prefix else name
            choices = ", ".join(sorted(known))
            raise ConfigError(full, source, f"unknown key (known keys here: {choices})")
    kwargs = {
        name: _coerce(data[name], hints[name], f"{prefix}.{name}" if prefix else name, source)
        for name in data
    }
    instance = cls(**kwargs)
    _validate(instance, prefix, source)
    return instance


def _validate(instance: Any, prefix: str, source: str) -> None:
    """Range checks that types alone cannot express."""

    def need(cond: bool, name: str, problem: str) -> None:
        if not cond:
            raise ConfigError(f"{prefix}.{name}" if prefix else name, source, problem)

    if isinstance(instance, MqttSettings):
        need(instance.qos in (0, 1, 2), "qos", f"must be 0, 1 or 2, got {instance.qos}")
        need(instance.url.startswith(("mqtt://", "tcp://", "mqtts://", "ssl://")), "url",
             f"must start with mqtt://, tcp://, mqtts:// or ssl://, got {instance.url!r}")
        need(bool(instance.cert_file) == bool(instance.key_file), "cert_file",
             "a client certificate needs both cert_file and key_file")
    if isinstance(instance, KafkaSettings):
        need(instance.partitions >= 1, "partitions", "must be at least 1")
        need(instance.url.startswith("kafka://"), "url",
             f"must start with kafka://, got {instance.url!r}")
        need(instance.security_protocol in KAFKA_PROTOCOLS, "security_protocol",
             f"must be one of {', '.join(KAFKA_PROTOCOLS)}, got {instance.security_protocol!r}")
        sasl = instance.security_protocol.startswith("SASL_")
        need(not sasl or instance.sasl_mechanism in SASL_MECHANISMS, "sasl_mechanism",
             f"must be one of {', '.join(SASL_MECHANISMS)} with {instance.security_protocol}, "
             f"got {instance.sasl_mechanism!r}")
        need(bool(instance.ssl_cert_file) == bool(instance.ssl_key_file), "ssl_cert_file",
             "a client certificate needs both ssl_cert_file and ssl_key_file")
    if isinstance(instance, MetricsSettings):
        need(instance.url.startswith(("http://", "https://")), "url",
             f"must be an http(s) URL, got {instance.url!r}")
        need(instance.batch_size >= 1, "batch_size", "must be at least 1")
    if isinstance(instance, Bounds):
        need(instance.min <= instance.max, "min", f"min {instance.min} exceeds max {instance.max}")
    if isinstance(instance, BridgeSettings):
        need(instance.deadletter_max_bytes >= 4096, "deadletter_max_bytes",
             "must be at least 4096 (room for the reason and a digest)")
    if isinstance(instance, VoltageLimits):
        need(instance.nominal_v > 0, "nominal_v", "must be positive")
        need(instance.lower_pct < 0 < instance.upper_pct, "lower_pct",
             "lower_pct must be negative and upper_pct positive")
    if isinstance(instance, LowVoltageSettings):
        need(0 < instance.min_low_points_fraction <= 1, "min_low_points_fraction",
             "must be in (0, 1]")
        need(instance.min_consecutive_intervals >= 1, "min_consecutive_intervals",
             "must be at least 1")
    if isinstance(instance, ForecastSettings):
        need(1 <= instance.horizon_h <= 24, "horizon_h",
             f"must be 1..24 hours, got {instance.horizon_h}")
        need(instance.warmup_days >= 0, "warmup_days", "must not be negative")
        need(instance.overload_ratio > 0, "overload_ratio", "must be positive")
        need(instance.confirm_forecasts >= 1, "confirm_forecasts", "must be at least 1")
        need(0 <= instance.resolve_margin < 1, "resolve_margin", "must be in [0, 1)")
        for i, day in enumerate(instance.holidays):
            need(_is_iso_date(day), f"holidays[{i}]", f"must be a date YYYY-MM-DD, got {day!r}")
    if isinstance(instance, DataQualitySettings):
        need(instance.silence_intervals >= 1, "silence_intervals", "must be at least 1")
    if isinstance(instance, SimulatorSettings):
        need(0.0 <= instance.bad_rate <= 1.0, "bad_rate", "must be between 0 and 1")
        need(instance.speed > 0, "speed", "must be positive")
        need(instance.interval_s > 0, "interval_s", "must be positive")
    if isinstance(instance, StackSettings):
        need(instance.history_h >= 0, "history_h", "must not be negative (0: no history)")
    if isinstance(instance, WebhookReceiver):
        need(instance.url.startswith(("http://", "https://")), "url",
             f"must be an http(s) URL, got {instance.url!r}")
    if isinstance(instance, AlertSettings):
        need(instance.retries >= 0, "retries", "must not be negative")
        need(instance.retry_backoff_s >= 0, "retry_backoff_s", "must not be negative")
        need(instance.retry_window_s >= 0, "retry_window_s", "must not be negative")
        need(instance.replay_backoff_s > 0, "replay_backoff_s", "must be positive")
        need(instance.replay_backoff_max_s >= instance.replay_backoff_s, "replay_backoff_max_s",
             "must be at least replay_backoff_s")
        need(instance.group_wait_s >= 0, "group_wait_s", "must not be negative")
        need(instance.group_interval_s > 0, "group_interval_s", "must be positive")
        need(instance.repeat_interval_s > 0, "repeat_interval_s", "must be positive")
        need(instance.flap_max_transitions >= 2, "flap_max_transitions", "must be at least 2")
        need(instance.tick_s > 0, "tick_s", "must be positive")
        need(instance.lease_s > 0, "lease_s", "must be positive")
        need(instance.public_url == "" or instance.public_url.startswith(("http://", "https://")),
             "public_url", f"must be empty or an http(s) URL, got {instance.public_url!r}")
    if isinstance(instance, (SmtpSettings, AlertApiSettings)):
        need(0 <= instance.port <= 65535, "port", f"must be 0..65535, got {instance.port}")
    if isinstance(instance, KpiSettings):
        need(instance.negative_loss_below < instance.high_loss_above, "negative_loss_below",
             f"must be below high_loss_above ({instance.high_loss_above})")
    if isinstance(instance, AlertApiSettings):
        need(instance.session_ttl_s > 0, "session_ttl_s", "must be positive")
        need(bool(instance.cert_file) == bool(instance.key_file), "cert_file",
             "TLS needs both cert_file and key_file")


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(".".join(path), "environment", "parent key is not a mapping")
    node[path[-1]] = value


def env_overrides(environ: typing.Mapping[str, str]) -> dict[str, Any]:
    """Collect ``GRIDWATCH__A__B=value`` variables into a nested mapping."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError as exc:
            raise ConfigError(".".join(path), f"environment variable {name}", str(exc)) from exc
        _set_path(tree, path, value)
    return tree


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read the YAML file (if any), apply environment overrides, validate.

    `path` falls back to ``$GRIDWATCH_CONFIG``; with neither, defaults apply.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get(DEFAULT_CONFIG_ENV) or None
    source = "<defaults>"
    data: dict[str, Any] = {}
    if path:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError("-", source, f"cannot read file: {exc.strerror}") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError("-", source, f"not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError("-", source, "top level must be a mapping of sections")
        data = loaded or {}
    overrides = env_overrides(environ)
    if overrides:
        source = f"{source} + GRIDWATCH__* environment"
    settings = _build(Settings, _merge(data, overrides), "", source)
    settings.source = source
    return settings


def settings_as_dict(settings: Any, redact: bool = False) -> dict[str, Any]:
    """Plain-dict view of a settings tree (internal fields left out).

    With `redact`, every secret that is set (passwords, tokens, HMAC keys)
    reads ``***``: the view that may be printed or logged.

    >>> settings_as_dict(MqttSettings(password="hunter2"), redact=True)["password"]
    '***'
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        if f.metadata.get("internal"):
            continue
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            value = settings_as_dict(value, redact)
        elif isinstance(value, list):
            value = [settings_as_dict(v, redact) if dataclasses.is_dataclass(v) else v
                     for v in value]
        elif redact and value and f.metadata.get("secret"):
            value = MASK
        out[f.name] = value
    return out


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``: dotted keys, as in error messages.

    >>> flatten({"detectors": {"low_voltage": {"dead_voltage_v": 50.0}}})
    {'detectors.low_voltage.dead_voltage_v': 50.0}
    """
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out |= flatten(value, path)
        else:
            out[path] = value
    return out


def settings_diff(old: Any, new: Any) -> dict[str, tuple[Any, Any]]:
    """Every dotted key whose value differs between two settings trees, as (old, new).

    Secrets are compared for real but shown masked: the diff is for logging.
    """
    a, b = flatten(settings_as_dict(old)), flatten(settings_as_dict(new))
    shown_a = flatten(settings_as_dict(old, redact=True))
    shown_b = flatten(settings_as_dict(new, redact=True))
    return {k: (shown_a.get(k), shown_b.get(k)) for k in sorted(a.keys() | b.keys())
            if a.get(k) != b.get(k)}


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of the first broker in a URL such as ``kafka://h1:9092;h2:9092``."""
    first = url.split(";")[0].split(",")[0]
    parsed = urlparse(first)
    return parsed.hostname or "127.0.0.1", parsed.port or default_port
