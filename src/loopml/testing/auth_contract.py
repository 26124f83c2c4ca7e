"""The users-and-tokens store contract as tests, run against every implementation.

Subclass :class:`AuthStoreContract` and provide the ``store`` fixture, a fresh empty
store per test. Tokens name a project, so the suite also needs a ``project_id`` fixture;
the default one creates a project when the store is also a
:class:`~loopml.metadata.base.BaseProjectStore` (as the SQL store is)::

    class TestSqliteAuthStore(AuthStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            with SqlMetadataStore(f"sqlite:///{tmp_path}/loopml.db") as store:
                yield store

The tests use only :class:`~loopml.metadata.auth_base.BaseAuthStore`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from loopml.core.auth import ApiToken, Role, User
from loopml.core.errors import AlreadyExistsError, NotFoundError, ValidationError
from loopml.metadata.auth_base import BaseAuthStore
from loopml.metadata.base import BaseProjectStore

__all__ = ["AuthStoreContract"]

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UNKNOWN_ID = "0" * 32


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AuthStoreContract:
    """Every :class:`BaseAuthStore` passes these tests."""

    @pytest.fixture
    def store(self) -> BaseAuthStore:
        raise NotImplementedError("subclasses provide a fresh, empty store")

    @pytest.fixture
    def project_id(self, store: BaseAuthStore) -> str:
        if not isinstance(store, BaseProjectStore):
            raise NotImplementedError("provide a project_id fixture: an existing project's id")
        return store.ensure_project("auth-contract").id

    def _token(
        self,
        store: BaseAuthStore,
        user: User,
        project_id: str | None,
        *,
        role: Role = Role.EDITOR,
        expires_at: datetime | None = None,
        name: str = "ci",
    ) -> ApiToken:
        return store.create_token(user.id, name, role, project_id, expires_at, _hash(name))

    # Users

    def test_create_user_round_trips(self, store: BaseAuthStore) -> None:
        user = store.create_user("ana@example.com")
        assert user.name == "ana@example.com"
        assert not user.is_admin
        assert not user.disabled
        assert store.get_user(user.id) == user
        assert store.get_user_by_name("ana@example.com") == user
        assert store.create_user("root", is_admin=True).is_admin

    def test_list_users_is_by_name_and_count_users_counts_them(self, store: BaseAuthStore) -> None:
        assert store.list_users() == []
        assert store.count_users() == 0
        for name in ("carl", "ana", "bo"):
            store.create_user(name)
        assert [u.name for u in store.list_users()] == ["ana", "bo", "carl"]
        assert store.count_users() == 3

    def test_a_taken_user_name_is_already_exists(self, store: BaseAuthStore) -> None:
        store.create_user("ana")
        with pytest.raises(AlreadyExistsError):
            store.create_user("ana")
        assert store.count_users() == 1

    @pytest.mark.parametrize(
        "name", ["", "Ana", "ana smith", "-ana", ".ana", "a" * 65, "ana\n", "ana/b", "ä"]
    )
    def test_user_names_outside_the_allowed_pattern_are_refused(
        self, store: BaseAuthStore, name: str
    ) -> None:
        with pytest.raises(ValidationError) as caught:
            store.create_user(name)
        assert caught.value.field == "user.name"
        assert store.count_users() == 0

    def test_unknown_users_are_not_found(self, store: BaseAuthStore) -> None:
        with pytest.raises(NotFoundError):
            store.get_user(UNKNOWN_ID)
        with pytest.raises(NotFoundError):
            store.get_user_by_name("nobody")
        with pytest.raises(NotFoundError):
            store.set_user_disabled(UNKNOWN_ID, True)

    def test_disabling_a_user_leaves_snapshots_already_handed_out(
        self, store: BaseAuthStore
    ) -> None:
        user = store.create_user("ana")
        disabled = store.set_user_disabled(user.id, True)
        assert disabled.disabled
        assert not user.disabled
        assert store.get_user(user.id).disabled
        assert not store.set_user_disabled(user.id, False).disabled

    def test_records_are_frozen(self, store: BaseAuthStore, project_id: str) -> None:
        user = store.create_user("ana")
        token = self._token(store, user, project_id)
        with pytest.raises(dataclasses.FrozenInstanceError):
            user.is_admin = True  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            token.role = Role.ADMIN  # type: ignore[misc]

    # Tokens

    def test_create_token_round_trips_without_its_hash(
        self, store: BaseAuthStore, project_id: str
    ) -> None:
        user = store.create_user("ana")
        expires = T0 + timedelta(days=90, microseconds=123_456)
        token = self._token(store, user, project_id, expires_at=expires, name="ci")
        assert (token.user_id, token.name, token.role, token.project_id) == (
            user.id,
            "ci",
            Role.EDITOR,
            project_id,
        )
        assert token.expires_at == T0 + timedelta(days=90, milliseconds=123)
        assert token.revoked_at is None
        assert token.last_used_at is None
        assert store.get_token(token.id) == token
        assert not hasattr(token, "secret_hash")

    def test_get_token_for_auth_returns_the_owner_and_the_hash(
        self, store: BaseAuthStore, project_id: str
    ) -> None:
        user = store.create_user("ana")
        token = self._token(store, user, project_id, name="laptop")
        found, owner, secret_hash = store.get_token_for_auth(token.id)
        assert found == token
        assert owner == user
        assert secret_hash == _hash("laptop")
        store.set_user_disabled(user.id, True)
        assert store.get_token_for_auth(token.id)[1].disabled

    def test_a_token_for_every_project_has_no_project_id(self, store: BaseAuthStore) -> None:
        admin = store.create_user("root", is_admin=True)
        token = self._token(store, admin, None, role=Role.ADMIN)
        assert store.get_token(token.id).project_id is None

    def test_tokens_of_unknown_users_or_projects_are_not_found(
        self, store: BaseAuthStore, project_id: str
    ) -> None:
        user = store.create_user("ana")
        with pytest.raises(NotFoundError):
            store.create_token(UNKNOWN_ID, "x", Role.VIEWER, project_id, None, _hash("x"))
        with pytest.raises(NotFoundError):
            store.create_token(user.id, "x", Role.VIEWER, UNKNOWN_ID, None, _hash("x"))
        assert store.list_tokens() == []

    @pytest.mark.parametrize("secret_hash", ["", "abc", "A" * 64, "g" * 64, "0" * 65])
    def test_a_malformed_hash_is_refused(
        self, store: BaseAuthStore, project_id: str, secret_hash: str
    ) -> None:
        user = store.create_user("ana")
        with pytest.raises(ValidationError):
            store.create_token(user.id, "x", Role.VIEWER, project_id, None, secret_hash)

    def test_a_bad_role_is_refused(self, store: BaseAuthStore, project_id: str) -> None:
        user = store.create_user("ana")
        with pytest.raises(ValidationError):
            store.create_token(user.id, "x", "owner", project_id, None, _hash("x"))  # type: ignore[arg-type]

    def test_unknown_tokens_are_not_found(self, store: BaseAuthStore) -> None:
        for call in (
            lambda: store.get_token(UNKNOWN_ID),
            lambda: store.get_token_for_auth(UNKNOWN_ID),
            lambda: store.revoke_token(UNKNOWN_ID, T0),
            lambda: store.touch_token(UNKNOWN_ID, T0),
        ):
            with pytest.raises(NotFoundError):
                call()

    def test_list_tokens_filters_by_user_and_project_oldest_first(
        self, store: BaseAuthStore, project_id: str
    ) -> None:
        ana = store.create_user("ana")
        bo = store.create_user("bo", is_admin=True)
        first = self._token(store, ana, project_id, name="one")
        second = self._token(store, ana, project_id, name="two")
        everywhere = self._token(store, bo, None, role=Role.ADMIN, name="three")
        assert {t.id for t in store.list_tokens()} == {first.id, second.id, everywhere.id}
        assert [t.id for t in store.list_tokens(user_id=ana.id)][-1] == second.id
        assert {t.id for t in store.list_tokens(user_id=ana.id)} == {first.id, second.id}
        assert {t.id for t in store.list_tokens(project_id=project_id)} == {first.id, second.id}
        assert store.list_tokens(user_id=bo.id, project_id=project_id) == []

    def test_revoke_is_idempotent_and_keeps_the_first_time(
        self, store: BaseAuthStore, project_id: str
    ) -> None:
        user = store.create_user("ana")
        token = self._token(store, user, project_id)
        revoked = store.revoke_token(token.id, T0)
        assert revoked.revoked_at == T0
        assert store.revoke_token(token.id, T0 + timedelta(hours=1)).revoked_at == T0
        assert store.get_token(token.id).revoked_at == T0
        assert token.revoked_at is None
        assert not store.get_token(token.id).is_active(T0)

    def test_touch_sets_last_used_at(self, store: BaseAuthStore, project_id: str) -> None:
        user = store.create_user("ana")
        token = self._token(store, user, project_id)
        store.touch_token(token.id, T0)
        store.touch_token(token.id, T0 + timedelta(minutes=2))
        assert store.get_token(token.id).last_used_at == T0 + timedelta(minutes=2)

    def test_naive_times_are_refused(self, store: BaseAuthStore, project_id: str) -> None:
        user = store.create_user("ana")
        naive = datetime(2030, 1, 1)
        with pytest.raises(ValidationError):
            store.create_token(user.id, "x", Role.VIEWER, project_id, naive, _hash("x"))

    # The first user

    def test_bootstrap_creates_the_first_admin_and_its_token_once(
        self, store: BaseAuthStore
    ) -> None:
        created = store.bootstrap_user("admin", "bootstrap", _hash("s"))
        assert created is not None
        user, token = created
        assert user.is_admin
        assert (token.user_id, token.role, token.project_id, token.expires_at) == (
            user.id,
            Role.ADMIN,
            None,
            None,
        )
        assert store.get_token_for_auth(token.id) == (token, user, _hash("s"))
        assert store.bootstrap_user("admin", "bootstrap", _hash("t")) is None
        assert store.bootstrap_user("other", "bootstrap", _hash("t")) is None
        assert store.count_users() == 1

    def test_bootstrap_does_nothing_once_a_user_exists(self, store: BaseAuthStore) -> None:
        store.create_user("ana")
        assert store.bootstrap_user("admin", "bootstrap", _hash("s")) is None
        assert [u.name for u in store.list_users()] == ["ana"]
        assert store.list_tokens() == []

    def test_concurrent_bootstraps_create_exactly_one_admin(self, store: BaseAuthStore) -> None:
        n_threads = 6
        barrier = threading.Barrier(n_threads)
        results: list[object] = []

        def bootstrap(index: int) -> None:
            barrier.wait()
            try:
                results.append(store.bootstrap_user(f"admin{index}", "b", _hash(str(index))))
            except Exception as exc:  # collected and asserted below
                results.append(exc)

        threads = [threading.Thread(target=bootstrap, args=(i,)) for i in range(n_threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [r for r in results if r is not None]
        assert len(results) == n_threads
        assert len(winners) == 1
        assert isinstance(winners[0], tuple)
        assert store.count_users() == 1
        assert len(store.list_tokens()) == 1
