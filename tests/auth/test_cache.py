"""A server process remembers verified tokens, but never past a change of access.

Each test opens the SQLite store twice, as a server process and as another process (the
CLI, another worker) would, and changes access through the other one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from loopml.auth import AuthService
from loopml.core.errors import AuthenticationError
from loopml.metadata.sql import SqlMetadataStore

from .conftest import FakeClock


class CountingStore:
    """The store, counting the token reads of authentication."""

    def __init__(self, store: SqlMetadataStore) -> None:
        self.store = store
        self.reads = 0

    def get_token_for_auth(self, token_id: str) -> Any:
        self.reads += 1
        return self.store.get_token_for_auth(token_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def other(tmp_path: Path, clock: FakeClock) -> Iterator[AuthService]:
    """The same store, opened by another process."""
    store = SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db")
    yield AuthService(store, store, clock=clock)
    store.close()


@pytest.fixture
def counting(store: SqlMetadataStore) -> CountingStore:
    return CountingStore(store)


@pytest.fixture
def server(counting: CountingStore, store: SqlMetadataStore, clock: FakeClock) -> AuthService:
    return AuthService(counting, store, clock=clock, stamp=store.auth_stamp)  # type: ignore[arg-type]


@pytest.fixture
def raw(other: AuthService) -> str:
    other.metadata.ensure_project("churn")
    other.create_user("ana")
    return other.create_token("ana", "editor", "churn")[1]


def test_a_verified_token_is_not_read_again_while_nothing_changes(
    server: AuthService, counting: CountingStore, raw: str
) -> None:
    for _ in range(5):
        assert server.authenticate(raw).user.name == "ana"
    assert counting.reads == 1


def test_a_token_revoked_elsewhere_fails_on_the_next_request(
    server: AuthService, other: AuthService, raw: str
) -> None:
    token_id = server.authenticate(raw).token_id
    assert token_id is not None
    other.revoke_token(token_id)
    with pytest.raises(AuthenticationError, match="revoked"):
        server.authenticate(raw)


def test_a_user_disabled_elsewhere_fails_on_the_next_request_and_works_once_enabled(
    server: AuthService, other: AuthService, raw: str
) -> None:
    server.authenticate(raw)
    other.disable_user("ana")
    with pytest.raises(AuthenticationError, match="disabled"):
        server.authenticate(raw)
    other.enable_user("ana")
    assert server.authenticate(raw).user.name == "ana"


def test_a_remembered_token_still_expires(
    server: AuthService, other: AuthService, clock: FakeClock
) -> None:
    other.metadata.ensure_project("churn")
    other.create_user("bo")
    _, raw = other.create_token("bo", "viewer", "churn", expires="30m")
    server.authenticate(raw)
    clock.advance(timedelta(minutes=30))
    with pytest.raises(AuthenticationError, match="expired"):
        server.authenticate(raw)


def test_a_wrong_secret_never_matches_a_remembered_token(server: AuthService, raw: str) -> None:
    server.authenticate(raw)
    with pytest.raises(AuthenticationError, match="not valid"):
        server.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B"))


def test_a_remembered_token_is_read_again_after_the_time_to_live(
    server: AuthService, counting: CountingStore, clock: FakeClock, raw: str
) -> None:
    server.authenticate(raw)
    clock.advance(timedelta(seconds=29))
    server.authenticate(raw)
    assert counting.reads == 1
    clock.advance(timedelta(seconds=1))
    server.authenticate(raw)
    assert counting.reads == 2


def test_last_used_at_is_still_written_once_a_minute(
    server: AuthService, store: SqlMetadataStore, clock: FakeClock, raw: str
) -> None:
    token_id = server.authenticate(raw).token_id
    assert token_id is not None
    first = store.get_token(token_id).last_used_at
    clock.advance(timedelta(seconds=20))
    server.authenticate(raw)
    assert store.get_token(token_id).last_used_at == first
    clock.advance(timedelta(seconds=40))
    server.authenticate(raw)
    assert store.get_token(token_id).last_used_at == first + timedelta(minutes=1)


def test_a_store_without_a_cheap_stamp_is_read_every_time(clock: FakeClock) -> None:
    store = SqlMetadataStore("sqlite:///:memory:")
    assert store.auth_stamp() is None
    counting = CountingStore(store)
    auth = AuthService(counting, store, clock=clock, stamp=store.auth_stamp)  # type: ignore[arg-type]
    secret = auth.bootstrap_admin()
    assert secret is not None
    auth.authenticate(secret)
    auth.authenticate(secret)
    assert counting.reads == 2
    store.close()


def test_remembered_answers_only_what_needs_no_database(
    server: AuthService, other: AuthService, clock: FakeClock, raw: str
) -> None:
    assert server.remembered(raw) is None  # never verified here
    verified = server.authenticate(raw)
    assert server.remembered(raw) == verified
    assert server.remembered(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert server.remembered("not a token") is None
    clock.advance(timedelta(seconds=60))
    assert server.remembered(raw) is None  # last_used_at is due: a write
    server.authenticate(raw)
    assert server.remembered(raw) == verified
    other.disable_user("ana")
    assert server.remembered(raw) is None
