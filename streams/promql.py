"""Reads the metrics store through the Prometheus query API (VictoriaMetrics, Prometheus).

Why the Prometheus API and not InfluxDB's: the embedded store is
VictoriaMetrics, whose aggregations (``avg_over_time`` and friends) run in
the store, so a month of a thousand areas comes back as one number per
area and day instead of millions of points. Plain `urllib`: the callers are
a CLI and a page handler that runs it in a thread, and one GET per query
needs no session.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class MetricsStoreError(RuntimeError):
    """The metrics store did not answer a query; the message says which and why."""


@dataclass(frozen=True)
class Series:
    """One labelled series: ``points`` are (epoch seconds, value), oldest first."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


def selector(metric: str, labels: dict[str, str]) -> str:
    """A PromQL selector with exactly-matching labels, values escaped.

    >>> selector("gridwatch_area_outage", {"area": 'F01-"A1"'})
    'gridwatch_area_outage{area="F01-\\\\"A1\\\\""}'
    >>> selector("up", {})
    'up'
    """
    if not labels:
        return metric
    inner = ",".join(f'{k}={json.dumps(v)}' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


class PromQuery:
    """A small client of ``/api/v1/query``, ``/api/v1/query_range`` and label values."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url, self.timeout_s = url.rstrip("/"), timeout_s

    def _get(self, path: str, params: dict[str, str]) -> object:
        address = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(address, timeout=self.timeout_s) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise MetricsStoreError(f"{self.url}{path} answered {exc.code}: {detail}") from exc
        except (OSError, ValueError) as exc:
            raise MetricsStoreError(f"metrics store {self.url} unreachable: {exc}") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            raise MetricsStoreError(f"{self.url}{path} refused {params}: {body}")
        return body["data"]

    def instant(self, query: str, at: float) -> list[Series]:
        """Each series' value of `query` at `at`."""
        data = self._get("/api/v1/query", {"query": query, "time": f"{at:.3f}"})
        return [Series(r["metric"], [(float(r["value"][0]), float(r["value"][1]))])
                for r in data["result"]]  # type: ignore[index]

    def range(self, query: str, start: float, end: float, step: float) -> list[Series]:
        """`query` evaluated every `step` seconds from `start` to `end`."""
        data = self._get("/api/v1/query_range", {"query": query, "start": f"{start:.3f}",
                                                 "end": f"{end:.3f}", "step": f"{step:g}s",
                                                 "nocache": "1"})
        return [Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in data["result"]]  # type: ignore[index]

    def label_values(self, label: str, metric: str, start: float, end: float) -> list[str]:
        """Values `label` takes on `metric` between `start` and `end`."""
        data = self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values",
                         {"match[]": metric, "start": f"{start:.0f}", "end": f"{end:.0f}"})
        return sorted(data)  # type: ignore[arg-type]
