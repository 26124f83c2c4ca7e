"""Authentication and authorization of a team server's callers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from types import MappingProxyType

from loopml.auth.cache import VerifiedTokens
from loopml.auth.tokens import (
    format_token,
    hash_secret,
    new_secret,
    parse_expiry,
    secret_matches,
    split_token,
)
from loopml.core.auth import ApiToken, Principal, Role, User, check_user_name, parse_role
from loopml.core.clock import now
from loopml.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from loopml.core.ids import check_id
from loopml.metadata.auth_base import BaseAuthStore
from loopml.metadata.base import BaseMetadataStore

__all__ = ["BOOTSTRAP_USER", "AuthService"]

BOOTSTRAP_USER = "admin"
_INVALID = "the token is not valid: check it, or create a new one (loopml tokens create)"
# Compared against when the token id is unknown, so that an unknown id and a wrong secret
# cost the same work.
_DUMMY_HASH = hash_secret("")


class AuthService:
    """Users, API tokens, and the checks every server request goes through.

    A revocation takes effect on the very next request: :meth:`authenticate` reads the
    token's record on every call, unless a ``stamp`` is given: then a process remembers
    the tokens it verified (:class:`~loopml.auth.cache.VerifiedTokens`) for as long as
    the stamp, which the store changes whenever a token or user loses access, stays the
    same, and at most ``cache_ttl``. Safe to share between threads when the stores are.

    Args:
        store: Where users and tokens live.
        metadata: The projects that tokens name.
        clock: Current aware UTC time; tests pass a fake.
        touch_interval: ``last_used_at`` is written at most this often per token.
        stamp: The store's change stamp (e.g. ``SqlAuthStore.auth_stamp``); None reads
            the record on every call.
        cache_ttl: The longest a verified token is used without reading its record.

    Example:
        >>> import tempfile
        >>> from loopml.metadata.sql import SqlMetadataStore
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     store = SqlMetadataStore(f"sqlite:///{folder}/loopml.db")
        ...     auth = AuthService(store, store)
        ...     secret = auth.bootstrap_admin()
        ...     principal = auth.authenticate(secret)
        ...     store.close()
        >>> principal.user.name, principal.user.is_admin
        ('admin', True)
    """

    def __init__(
        self,
        store: BaseAuthStore,
        metadata: BaseMetadataStore,
        *,
        clock: Callable[[], datetime] = now,
        touch_interval: timedelta = timedelta(minutes=1),
        stamp: Callable[[], Hashable | None] | None = None,
        cache_ttl: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = store
        self.metadata = metadata
        self.clock = clock
        self.touch_interval = touch_interval
        self._verified = None if stamp is None else VerifiedTokens(stamp, cache_ttl)

    # Requests

    def authenticate(self, raw_token: str) -> Principal:
        """The caller a token string stands for.

        A server admin's token for every project gives everything everywhere. A token for
        one project gives its role there and nothing else, even when its owner is a server
        admin: the principal's user then carries ``is_admin=False``.

        Args:
            raw_token: ``lml_<id>_<secret>`` as the client sent it.

        Raises:
            AuthenticationError: the token is malformed, unknown, wrong, revoked or
                expired, or its user is disabled. The message never repeats the token.
        """
        parts = split_token(raw_token) if isinstance(raw_token, str) else None
        if parts is None:
            raise AuthenticationError(
                "the token is malformed: expected lml_<32 hex>_<43 characters>", field="token"
            )
        token_id, secret = parts
        moment = self.clock()
        verified = self._verified
        # The stamp is read before the record, so a change in between is never missed.
        stamp = None if verified is None else verified.stamp()
        cached = None if verified is None else verified.get(token_id, secret, stamp, moment)
        if cached is not None:
            token, user = cached
        else:
            try:
                token, user, stored_hash = self.store.get_token_for_auth(token_id)
            except NotFoundError:
                secret_matches(secret, _DUMMY_HASH)
                raise AuthenticationError(_INVALID, field="token") from None
            if not secret_matches(secret, stored_hash):
                raise AuthenticationError(_INVALID, field="token")
            _check_usable(token, user, moment)
            if verified is not None:
                verified.put(token, user, stored_hash, stamp, moment)
        if token.expires_at is not None and moment >= token.expires_at:
            _check_usable(token, user, moment)  # raises: it expired while remembered
        if token.last_used_at is None or moment - token.last_used_at >= self.touch_interval:
            try:
                self.store.touch_token(token.id, moment)
            except NotFoundError:  # deleted since it was read (with its project)
                if verified is not None:
                    verified.forget(token.id)
                raise AuthenticationError(_INVALID, field="token") from None
            if verified is not None:
                verified.update(dataclasses.replace(token, last_used_at=moment))
        return _principal(token, user)

    def remembered(self, raw_token: str) -> Principal | None:
        """The caller of a remembered token, or None if :meth:`authenticate` must decide.

        A principal only when :meth:`authenticate` would need no database now: the token
        was verified, nothing changed access since, it has not expired and its
        ``last_used_at`` is not due. It reads nothing but the store's stamp, so a server's
        event loop may call it and skip a thread hop. It never raises for a bad token.
        """
        verified = self._verified
        parts = split_token(raw_token) if isinstance(raw_token, str) else None
        if verified is None or parts is None:
            return None
        moment = self.clock()
        cached = verified.get(parts[0], parts[1], verified.stamp(), moment)
        if cached is None:
            return None
        token, user = cached
        if (token.expires_at is not None and moment >= token.expires_at) or (
            token.last_used_at is None or moment - token.last_used_at >= self.touch_interval
        ):
            return None
        return _principal(token, user)

    def authorize(self, principal: Principal, project_id: str, needed: Role) -> Role:
        """Check that the caller holds at least ``needed`` in a project.

        A caller without any role in the project is told the project does not exist, so
        that a token for one project cannot probe which others exist.

        Returns:
            The caller's role in the project.

        Raises:
            NotFoundError: the caller has no role in the project.
            PermissionDeniedError: the caller's role there is lower than ``needed``.
        """
        role = principal.role_in(project_id)
        if role is None:
            raise NotFoundError(f"project {project_id!r} not found", field="project_id")
        if role < needed:
            raise PermissionDeniedError(
                f"this needs the {needed.value} role in the project; the token has "
                f"{role.value}: ask a project admin for a token with that role",
                field="role",
            )
        return role

    def bootstrap_admin(self) -> str | None:
        """On first start, create the ``admin`` user and its token; return the token once.

        Returns:
            The token string for a store without users (print it once: it cannot be
            shown again), else None. Of several server processes starting together,
            exactly one gets the token.
        """
        if self.store.count_users() > 0:
            return None
        secret = new_secret()
        created = self.store.bootstrap_user(BOOTSTRAP_USER, "bootstrap", hash_secret(secret))
        if created is None:
            return None
        return format_token(created[1].id, secret)

    # Tokens

    def create_token(
        self,
        user_name: str,
        role: Role | str,
        project_name: str | None,
        expires: str | None = "90d",
        name: str = "",
    ) -> tuple[ApiToken, str]:
        """Create a token for a user; the token string is returned this once only.

        Args:
            user_name: The owner.
            role: viewer, editor or admin.
            project_name: The one project the token is for; None for every project, which
                only server admins may hold, with the admin role.
            expires: ``30m``, ``12h``, ``90d``, ``1y`` ... or ``never`` / None.
            name: A display name, e.g. what the token is for.

        Returns:
            The token's record and the token string to hand to the client.

        Raises:
            ValidationError: a bad role or expiry, or a token for every project that the
                user may not hold.
            NotFoundError: unknown user or project.
            ConflictError: the user is disabled.
        """
        role = parse_role(role)
        lifetime = parse_expiry(expires)
        user = self.store.get_user_by_name(user_name)
        if user.disabled:
            raise ConflictError(
                f"user {user.name!r} is disabled: enable it before creating tokens", field="user"
            )
        project_id: str | None = None
        if project_name is not None:
            project_id = self._project_id(project_name)
        elif not user.is_admin:
            raise ValidationError(
                f"project: a token for every project is only for server admins, and "
                f"{user.name!r} is not one: name the project",
                field="project",
            )
        elif role is not Role.ADMIN:
            raise ValidationError(
                "role: a token for every project has the admin role: name a project for a "
                f"{role.value} token",
                field="role",
            )
        expires_at = None if lifetime is None else self.clock() + lifetime
        secret = new_secret()
        token = self.store.create_token(
            user.id, name, role, project_id, expires_at, hash_secret(secret)
        )
        return token, format_token(token.id, secret)

    def list_tokens(
        self, user_name: str | None = None, project_name: str | None = None
    ) -> list[ApiToken]:
        """Tokens, oldest first, of one user and/or one project; never their secrets."""
        user_id = None if user_name is None else self.store.get_user_by_name(user_name).id
        project_id = None if project_name is None else self._project_id(project_name)
        return self.store.list_tokens(user_id=user_id, project_id=project_id)

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token; effective on the next request. Revoking twice is harmless."""
        return self.store.revoke_token(check_id(token_id, field="token_id"), self.clock())

    def _project_id(self, name: str) -> str:
        try:
            return self.metadata.get_project_by_name(name).id
        except NotFoundError:
            raise NotFoundError(
                f"project {name!r} not found: check the name, or have a server admin "
                "create the project first",
                field="project",
            ) from None

    # Users

    def create_user(self, name: str, is_admin: bool = False) -> User:
        """Create a user (no token yet); AlreadyExistsError if the name is taken."""
        return self.store.create_user(check_user_name(name), is_admin=is_admin)

    def list_users(self) -> list[User]:
        """All users, by name."""
        return self.store.list_users()

    def disable_user(self, name: str) -> User:
        """Disable a user: every token of theirs stops working on the next request."""
        return self.store.set_user_disabled(self.store.get_user_by_name(name).id, True)

    def enable_user(self, name: str) -> User:
        """Enable a disabled user again; their unexpired, unrevoked tokens work again."""
        return self.store.set_user_disabled(self.store.get_user_by_name(name).id, False)


def _check_usable(token: ApiToken, user: User, moment: datetime) -> None:
    """Raise AuthenticationError for a revoked or expired token or a disabled user."""
    if token.revoked_at is not None:
        raise AuthenticationError(f"token {token.id} was revoked", field="token")
    if token.expires_at is not None and moment >= token.expires_at:
        raise AuthenticationError(
            f"token {token.id} expired at {token.expires_at.isoformat()}: create a new one",
            field="token",
        )
    if user.disabled:
        raise AuthenticationError(f"user {user.name!r} is disabled", field="token")


def _principal(token: ApiToken, user: User) -> Principal:
    if token.project_id is None:
        # Only server admins hold these; is_admin gives every role everywhere.
        return Principal(user=user, token_id=token.id)
    scoped = dataclasses.replace(user, is_admin=False) if user.is_admin else user
    return Principal(
        user=scoped, token_id=token.id, roles=MappingProxyType({token.project_id: token.role})
    )
