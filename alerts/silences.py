"""Silences (one-off, by matcher, start and end) and recurring maintenance windows.

Why both: a silence is what an operator sets for a known job ("F02 switching
tonight, 22:00-02:00, by Wang"); a maintenance window is the standing
arrangement ("every Saturday 01:00-03:00 local time"). Both only mute
notifications; the alerts are still stored and shown as silenced.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .matchers import Matcher, MatcherError, matches_all, parse_matchers
from .policy import MaintenanceWindow
from .store import Silence

MAX_SILENCE_S = 366 * 86400


class SilenceError(ValueError):
    """A silence is invalid; the message says why."""


def new_silence(matchers: list[str], starts_at: float, ends_at: float, author: str,
                comment: str, now: float) -> Silence:
    """Validate and build a silence with a fresh id."""
    try:
        parsed = parse_matchers(matchers, "silence")
    except MatcherError as exc:
        raise SilenceError(str(exc)) from exc
    if not parsed:
        raise SilenceError("a silence needs at least one matcher")
    if not author.strip():
        raise SilenceError("a silence needs an author")
    if not comment.strip():
        raise SilenceError("a silence needs a comment saying why")
    if ends_at <= starts_at:
        raise SilenceError(f"ends_at ({ends_at}) must be after starts_at ({starts_at})")
    if ends_at <= now:
        raise SilenceError("ends_at is in the past")
    if ends_at - starts_at > MAX_SILENCE_S:
        raise SilenceError("a silence may last at most 366 days; use a maintenance window")
    return Silence(id=f"sil-{secrets.token_hex(6)}", matchers=[str(m) for m in parsed],
                   starts_at=starts_at, ends_at=ends_at, author=author, comment=comment,
                   created_at=now)


def window_active(window: MaintenanceWindow, now: float) -> bool:
    """Whether `now` (epoch seconds) lies in an occurrence of the weekly window.

    Occurrences that began on an earlier day and run past midnight count.
    """
    local = datetime.fromtimestamp(now, window.timezone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for days_back in range(8):
        day = midnight - timedelta(days=days_back)
        if day.weekday() not in window.weekdays:
            continue
        start = (day + timedelta(minutes=window.start_minute)).timestamp()
        if start <= now < start + window.duration_s:
            return True
    return False


@dataclass
class _ActiveSilence:
    id: str
    matchers: list[Matcher]
    starts_at: float
    ends_at: float


class Silencer:
    """Answers "is this alert silenced right now, and by what?"."""

    def __init__(self, windows: list[MaintenanceWindow]) -> None:
        self.windows = windows
        self._silences: list[_ActiveSilence] = []

    def refresh(self, silences: list[Silence]) -> None:
        """Take the current silences from the store (stored matchers are valid)."""
        self._silences = [_ActiveSilence(s.id, parse_matchers(s.matchers, s.id), s.starts_at,
                                         s.ends_at) for s in silences]

    def silenced_by(self, labels: dict[str, str], now: float) -> str:
        for silence in self._silences:
            if silence.starts_at <= now < silence.ends_at and matches_all(silence.matchers,
                                                                         labels):
                return silence.id
        for window in self.windows:
            if matches_all(window.matchers, labels) and window_active(window, now):
                return f"window:{window.name}"
        return ""
