"""Verified tokens a server process remembers while its store says nothing changed.

Reading a token's record on every request is the price of "a revocation takes effect on
the very next request". A store that can tell cheaply whether any token or user has
lost (or regained) access since a given moment, a *stamp* (:meth:`SqlAuthStore.auth_stamp
<loopml.metadata.sql.auth.SqlAuthStore.auth_stamp>` for a SQLite file: one ``stat``),
lets a process skip that read: an entry is used only while the stamp is the one read
*before* the record was, and for at most ``ttl``. Everything that depends on the time
(expiry, ``last_used_at``) is still checked on each request by the caller.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loopml.auth.tokens import secret_matches
from loopml.core.auth import ApiToken, User

__all__ = ["VerifiedTokens"]


@dataclass(frozen=True)
class _Entry:
    secret_hash: str
    token: ApiToken
    user: User
    stamp: Hashable
    verified_at: datetime


class VerifiedTokens:
    """Token records verified against their secret, valid while the stamp stays the same.

    Args:
        stamp: Returns the store's current stamp, or None when it cannot give one (then
            nothing is remembered).
        ttl: The longest an entry is used without reading the store again.
        max_entries: The cache empties itself when it reaches this size.
    """

    def __init__(
        self,
        stamp: Callable[[], Hashable | None],
        ttl: timedelta = timedelta(seconds=30),
        max_entries: int = 10_000,
    ) -> None:
        self._stamp = stamp
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def stamp(self) -> Hashable | None:
        """The store's stamp now; read it *before* reading the record to remember."""
        return self._stamp()

    def get(
        self, token_id: str, secret: str, stamp: Hashable | None, now: datetime
    ) -> tuple[ApiToken, User] | None:
        """The remembered token and owner, if still valid and ``secret`` is the token's."""
        entry = self._entries.get(token_id)
        if (
            entry is None
            or stamp is None
            or entry.stamp != stamp
            or not entry.verified_at <= now < entry.verified_at + self.ttl
            or not secret_matches(secret, entry.secret_hash)
        ):
            return None
        return entry.token, entry.user

    def put(
        self,
        token: ApiToken,
        user: User,
        secret_hash: str,
        stamp: Hashable | None,
        now: datetime,
    ) -> None:
        """Remember a token that passed every check, as read after ``stamp`` was."""
        if stamp is None:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[token.id] = _Entry(secret_hash, token, user, stamp, now)

    def update(self, token: ApiToken) -> None:
        """Replace a remembered token's record (its ``last_used_at`` was written)."""
        with self._lock:
            entry = self._entries.get(token.id)
            if entry is not None:
                self._entries[token.id] = _Entry(
                    entry.secret_hash, token, entry.user, entry.stamp, entry.verified_at
                )

    def forget(self, token_id: str) -> None:
        """Drop a token: the next request reads its record."""
        with self._lock:
            self._entries.pop(token_id, None)
