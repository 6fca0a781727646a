"""Who may do what: API tokens, roles, and an inspector's view limited to its team.

Why hashed tokens: the store holds only SHA-256 digests, so a copied
database file grants nothing; the secret is shown once, when it is created.
Tokens are never logged (the API's access log omits headers and the auth
error messages never echo what was sent).

Roles, after the seed paper's three layers of use:

* ``operator`` (control room): sees everything; acknowledges, assigns,
  comments, closes, reopens; sets silences.
* ``inspector`` (field team): sees and changes only its own team's work
  orders; cannot silence.
* ``engineer`` (detector tuning): sees everything, comments, sets silences,
  exports closed findings as labels; does not run work orders.
* ``admin``: everything, including tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from .store import AlertStore, ApiToken

ROLES = ("operator", "inspector", "engineer", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "comment": frozenset(ROLES),
    "work": frozenset({"operator", "inspector", "admin"}),
    "reopen": frozenset({"operator", "admin"}),
    "reassign_team": frozenset({"operator", "admin"}),
    "silence": frozenset({"operator", "engineer", "admin"}),
    "export": frozenset({"engineer", "admin", "operator"}),
    "admin": frozenset({"admin"}),
}
TOKEN_PREFIX = "gw_"


class AccessDenied(PermissionError):
    """The actor's role or team does not allow the action."""


@dataclass(frozen=True)
class Actor:
    """Whoever acts: a token's holder, or a local user of the CLI."""

    name: str
    role: str
    team: str = ""

    def require(self, permission: str) -> None:
        if self.role not in PERMISSIONS[permission]:
            raise AccessDenied(f"role {self.role!r} may not {permission}")

    @property
    def team_bound(self) -> bool:
        """Inspectors only see their own team's work orders."""
        return self.role == "inspector"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: AlertStore, name: str, role: str, team: str = "") -> str:
    """Create a token, store only its digest, return the secret (shown once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    if role == "inspector" and not team:
        raise ValueError("an inspector token needs a team")
    if not name.strip():
        raise ValueError("a token needs a name")
    if any(t.name == name for t in store.list_tokens()):
        raise ValueError(f"a token named {name!r} already exists")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(24)
    store.add_token(ApiToken(name, role, team, token_digest(secret), time.time()))
    return secret


def authenticate(store: AlertStore, header: str | None) -> Actor | None:
    """The actor of an ``Authorization: Bearer <token>`` header, or None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = store.find_token(token_digest(header.removeprefix("Bearer ").strip()))
    return Actor(token.name, token.role, token.team) if token else None
