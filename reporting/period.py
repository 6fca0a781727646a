"""The period a report covers: one UTC day or one UTC month.

Why UTC days: the worker closes its daily tallies (collection rate,
day-to-date voltage qualification) on UTC day boundaries, so a report day
must be the same day or its figures would mix two.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

DAY_S = 86_400
HOUR_S = 3_600


class PeriodError(ValueError):
    """A --day or --month value that is not a date; the message shows the expected form."""


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds, its name, and the step of its trend charts."""

    label: str
    kind: str  # "day" or "month"
    start: float
    end: float

    @property
    def step_s(self) -> int:
        """Trend resolution: hours of a day, days of a month."""
        return HOUR_S if self.kind == "day" else DAY_S

    @property
    def days(self) -> int:
        return round((self.end - self.start) / DAY_S)


def day(text: str) -> Period:
    """The UTC day ``YYYY-MM-DD``.

    >>> p = day("2026-12-01"); (p.label, p.end - p.start)
    ('2026-12-01', 86400.0)
    """
    try:
        when = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise PeriodError(f"--day must look like 2026-12-01, got {text!r}") from exc
    start = when.timestamp()
    return Period(text, "day", start, start + DAY_S)


def month(text: str) -> Period:
    """The UTC month ``YYYY-MM``.

    >>> p = month("2026-02"); (p.label, p.days)
    ('2026-02', 28)
    """
    try:
        when = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise PeriodError(f"--month must look like 2026-12, got {text!r}") from exc
    length = calendar.monthrange(when.year, when.month)[1]
    start = when.timestamp()
    return Period(text, "month", start, start + length * DAY_S)
