"""Who may do what: users, API tokens, project roles and the authenticated principal.

Roles are ordered: a viewer reads; an editor also writes (runs, metrics, artifacts); an
admin of a project also manages its members and tokens and deletes. A server admin
(``User.is_admin``) may do everything in every project and create projects and users.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = ["ApiToken", "Principal", "Role", "User"]


class Role(str, enum.Enum):
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
