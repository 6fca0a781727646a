"""Flapping suppression: an entity whose condition keeps starting and clearing.

Why detector time, not wall time: a replay at 2880x speed must judge the
same stream the same way as live data; "six changes in six hours" is a
property of the grid, not of how fast it is being replayed. The clock is
the stream's watermark, the latest detector time seen on any alert.

A flapping entity's alerts are stored but not notified until its changes
fall below the threshold within the window.
"""

from __future__ import annotations

from collections import defaultdict

from ..vocabulary.findings import RESOLVED
from .model import Alert


class FlapDetector:
    """Counts state changes per (kind, entity) within a sliding window of detector time.

    >>> from gridwatch.alerts.model import Alert
    >>> flaps = FlapDetector(window_s=3600, max_transitions=4)
    >>> for start in (0, 600, 1200):
    ...     flaps.observe(Alert("x", "theft", "warning", "M1", "meter", "A", "F", start, start))
    >>> flaps.is_flapping("theft", "M1")
    False
    >>> flaps.observe(Alert("y", "theft", "warning", "M1", "meter", "A", "F", 1800, 1800))
    >>> flaps.is_flapping("theft", "M1")
    True
    """

    def __init__(self, window_s: float, max_transitions: int) -> None:
        self.window_s = window_s
        self.max_transitions = max_transitions
        self.watermark = 0.0
        self.transitions: dict[tuple[str, str], set[tuple[str, float]]] = defaultdict(set)

    def observe(self, alert: Alert) -> None:
        """Note the start (and end, if resolved) of the episode `alert` describes."""
        key = (alert.kind, alert.entity)
        self.transitions[key].add((alert.id + ":start", alert.started_at))
        if alert.status == RESOLVED and alert.ended_at is not None:
            self.transitions[key].add((alert.id + ":end", alert.ended_at))
        self.watermark = max(self.watermark, alert.last_seen)
        self._forget_old(key)

    def _forget_old(self, key: tuple[str, str]) -> None:
        horizon = self.watermark - self.window_s
        kept = {t for t in self.transitions[key] if t[1] > horizon}
        if kept:
            self.transitions[key] = kept
        else:
            del self.transitions[key]

    def is_flapping(self, kind: str, entity: str) -> bool:
        horizon = self.watermark - self.window_s
        times = self.transitions.get((kind, entity), ())
        return sum(1 for _, at in times if at > horizon) >= self.max_transitions
