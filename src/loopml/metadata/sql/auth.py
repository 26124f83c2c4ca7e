"""Users and API tokens of the SQL store (:class:`~loopml.metadata.auth_base.BaseAuthStore`)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.auth import ApiToken, Role, User, check_user_name, parse_role
from loopml.core.clock import from_ms, now_ms, to_ms
from loopml.core.errors import AlreadyExistsError, NotFoundError, StoreError, ValidationError
from loopml.core.ids import new_id
from loopml.metadata.auth_base import BaseAuthStore
from loopml.metadata.sql.auth_schema import ApiTokenRow, UserRow
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import ProjectRow, table_of

__all__ = ["SqlAuthStore"]

users = table_of(UserRow)
tokens = table_of(ApiTokenRow)
projects = table_of(ProjectRow)

_HASH = re.compile(r"[0-9a-f]{64}")
_TOKEN_NAME_MAX = 256
# pg_advisory_xact_lock key for the first-user bootstrap: "lmlauth" in ASCII.
_BOOTSTRAP_LOCK_KEY = 0x6C6D6C61757468
# Every token column but the hash: what list and get hand out.
_TOKEN_COLUMNS = [column for column in tokens.c if column.name != "secret_hash"]
# The read of every authenticated request: the token with its owner. Built once, so
# SQLAlchemy reuses its compiled form.
_AUTH_QUERY = (
    sa.select(tokens, *(column.label(f"owner_{column.name}") for column in users.c))
    .join(users, users.c.id == tokens.c.user_id)
    .where(tokens.c.id == sa.bindparam("token_id"))
)


def _user(row: sa.Row[Any, Any]) -> User:
    return User(
        id=row.id,
        name=row.name,
        created_at=from_ms(row.created_at),
        is_admin=bool(row.is_admin),
        disabled=bool(row.disabled),
    )


def _optional_time(value: int | None) -> datetime | None:
    return None if value is None else from_ms(value)


def _token(row: sa.Row[Any, Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        role=Role(row.role),
        project_id=row.project_id,
        created_at=from_ms(row.created_at),
        expires_at=_optional_time(row.expires_at),
        revoked_at=_optional_time(row.revoked_at),
        last_used_at=_optional_time(row.last_used_at),
    )


def _time_ms(value: datetime, *, field: str) -> int:
    if value.tzinfo is None:
        raise ValidationError(f"{field} must be a timezone-aware datetime", field=field)
    return to_ms(value)


def _check_token_name(name: object) -> str:
    if not isinstance(name, str) or len(name) > _TOKEN_NAME_MAX or not name.isprintable():
        raise ValidationError(
            f"token.name {name!r} is not allowed: use 0-{_TOKEN_NAME_MAX} printable characters",
            field="token.name",
        )
    return name


def _check_hash(secret_hash: object) -> str:
    if not isinstance(secret_hash, str) or not _HASH.fullmatch(secret_hash):
        raise ValidationError(
            "secret_hash must be a SHA-256 hex digest (64 lowercase hex characters)",
            field="secret_hash",
        )
    return secret_hash


def _user_exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(f"user {name!r} already exists", field="user.name")


def _user_not_found(key: str) -> NotFoundError:
    return NotFoundError(f"user {key!r} not found", field="user")


def _token_not_found(token_id: str) -> NotFoundError:
    return NotFoundError(f"token {token_id!r} not found", field="token_id")


T = TypeVar("T")


class SqlAuthStore(BaseAuthStore):
    """Users and API tokens in a SQL database."""

    _db: Database
    _stamp_path_cache: Path | None

    # Change stamp

    def auth_stamp(self) -> Hashable | None:
        """A value that changes whenever a token or a user loses or regains access.

        For :class:`~loopml.auth.AuthService`, which remembers verified tokens while it
        stays the same. For a SQLite file it is the content of ``<database>.auth`` beside
        it, a random value that every revocation and every change of a user's status
        replaces (before and after its transaction), in every process that writes there;
        reading it is one small file read. None where there is no such cheap signal
        (PostgreSQL, in-memory SQLite): the service then reads the token every time.
        """
        path = self._stamp_path()
        if path is None:
            return None
        try:
            return _read_stamp(path)
        except FileNotFoundError:
            _replace_stamp(path)  # a first stamp, so "no file" is never a stamp
            return _read_stamp(path)

    def _stamp_path(self) -> Path | None:
        # Resolved once per store: every request asks for the stamp.
        if not hasattr(self, "_stamp_path_cache"):
            database = self._db.url.database if self._db.is_sqlite else None
            memory = not database or database == ":memory:" or database.startswith("file:")
            self._stamp_path_cache = None if memory else Path(os.path.realpath(f"{database}.auth"))
        return self._stamp_path_cache

    def _changing_access(self, change: Callable[[], T]) -> T:
        """Run ``change`` with the stamp replaced before and after it."""
        path = self._stamp_path()
        if path is None:
            return change()
        _replace_stamp(path)
        try:
            return change()
        finally:
            _replace_stamp(path)

    # Users

    def create_user(self, name: str, is_admin: bool = False) -> User:
        name = check_user_name(name)
        user = User(new_id(), name, from_ms(now_ms()), is_admin=bool(is_admin))

        def work(connection: Connection) -> None:
            exists = connection.execute(sa.select(users.c.id).where(users.c.name == name))
            if exists.first() is not None:
                raise _user_exists(name)
            connection.execute(users.insert(), _user_values(user))

        self._db.write(work, on_integrity=lambda: _user_exists(name))
        return user

    def get_user(self, user_id: str) -> User:
        row = self._db.read(
            lambda c: c.execute(sa.select(users).where(users.c.id == user_id)).first()
        )
        if row is None:
            raise _user_not_found(user_id)
        return _user(row)

    def get_user_by_name(self, name: str) -> User:
        row = self._db.read(
            lambda c: c.execute(sa.select(users).where(users.c.name == name)).first()
        )
        if row is None:
            raise _user_not_found(name)
        return _user(row)

    def list_users(self) -> list[User]:
        rows = self._db.read(lambda c: c.execute(sa.select(users).order_by(users.c.name)).all())
        return [_user(row) for row in rows]

    def set_user_disabled(self, user_id: str, disabled: bool) -> User:
        def work(connection: Connection) -> sa.Row[Any, Any] | None:
            connection.execute(
                users.update().where(users.c.id == user_id).values(disabled=bool(disabled))
            )
            return connection.execute(sa.select(users).where(users.c.id == user_id)).first()

        row = self._changing_access(lambda: self._db.write(work))
        if row is None:
            raise _user_not_found(user_id)
        return _user(row)

    def count_users(self) -> int:
        count = self._db.read(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
        )
        return int(count)

    def bootstrap_user(
        self, name: str, token_name: str, secret_hash: str
    ) -> tuple[User, ApiToken] | None:
        name = check_user_name(name)
        now = from_ms(now_ms())
        user = User(new_id(), name, now, is_admin=True)
        token = ApiToken(new_id(), user.id, _check_token_name(token_name), Role.ADMIN, None, now)
        secret_hash = _check_hash(secret_hash)

        def work(connection: Connection) -> bool:
            if self._db.dialect == "postgresql":
                # SQLite's BEGIN IMMEDIATE already serializes writers; PostgreSQL needs a lock
                # so that two servers starting together cannot both see an empty table.
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BOOTSTRAP_LOCK_KEY}
                )
            if connection.execute(sa.select(users.c.id).limit(1)).first() is not None:
                return False
            connection.execute(users.insert(), _user_values(user))
            connection.execute(tokens.insert(), _token_values(token, secret_hash))
            return True

        try:
            created = self._db.write(work, on_integrity=lambda: _user_exists(name))
        except AlreadyExistsError:
            return None
        return (user, token) if created else None

    # Tokens

    def create_token(
        self,
        user_id: str,
        name: str,
        role: Role,
        project_id: str | None,
        expires_at: datetime | None,
        secret_hash: str,
    ) -> ApiToken:
        token = ApiToken(
            id=new_id(),
            user_id=user_id,
            name=_check_token_name(name),
            role=parse_role(role),
            project_id=project_id,
            created_at=from_ms(now_ms()),
            expires_at=(
                None if expires_at is None else from_ms(_time_ms(expires_at, field="expires_at"))
            ),
        )
        secret_hash = _check_hash(secret_hash)

        def work(connection: Connection) -> None:
            found = connection.execute(sa.select(users.c.id).where(users.c.id == user_id))
            if found.first() is None:
                raise _user_not_found(user_id)
            if project_id is not None:
                found = connection.execute(
                    sa.select(projects.c.id).where(projects.c.id == project_id)
                )
                if found.first() is None:
                    raise NotFoundError(f"project {project_id!r} not found", field="project_id")
            connection.execute(tokens.insert(), _token_values(token, secret_hash))

        self._db.write(work)
        return token

    def get_token(self, token_id: str) -> ApiToken:
        row = self._db.read(
            lambda c: c.execute(sa.select(*_TOKEN_COLUMNS).where(tokens.c.id == token_id)).first()
        )
        if row is None:
            raise _token_not_found(token_id)
        return _token(row)

    def get_token_for_auth(self, token_id: str) -> tuple[ApiToken, User, str]:
        row = self._db.read(lambda c: c.execute(_AUTH_QUERY, {"token_id": token_id}).first())
        if row is None:
            raise _token_not_found(token_id)
        user = User(
            id=row.owner_id,
            name=row.owner_name,
            created_at=from_ms(row.owner_created_at),
            is_admin=bool(row.owner_is_admin),
            disabled=bool(row.owner_disabled),
        )
        return _token(row), user, str(row.secret_hash)

    def list_tokens(
        self, user_id: str | None = None, project_id: str | None = None
    ) -> list[ApiToken]:
        query = sa.select(*_TOKEN_COLUMNS).order_by(tokens.c.created_at, tokens.c.id)
        if user_id is not None:
            query = query.where(tokens.c.user_id == user_id)
        if project_id is not None:
            query = query.where(tokens.c.project_id == project_id)
        rows = self._db.read(lambda c: c.execute(query).all())
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        at_ms = _time_ms(at, field="at")

        def work(connection: Connection) -> sa.Row[Any, Any] | None:
            connection.execute(
                tokens.update()
                .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=at_ms)
            )
            return connection.execute(
                sa.select(*_TOKEN_COLUMNS).where(tokens.c.id == token_id)
            ).first()

        row = self._changing_access(lambda: self._db.write(work))
        if row is None:
            raise _token_not_found(token_id)
        return _token(row)

    def touch_token(self, token_id: str, at: datetime) -> None:
        at_ms = _time_ms(at, field="at")
        statement = tokens.update().where(tokens.c.id == token_id).values(last_used_at=at_ms)
        updated = self._db.write(lambda c: c.execute(statement).rowcount)
        if updated == 0:
            raise _token_not_found(token_id)


def _read_stamp(path: Path) -> bytes:
    """The stamp file's content, with three system calls and nothing else."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, 64)
    finally:
        os.close(descriptor)


def _replace_stamp(path: Path) -> None:
    """Give the stamp file a new random value, atomically (readers never see half of it)."""
    temporary = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        temporary.write_bytes(secrets.token_bytes(16))
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write {str(path)!r} ({exc.strerror}): server processes would not see "
            "this change of access; make the store's folder writable",
            field="store_url",
        ) from None


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "created_at": to_ms(user.created_at),
        "is_admin": user.is_admin,
        "disabled": user.disabled,
    }


def _token_values(token: ApiToken, secret_hash: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "user_id": token.user_id,
        "name": token.name,
        "role": token.role.value,
        "project_id": token.project_id,
        "created_at": to_ms(token.created_at),
        "expires_at": None if token.expires_at is None else to_ms(token.expires_at),
        "revoked_at": None,
        "last_used_at": None,
        "secret_hash": secret_hash,
    }
