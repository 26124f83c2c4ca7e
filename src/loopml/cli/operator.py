"""The auth service that operator commands (users, tokens) run on: the local store.

These commands run where the server's database is reachable and open it directly from the
settings (``LOOPML_STORE_URL``), never through the REST API: they are how an operator gets
in before any token exists, or back in after losing one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loopml.auth import AuthService
from loopml.core.auth import ApiToken, User
from loopml.core.config import load_settings
from loopml.core.errors import ValidationError

__all__ = ["auth_service", "token_to_dict", "user_to_dict"]


@contextmanager
def auth_service() -> Iterator[AuthService]:
    """An auth service on this environment's metadata store, closed afterwards."""
    # Imported here: the migration machinery is slow to import, and only these commands
    # need it.
    from loopml.metadata.sql.store import SqlMetadataStore

    settings = load_settings()
    if settings.is_remote and not os.environ.get("LOOPML_STORE_URL"):
        # Without this, tokens would quietly land in a local store the server never reads.
        raise ValidationError(
            "store_url: users and tokens are managed on the server's database, not over the "
            "API: LOOPML_SERVER_URL is set, so set LOOPML_STORE_URL to the server's database "
            "too (run this where the database is reachable)",
            field="store_url",
        )
    store = SqlMetadataStore(settings.store_url)
    try:
        yield AuthService(store, store)
    finally:
        store.close()


def user_to_dict(user: User) -> dict[str, Any]:
    """A user as plain JSON-ready data."""
    return {
        "id": user.id,
        "name": user.name,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def token_to_dict(token: ApiToken, user_name: str, project_name: str | None) -> dict[str, Any]:
    """A token's record as plain JSON-ready data; a record holds no secret or hash."""

    def moment(value: Any) -> str | None:
        return None if value is None else str(value.isoformat())

    return {
        "id": token.id,
        "name": token.name,
        "user": user_name,
        "role": token.role.value,
        "project": project_name,
        "project_id": token.project_id,
        "created_at": moment(token.created_at),
        "expires_at": moment(token.expires_at),
        "revoked_at": moment(token.revoked_at),
        "last_used_at": moment(token.last_used_at),
    }
