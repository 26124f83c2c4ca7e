"""Who may do what: users, API tokens, project roles and the authenticated principal.

Roles are ordered: a viewer reads; an editor also writes (runs, metrics, artifacts); an
admin of a project also manages its members and tokens and deletes. A server admin
(``User.is_admin``) may do everything in every project and create projects and users.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from loopml.core.errors import ValidationError

__all__ = [
    "USER_NAME_PATTERN",
    "ApiToken",
    "Principal",
    "Role",
    "User",
    "check_user_name",
    "parse_role",
]

# Lowercase letters and digits first, then also _ . @ -: fits logins and e-mail addresses.
USER_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.@-]{0,63}")


class Role(enum.StrEnum):
    """A project role; compare with ``>=`` (``Role.EDITOR >= Role.VIEWER``)."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}
_BY_VALUE = {role.value: role for role in Role}


def parse_role(value: object, *, field: str = "role") -> Role:
    """The role a text names; ValidationError naming ``field`` otherwise.

    >>> parse_role("editor")
    <Role.EDITOR: 'editor'>
    """
    if isinstance(value, Role):
        return value
    if isinstance(value, str) and value in _BY_VALUE:
        return _BY_VALUE[value]
    raise ValidationError(
        f"{field} {value!r} is not a role: use viewer, editor or admin", field=field
    )


def check_user_name(name: object, *, field: str = "user.name") -> str:
    """Return ``name`` if it is an allowed user name, else raise ValidationError.

    >>> check_user_name("ana@example.com")
    'ana@example.com'
    """
    if not isinstance(name, str) or not USER_NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            f"{field} {name!r} is not allowed: use 1-64 lowercase letters, digits and _ . @ -, "
            "starting with a letter or digit",
            field=field,
        )
    return name


@dataclass(frozen=True, slots=True)
class User:
    """A person or a service account."""

    id: str
    name: str
    created_at: datetime
    is_admin: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's record. The secret itself is never stored, only its hash.

    ``project_id`` None with a server admin's token means every project.
    """

    id: str
    user_id: str
    name: str
    role: Role
    project_id: str | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request, as authentication established it.

    ``roles`` maps project id to the caller's role there; a server admin has every
    role everywhere.
    """

    user: User
    token_id: str | None
    roles: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))

    def role_in(self, project_id: str) -> Role | None:
        """The caller's role in a project, or None when it has none there."""
        if self.user.is_admin:
            return Role.ADMIN
        return self.roles.get(project_id)

    def can(self, project_id: str, needed: Role) -> bool:
        role = self.role_in(project_id)
        return role is not None and role >= needed
