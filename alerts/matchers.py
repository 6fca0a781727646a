"""Label matchers: the one small language routes, silences and inhibition share.

Why Alertmanager's syntax (``label=value``, ``!=``, ``=~regex``, ``!~regex``,
regexes anchored at both ends): control-room staff who know Prometheus read
it at once, and one parser means a silence and a route can never disagree on
what ``area=~"F01-.*"`` means. A bad matcher is rejected with the reason when
it is written, not discovered when an alert fails to match at night.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LABELS = ("kind", "severity", "entity", "entity_type", "area", "feeder", "meter", "detector",
          "team")
OPERATORS = ("=~", "!~", "!=", "=")
_SYNTAX = re.compile(r"^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatcherError(ValueError):
    """A matcher is malformed; the message quotes it and says why."""


@dataclass(frozen=True)
class Matcher:
    """One condition on one alert label."""

    label: str
    op: str
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """Parse ``label OP value``; quotes around the value are optional.

    >>> parse_matcher('area=~"F01-.*"').matches({"area": "F01-A02"})
    True
    >>> parse_matcher("kind!=theft").matches({"kind": "theft"})
    False
    >>> try:
    ...     parse_matcher("zone=north")
    ... except MatcherError as exc:
    ...     print(exc)
    matcher 'zone=north': unknown label 'zone' (known: kind, severity, entity, entity_type, \
area, feeder, meter, detector, team)
    """
    if not isinstance(text, str):
        raise MatcherError(f"matcher {text!r}: must be a string such as 'area=F01-A01'")
    found = _SYNTAX.match(text)
    if not found:
        raise MatcherError(f"matcher {text!r}: expected LABEL=VALUE, LABEL!=VALUE, "
                           "LABEL=~REGEX or LABEL!~REGEX")
    label, op, value = found.groups()
    if label not in LABELS:
        raise MatcherError(f"matcher {text!r}: unknown label {label!r} "
                           f"(known: {', '.join(LABELS)})")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    pattern = None
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise MatcherError(f"matcher {text!r}: invalid regular expression: {exc}") from exc
    return Matcher(label, op, value, pattern)


def parse_matchers(texts: object, where: str) -> list[Matcher]:
    """Parse a list of matchers, naming `where` (e.g. ``routes[2]``) in any error."""
    if texts is None:
        return []
    if not isinstance(texts, list):
        raise MatcherError(f"{where}: matchers must be a list of strings, "
                           f"got {type(texts).__name__}")
    out = []
    for i, text in enumerate(texts):
        try:
            out.append(parse_matcher(text))
        except MatcherError as exc:
            raise MatcherError(f"{where}.matchers[{i}]: {exc}") from exc
    return out


def matches_all(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
