"""`gridwatch up`: the whole system on one machine, for evaluation and demonstration.

What runs where: the three services (when not already reachable) and the
bridge and Faust worker are child processes, exactly as they would be
deployed; the simulator (a thread) and the alert dispatcher (a coroutine)
run inside this supervisor, which also draws the live summary. At the end,
the simulator stops first and the pipeline is given time to drain, so the
final counts describe a finished run, not a cut-off one.

What a new user sees: unless ``simulator.scenario`` names another, the
stream is the demo scenario (`scenarios/demo.yaml`), back-dated to end at
now (``stack.history_h``), so alerts of several kinds fire within the first
two minutes and the metrics store holds the last hours; alerts go to a local
receiver when none is configured; the summary says where each view is.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..streams.lag import consumer_lag
from ..streams.promql import MetricsStoreError, PromQuery
from ..streams.stats import read_stats
from ..streams.topics import ensure_topics
from ..vocabulary.measurements import AREA_INTERVAL, series_name
from .receiver import LocalReceiver, needs_local_receiver
from .stack import MissingBinaryError, ServiceStartError, embedded_stack
from .views import view_locations, views_text

log = logging.getLogger(__name__)
DRAIN_TIMEOUT_S = 20.0
DEMO_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.yaml"


@dataclass
class Child:
    """A component running as its own `gridwatch` process."""

    name: str
    stats_file: Path
    process: subprocess.Popen

    def stats(self) -> dict[str, Any]:
        return read_stats(self.stats_file)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_component(name: str, config_path: str | None, state_dir: Path,
                    env: dict[str, str]) -> Child:
    stats_file = state_dir / "stats" / f"{name}.json"
    stats_file.unlink(missing_ok=True)
    log_path = state_dir / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "gridwatch"]
    if config_path:
        argv += ["-c", config_path]
    argv += [name, "--stats-file", str(stats_file)]
    with log_path.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env)
    return Child(name, stats_file, process)


@dataclass
class Summary:
    """The numbers on the live screen and in the final JSON."""

    started: float = field(default_factory=time.monotonic)
    lag: int | None = None
    simulator: dict[str, Any] = field(default_factory=dict)
    dispatcher: dict[str, Any] = field(default_factory=dict)
    bridge: dict[str, Any] = field(default_factory=dict)
    worker: dict[str, Any] = field(default_factory=dict)
    rate_window: list[tuple[float, int]] = field(default_factory=list)
    readings_per_s: float = 0.0
    receiver: LocalReceiver | None = None
    views: dict[str, str] = field(default_factory=dict)
    stored: dict[str, int] = field(default_factory=dict)

    def sample_rate(self) -> None:
        """Readings processed per second over the last ten seconds."""
        now = time.monotonic()
        processed = int(self.worker.get("readings_processed", 0))
        self.rate_window = [(t, n) for t, n in self.rate_window if now - t <= 10]
        self.rate_window.append((now, processed))
        (t0, n0) = self.rate_window[0]
        self.readings_per_s = (processed - n0) / (now - t0) if now > t0 else 0.0

    def final(self) -> dict[str, Any]:
        deadletters = int(self.bridge.get("deadletters", 0)) + int(
            self.worker.get("deadletters", 0)) + int(self.dispatcher.get("deadletters", 0))
        return {
            "readings_published": int(self.simulator.get("readings_published", 0)),
            "readings_forwarded": int(self.bridge.get("readings_forwarded", 0)),
            "readings_processed": int(self.worker.get("readings_processed", 0)),
            "alerts_raised": int(self.worker.get("alerts_raised", 0)),
            "alerts_delivered": int(self.dispatcher.get("alerts_delivered", 0)),
            "metrics_written": int(self.worker.get("metrics_written", 0)),
            "deadletters": deadletters,
            "bad_published": int(self.simulator.get("bad_published", 0)),
            "consumer_lag": self.lag,
            "open_alerts_by_kind": {k: v for k, v in self.worker.get("open_by_kind", {}).items()
                                    if v},
            "received_by_kind": dict(self.receiver.kinds) if self.receiver else {},
            "notifications_received": self.receiver.notifications if self.receiver else 0,
            "simulated_until": self.simulator.get("sent_until"),
            "views": self.views,
            **self.stored,
            "duration_s": round(time.monotonic() - self.started, 1),
        }

    def screen(self) -> str:
        """The live screen: the counts, then where to look."""
        return self.status() + ("\n" + views_text(self.views) if self.views else "")

    def status(self) -> str:
        f = self.final()
        open_alerts = ", ".join(f"{k}={v}" for k, v in sorted(f["open_alerts_by_kind"].items()))
        received = ", ".join(f"{k}={v}" for k, v in sorted(f["received_by_kind"].items()))
        lines = [
            f"GridWatch up  {f['duration_s']:7.1f} s",
            f"  readings/s        {self.readings_per_s:10.0f}",
            f"  readings          forwarded {f['readings_forwarded']:>9}   processed "
            f"{f['readings_processed']:>9}",
            f"  consumer lag      {('?' if self.lag is None else self.lag):>10} records"
            " (at least: tansu's end offsets run up to 4 low, streams/lag.py)",
            f"  alerts            raised {f['alerts_raised']:>6}   delivered "
            f"{f['alerts_delivered']:>6}",
            f"  open alerts       {open_alerts or 'none'}",
            f"  dead letters      {f['deadletters']:>10}",
            f"  metrics written   {f['metrics_written']:>10}",
        ]
        if self.receiver:
            lines.append(f"  local receiver    {f['notifications_received']:>10} notifications: "
                         f"{received or 'none yet'}")
        if self.stored:
            lines.append(f"  metrics stored    {self.stored['metrics_last_hour']:>10} area "
                         f"intervals stamped in the last hour, "
                         f"{self.stored['metrics_last_day']} in the last day")
        return "\n".join(lines)


def run_up(settings: Settings, config_path: str | None, duration_s: float | None,
           as_json: bool) -> int:
    state_dir = Path(settings.stack.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    settings.simulator.scenario = settings.simulator.scenario or str(DEMO_SCENARIO)
    say = (lambda text: print(text, file=sys.stderr)) if as_json else print
    try:
        with embedded_stack(settings, state_dir, on_start=lambda n: say(f"starting {n} ...")):
            summary = asyncio.run(_supervise(settings, config_path, state_dir, duration_s, say,
                                             as_json))
    except (MissingBinaryError, ServiceStartError) as exc:
        print(f"gridwatch up: {exc}", file=sys.stderr)
        return 1
    result = summary.final()
    if as_json:
        print(json.dumps(result))
    else:
        print(summary.screen())
        print(f"logs and data: {state_dir}")
    return 0


async def _supervise(settings: Settings, config_path: str | None, state_dir: Path,
                     duration_s: float | None, say: Any, as_json: bool) -> Summary:
    from ..alerts.api import run_api
    from ..alerts.dispatcher import run_dispatcher
    from ..sensors.publisher import run_live

    await ensure_topics(settings.kafka)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if config_path is None:
        env.pop("GRIDWATCH_CONFIG", None)
    env |= {"GRIDWATCH__STACK__STATE_DIR": str(state_dir),
            "GRIDWATCH__SIMULATOR__BAD_RATE": str(settings.simulator.bad_rate),
            "GRIDWATCH__SIMULATOR__SPEED": str(settings.simulator.speed)}
    summary = Summary()
    if needs_local_receiver(settings):
        summary.receiver = LocalReceiver()
        await summary.receiver.start(settings)
    children = [spawn_component(name, config_path, state_dir, env) for name in ("worker", "bridge")]
    stop_dispatcher, stop_simulator = asyncio.Event(), threading.Event()
    dispatcher = asyncio.create_task(run_dispatcher(settings, stop_dispatcher, summary.dispatcher))
    stop_api = asyncio.Event()
    api_url: list[str] = []
    api = asyncio.create_task(run_api(settings, stop_api, api_url.append))
    simulator: asyncio.Future | None = None
    try:
        say("waiting for the bridge and the worker ...")
        await _wait_ready(children, settings.stack.startup_timeout_s + 30)
        await _wait_listening(api, api_url)
        summary.views = view_locations(
            state_dir, config_path, api_url[0] if api_url else "", settings.metrics.url,
            summary.receiver.sink.url if summary.receiver else "")
        say(views_text(summary.views))
        publish_for = (None if duration_s is None
                       else max(1.0, duration_s - _drain_margin(duration_s)))
        simulator = asyncio.ensure_future(asyncio.to_thread(
            run_live, settings, publish_for, settings.simulator.bad_rate, stop_simulator,
            settings.stack.history_h))
        deadline = None if duration_s is None else summary.started + duration_s
        tty = sys.stdout.isatty() and not as_json
        last_line = 0.0
        while not simulator.done() and (deadline is None or time.monotonic() < deadline):
            await _refresh(summary, children, settings)
            if tty:
                print("\x1b[H\x1b[2J" + summary.screen(), flush=True)
            elif time.monotonic() - last_line >= 10:
                say(summary.status().replace("\n", " |"))
                last_line = time.monotonic()
            await asyncio.sleep(1)
    except KeyboardInterrupt:
        say("stopping ...")
    finally:
        stop_simulator.set()
        if simulator is not None:
            summary.simulator = await simulator
        await _drain(summary, children, settings)
        stop_dispatcher.set()
        stop_api.set()
        await dispatcher
        await api
        for child in children:
            child.stop()
        if summary.receiver is not None:
            await summary.receiver.stop()
        await _refresh(summary, children, settings)
        summary.stored = await asyncio.to_thread(stored_recently, settings.metrics.url,
                                                 time.time())
    return summary


def stored_recently(metrics_url: str, now: float) -> dict[str, int]:
    """Area-interval samples the metrics store holds stamped in the last hour and day.

    Why read back: the worker counting points written does not prove that the
    store kept them where a dashboard looks (it drops samples far outside its
    retention, and simulated time may lie weeks from now). Empty when the
    store does not answer.
    """
    query = PromQuery(metrics_url)
    metric = series_name(AREA_INTERVAL, "readings")
    counts: dict[str, int] = {}
    try:
        for key, window in (("metrics_last_hour", "1h"), ("metrics_last_day", "1d")):
            found = query.instant(f"sum(count_over_time({metric}[{window}]))", now)
            counts[key] = int(found[0].points[0][1]) if found else 0
    except MetricsStoreError as exc:
        log.warning("could not read the metrics store back: %s", exc)
        return {}
    return counts


def _drain_margin(duration_s: float) -> float:
    return min(12.0, duration_s * 0.25)


async def _wait_ready(children: list[Child], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise ServiceStartError(f"{child.name} exited with code "
                                        f"{child.process.returncode}; see its log in the state "
                                        f"directory")
        stats = {child.name: child.stats() for child in children}
        if stats["bridge"].get("connected") and stats["worker"]:
            return
        await asyncio.sleep(0.3)
    raise ServiceStartError("bridge or worker not ready in time; see the logs in the state "
                            "directory")


async def _wait_listening(api: asyncio.Task, api_url: list[str], timeout_s: float = 10.0) -> None:
    """Give the API a moment to report its address (it is left out of the views if it fails)."""
    deadline = time.monotonic() + timeout_s
    while not api_url and not api.done() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def _refresh(summary: Summary, children: list[Child], settings: Settings) -> None:
    stats = {child.name: child.stats() for child in children}
    summary.worker = stats["worker"] or summary.worker
    summary.bridge = stats["bridge"] or summary.bridge
    summary.sample_rate()
    try:
        summary.lag = await asyncio.wait_for(consumer_lag(settings.kafka), 5)
    except Exception as exc:  # lag is informative only; never stop the run for it
        log.debug("consumer lag unavailable: %s", exc)


async def _drain(summary: Summary, children: list[Child], settings: Settings) -> None:
    """Wait until the worker has processed what the bridge forwarded and alerts are out."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        await _refresh(summary, children, settings)
        published = summary.simulator.get("batches_published", 0)
        bridged = summary.bridge.get("received", 0)
        forwarded = summary.bridge.get("readings_forwarded", 0)
        processed = summary.worker.get("readings_processed", 0)
        raised = summary.worker.get("findings_produced", 0)
        received = summary.dispatcher.get("alerts_received", 0)
        if bridged >= published and processed >= forwarded and received >= raised:
            return
        await asyncio.sleep(0.5)
