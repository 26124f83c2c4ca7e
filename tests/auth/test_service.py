"""AuthService: tokens in, principals out; roles checked without leaking projects."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from loopml.auth import AuthService, split_token
from loopml.core.auth import Principal, Role
from loopml.core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from loopml.metadata.sql import SqlMetadataStore

from .conftest import T0, FakeClock


@pytest.fixture
def churn(store: SqlMetadataStore) -> str:
    return store.ensure_project("churn").id


@pytest.fixture
def fraud(store: SqlMetadataStore) -> str:
    return store.ensure_project("fraud").id


def _editor_token(auth: AuthService, **kwargs: object) -> str:
    if "ana" not in {u.name for u in auth.list_users()}:
        auth.create_user("ana")
    _, raw = auth.create_token("ana", Role.EDITOR, "churn", **kwargs)  # type: ignore[arg-type]
    return raw


def test_a_created_token_authenticates_as_its_user_with_its_role(
    auth: AuthService, churn: str
) -> None:
    auth.create_user("ana")
    token, raw = auth.create_token("ana", "editor", "churn", expires="90d", name="laptop")
    assert raw.startswith(f"lml_{token.id}_")
    assert (token.role, token.project_id, token.name) == (Role.EDITOR, churn, "laptop")
    assert token.expires_at == T0 + timedelta(days=90)
    principal = auth.authenticate(raw)
    assert principal.user.name == "ana"
    assert principal.token_id == token.id
    assert dict(principal.roles) == {churn: Role.EDITOR}


def test_only_the_hash_of_the_secret_is_stored(
    auth: AuthService, store: SqlMetadataStore, churn: str, tmp_path: Path
) -> None:
    raw = _editor_token(auth)
    parts = split_token(raw)
    assert parts is not None
    _, secret = parts
    store.close()
    assert secret.encode() not in (tmp_path / "loopml.db").read_bytes()


def test_a_wrong_secret_with_a_right_id_fails(auth: AuthService, churn: str) -> None:
    raw = _editor_token(auth)
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    with pytest.raises(AuthenticationError, match="not valid") as caught:
        auth.authenticate(forged)
    assert forged not in str(caught.value)
    assert raw[-43:] not in str(caught.value)


@pytest.mark.parametrize("raw", ["", "nonsense", "lml_123_abc", "Bearer x"])
def test_a_malformed_token_fails(auth: AuthService, raw: str) -> None:
    with pytest.raises(AuthenticationError, match="malformed"):
        auth.authenticate(raw)


def test_an_unknown_token_fails_like_a_wrong_secret(auth: AuthService) -> None:
    with pytest.raises(AuthenticationError, match="not valid"):
        auth.authenticate("lml_" + "0" * 32 + "_" + "a" * 43)


def test_a_revoked_token_fails_on_the_next_call(auth: AuthService, churn: str) -> None:
    raw = _editor_token(auth)
    principal = auth.authenticate(raw)
    assert principal.token_id is not None
    revoked = auth.revoke_token(principal.token_id)
    assert revoked.revoked_at == T0
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.authenticate(raw)
    assert auth.revoke_token(principal.token_id).revoked_at == T0


def test_revoking_an_unknown_or_malformed_id_names_the_token(auth: AuthService) -> None:
    with pytest.raises(NotFoundError):
        auth.revoke_token("0" * 32)
    with pytest.raises(ValidationError) as caught:
        auth.revoke_token("lml_abc")
    assert caught.value.field == "token_id"


def test_an_expired_token_fails(auth: AuthService, clock: FakeClock, churn: str) -> None:
    raw = _editor_token(auth, expires="30m")
    clock.advance(timedelta(minutes=29, seconds=59))
    auth.authenticate(raw)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(AuthenticationError, match="expired"):
        auth.authenticate(raw)


def test_a_token_that_never_expires(auth: AuthService, clock: FakeClock, churn: str) -> None:
    raw = _editor_token(auth, expires="never")
    clock.advance(timedelta(days=3650))
    assert auth.authenticate(raw).user.name == "ana"


def test_a_disabled_user_fails_and_an_enabled_one_works_again(
    auth: AuthService, churn: str
) -> None:
    raw = _editor_token(auth)
    assert auth.disable_user("ana").disabled
    with pytest.raises(AuthenticationError, match="disabled"):
        auth.authenticate(raw)
    with pytest.raises(ConflictError):
        auth.create_token("ana", "viewer", "churn")
    auth.enable_user("ana")
    assert auth.authenticate(raw).user.name == "ana"


def test_last_used_at_is_written_at_most_once_a_minute(
    auth: AuthService, store: SqlMetadataStore, clock: FakeClock, churn: str
) -> None:
    raw = _editor_token(auth)
    token_id = auth.authenticate(raw).token_id
    assert token_id is not None
    assert store.get_token(token_id).last_used_at == T0
    clock.advance(timedelta(seconds=59))
    auth.authenticate(raw)
    assert store.get_token(token_id).last_used_at == T0
    clock.advance(timedelta(seconds=1))
    auth.authenticate(raw)
    assert store.get_token(token_id).last_used_at == T0 + timedelta(minutes=1)


def test_secrets_never_reach_the_logs(
    auth: AuthService, churn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = _editor_token(auth)
    auth.authenticate(raw)
    with pytest.raises(AuthenticationError):
        auth.authenticate(raw[:-1] + "-")
    assert raw[-43:] not in caplog.text


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.EDITOR < Role.ADMIN
    assert Role.ADMIN >= Role.EDITOR >= Role.VIEWER
    assert not Role.VIEWER >= Role.EDITOR
    assert sorted([Role.ADMIN, Role.VIEWER, Role.EDITOR]) == [Role.VIEWER, Role.EDITOR, Role.ADMIN]


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.EDITOR, False),
        (Role.EDITOR, Role.EDITOR, True),
        (Role.EDITOR, Role.ADMIN, False),
        (Role.ADMIN, Role.EDITOR, True),
    ],
)
def test_authorize_compares_roles(
    auth: AuthService, churn: str, held: Role, needed: Role, allowed: bool
) -> None:
    auth.create_user("ana")
    _, raw = auth.create_token("ana", held, "churn")
    principal = auth.authenticate(raw)
    if allowed:
        assert auth.authorize(principal, churn, needed) is held
    else:
        with pytest.raises(PermissionDeniedError):
            auth.authorize(principal, churn, needed)


def test_a_token_of_one_project_probing_another_gets_not_found(
    auth: AuthService, churn: str, fraud: str
) -> None:
    auth.create_user("ana")
    _, raw = auth.create_token("ana", Role.ADMIN, "churn")
    principal = auth.authenticate(raw)
    with pytest.raises(NotFoundError):
        auth.authorize(principal, fraud, Role.VIEWER)
    with pytest.raises(NotFoundError):
        auth.authorize(principal, "0" * 32, Role.VIEWER)


def test_a_server_admin_token_for_every_project_may_do_everything(
    auth: AuthService, churn: str, fraud: str
) -> None:
    auth.create_user("root", is_admin=True)
    token, raw = auth.create_token("root", "admin", None, expires="1y")
    assert token.project_id is None
    principal = auth.authenticate(raw)
    assert principal.user.is_admin
    for project_id in (churn, fraud, "0" * 32):
        assert auth.authorize(principal, project_id, Role.ADMIN) is Role.ADMIN


def test_a_server_admins_project_token_acts_only_in_its_project(
    auth: AuthService, churn: str, fraud: str
) -> None:
    auth.create_user("root", is_admin=True)
    _, raw = auth.create_token("root", "viewer", "churn")
    principal = auth.authenticate(raw)
    assert not principal.user.is_admin
    assert auth.authorize(principal, churn, Role.VIEWER) is Role.VIEWER
    with pytest.raises(PermissionDeniedError):
        auth.authorize(principal, churn, Role.EDITOR)
    with pytest.raises(NotFoundError):
        auth.authorize(principal, fraud, Role.VIEWER)


def test_a_token_for_every_project_needs_a_server_admin_and_the_admin_role(
    auth: AuthService,
) -> None:
    auth.create_user("ana")
    auth.create_user("root", is_admin=True)
    with pytest.raises(ValidationError) as caught:
        auth.create_token("ana", "admin", None)
    assert caught.value.field == "project"
    with pytest.raises(ValidationError) as caught:
        auth.create_token("root", "viewer", None)
    assert caught.value.field == "role"
    assert auth.list_tokens() == []


def test_create_token_refuses_bad_input_naming_the_field(auth: AuthService, churn: str) -> None:
    auth.create_user("ana")
    for kwargs, field in [
        ({"role": "owner"}, "role"),
        ({"expires": "3x"}, "expires"),
    ]:
        arguments: dict[str, object] = {"user_name": "ana", "role": "viewer"}
        arguments.update(project_name="churn", **kwargs)
        with pytest.raises(ValidationError) as caught:
            auth.create_token(**arguments)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(NotFoundError, match="user 'bob'"):
        auth.create_token("bob", "viewer", "churn")
    with pytest.raises(NotFoundError, match="project 'nope'"):
        auth.create_token("ana", "viewer", "nope")
    assert auth.list_tokens() == []


def test_list_tokens_by_user_and_project(auth: AuthService, churn: str, fraud: str) -> None:
    auth.create_user("ana")
    auth.create_user("bo")
    a1, _ = auth.create_token("ana", "viewer", "churn")
    a2, _ = auth.create_token("ana", "viewer", "fraud")
    b1, _ = auth.create_token("bo", "viewer", "churn")
    assert [t.id for t in auth.list_tokens()] == [a1.id, a2.id, b1.id]
    assert [t.id for t in auth.list_tokens(user_name="ana")] == [a1.id, a2.id]
    assert [t.id for t in auth.list_tokens(project_name="churn")] == [a1.id, b1.id]
    assert [t.id for t in auth.list_tokens("bo", "fraud")] == []
    with pytest.raises(NotFoundError):
        auth.list_tokens(user_name="nobody")


def test_users_are_created_listed_and_unique(auth: AuthService) -> None:
    auth.create_user("bo")
    auth.create_user("ana", is_admin=True)
    assert [(u.name, u.is_admin) for u in auth.list_users()] == [("ana", True), ("bo", False)]
    with pytest.raises(AlreadyExistsError):
        auth.create_user("ana")
    with pytest.raises(ValidationError):
        auth.create_user("Not Allowed")
    with pytest.raises(NotFoundError):
        auth.disable_user("nobody")


def test_bootstrap_creates_the_admin_once(auth: AuthService, churn: str) -> None:
    raw = auth.bootstrap_admin()
    assert raw is not None
    principal = auth.authenticate(raw)
    assert principal.user.name == "admin"
    assert principal.user.is_admin
    assert auth.authorize(principal, churn, Role.ADMIN) is Role.ADMIN
    (token,) = auth.list_tokens()
    assert (token.expires_at, token.project_id) == (None, None)
    assert auth.bootstrap_admin() is None


def test_bootstrap_does_nothing_when_users_exist(auth: AuthService) -> None:
    auth.create_user("ana")
    assert auth.bootstrap_admin() is None
    assert [u.name for u in auth.list_users()] == ["ana"]


def test_two_servers_bootstrapping_together_get_exactly_one_secret(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    stores = [SqlMetadataStore(url) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    results: list[str | BaseException | None] = []

    def start(store: SqlMetadataStore) -> None:
        barrier.wait()
        try:
            results.append(AuthService(store, store, clock=clock).bootstrap_admin())
        except BaseException as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    secrets = [r for r in results if isinstance(r, str)]
    assert len(results) == len(stores)
    assert len(secrets) == 1
    assert results.count(None) == len(stores) - 1
    assert isinstance(AuthService(stores[0], stores[0]).authenticate(secrets[0]), Principal)
    for store in stores:
        store.close()
