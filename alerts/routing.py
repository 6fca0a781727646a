"""Which routes of the policy tree an alert takes, and therefore which team owns it.

Alertmanager's semantics, because operators know them: an alert descends
into the first child whose matchers it satisfies (depth first); a child
with ``continue: true`` lets matching go on to its later siblings; a node
none of whose children match takes the alert itself. The root matches all.
"""

from __future__ import annotations

from .matchers import matches_all
from .policy import Route


def match_routes(route: Route, labels: dict[str, str]) -> list[Route]:
    """The routes that take an alert with `labels` (at least the root)."""
    if not matches_all(route.matchers, labels):
        return []
    taken: list[Route] = []
    for child in route.routes:
        found = match_routes(child, labels)
        if found:
            taken.extend(found)
            if not child.continue_matching:
                break
    return taken or [route]


def owning_team(route: Route, labels: dict[str, str]) -> str:
    """The team of the first route taken: the one whose work order it becomes."""
    return next((r.team for r in match_routes(route, labels) if r.team), "")
