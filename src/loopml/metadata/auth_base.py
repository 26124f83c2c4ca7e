"""The store interface of users and API tokens: who may call a team server.

This aggregate is separate from :class:`~loopml.metadata.base.BaseMetadataStore`: only a
store the server opens directly (SQL) holds credentials; the REST client store does not
implement it.

Contract for every implementation:

* **Snapshots.** Every record returned is a frozen :class:`~loopml.core.auth.User` or
  :class:`~loopml.core.auth.ApiToken`; a later write never changes an object already
  handed out. Times are kept to the millisecond.
* **Secrets.** The store never sees a token's secret, only its SHA-256 hex digest, and
  hands the digest out only through :meth:`BaseAuthStore.get_token_for_auth`.
* **Atomic writes.** Each method applies completely or not at all;
  :meth:`BaseAuthStore.bootstrap_user` creates the first user and its token in one
  transaction, and only while there are no users, even when several processes race.
* **Thread safety.** A store object may be shared by the threads of one process; several
  processes may open the same store.
* **Errors.** Unknown ids and names raise :class:`~loopml.core.errors.NotFoundError`; name
  clashes :class:`~loopml.core.errors.AlreadyExistsError`; bad input
  :class:`~loopml.core.errors.ValidationError`. No backend-specific error escapes.

The contract is executable: :mod:`loopml.testing.auth_contract` runs the same tests
against every implementation.
"""

from __future__ import annotations

import abc
from datetime import datetime

from loopml.core.auth import ApiToken, Role, User

__all__ = ["BaseAuthStore"]


class BaseAuthStore(abc.ABC):
    """Users and their API tokens."""

    # Users

    @abc.abstractmethod
    def create_user(self, name: str, is_admin: bool = False) -> User:
        """Create a user.

        Args:
            name: 1-64 characters of ``[a-z0-9_.@-]``, starting with a letter or digit.
            is_admin: A server admin may do everything in every project.

        Raises:
            ValidationError: the name is not allowed.
            AlreadyExistsError: a user of that name exists.
        """

    @abc.abstractmethod
    def get_user(self, user_id: str) -> User:
        """The user with this id; NotFoundError otherwise."""

    @abc.abstractmethod
    def get_user_by_name(self, name: str) -> User:
        """The user with this name; NotFoundError otherwise."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """All users, by name."""

    @abc.abstractmethod
    def set_user_disabled(self, user_id: str, disabled: bool) -> User:
        """Disable (or enable again) a user; a disabled user's tokens stop working.

        Returns:
            The user as it is now. NotFoundError for an unknown id.
        """

    @abc.abstractmethod
    def count_users(self) -> int:
        """How many users exist, disabled ones included."""

    @abc.abstractmethod
    def bootstrap_user(
        self, name: str, token_name: str, secret_hash: str
    ) -> tuple[User, ApiToken] | None:
        """Create the first user (a server admin) and its admin token for every project.

        Both are written in one transaction, and only when the store has no user yet; of
        several processes calling this together exactly one gets the pair.

        Args:
            name: The user's name.
            token_name: The token's display name.
            secret_hash: SHA-256 hex digest of the token's secret.

        Returns:
            The new user and token, or None when a user already existed.
        """

    # Tokens

    @abc.abstractmethod
    def create_token(
        self,
        user_id: str,
        name: str,
        role: Role,
        project_id: str | None,
        expires_at: datetime | None,
        secret_hash: str,
    ) -> ApiToken:
        """Record a new token; the store picks its id.

        Args:
            user_id: The owner.
            name: A display name (may be empty).
            role: The role the token grants in ``project_id``.
            project_id: The one project the token is for, or None for every project (the
                caller checks that only server admins get those).
            expires_at: When it stops working, or None for never.
            secret_hash: SHA-256 hex digest (64 lowercase hex characters) of the secret.

        Raises:
            NotFoundError: unknown user or project.
            ValidationError: a malformed hash or name.
        """

    @abc.abstractmethod
    def get_token(self, token_id: str) -> ApiToken:
        """The token with this id (never its hash); NotFoundError otherwise."""

    @abc.abstractmethod
    def get_token_for_auth(self, token_id: str) -> tuple[ApiToken, User, str]:
        """The token, its owner and its secret's hash, in one read; NotFoundError otherwise.

        The one read a request's authentication needs; keep it to a single query.
        """

    @abc.abstractmethod
    def list_tokens(
        self, user_id: str | None = None, project_id: str | None = None
    ) -> list[ApiToken]:
        """Tokens, oldest first, optionally only one user's and/or one project's."""

    @abc.abstractmethod
    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        """Mark a token revoked at ``at``; revoking it again keeps the first time.

        Returns:
            The token as it is now. NotFoundError for an unknown id.
        """

    @abc.abstractmethod
    def touch_token(self, token_id: str, at: datetime) -> None:
        """Set the token's ``last_used_at`` (one cheap update); NotFoundError if unknown."""
