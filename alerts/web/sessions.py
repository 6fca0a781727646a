"""Page logins: a token exchanged once for a cookie session, with a CSRF secret.

Why sessions in memory: the token is typed (or pasted) once on a phone and
must not sit in the browser; the cookie carries only a random session id.
Each request re-reads the token from the store by its digest, so deleting
a token ends its sessions at once. A restart of the API logs everyone out,
which is acceptable for a page and keeps no secret on disk. Every form
carries the session's CSRF secret, checked in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_SESSIONS = 10_000


@dataclass
class Session:
    """One logged-in browser: whose token, its CSRF secret, when it lapses."""

    id: str
    token_sha256: str
    csrf: str
    expires_at: float


class Sessions:
    """Sessions by id, each lapsing `ttl_s` after its last use."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._by_id: dict[str, Session] = {}

    def open(self, token_sha256: str) -> Session:
        now = self.clock()
        if len(self._by_id) >= MAX_SESSIONS:
            self._by_id = {k: s for k, s in self._by_id.items() if s.expires_at > now}
            if len(self._by_id) >= MAX_SESSIONS:
                oldest = min(self._by_id.values(), key=lambda s: s.expires_at)
                del self._by_id[oldest.id]
        session = Session(new_secret(), token_sha256, new_secret(), now + self.ttl_s)
        self._by_id[session.id] = session
        return session

    def find(self, session_id: str | None) -> Session | None:
        """The live session of `session_id` (its lapse pushed back), else None."""
        session = self._by_id.get(session_id or "")
        now = self.clock()
        if session is None:
            return None
        if session.expires_at <= now:
            del self._by_id[session.id]
            return None
        session.expires_at = now + self.ttl_s
        return session

    def close(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)


def new_secret() -> str:
    """A random secret for a form or a cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def same_secret(expected: str, given: object) -> bool:
    """Constant-time comparison of a CSRF secret with what a form sent.

    >>> same_secret("abc", "abc"), same_secret("abc", "abd"), same_secret("abc", None)
    (True, False, False)
    """
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(expected, given)
