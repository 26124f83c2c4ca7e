"""Record identifiers: random, URL-safe, and checked against one allow-list pattern."""

from __future__ import annotations

import re
import uuid

from loopml.core.errors import ValidationError

__all__ = ["ID_PATTERN", "check_id", "new_id"]

ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """Return a fresh 32-character lowercase hex identifier."""
    return uuid.uuid4().hex


def check_id(value: object, *, field: str = "id") -> str:
    """Return ``value`` if it is a well-formed id, else raise ValidationError naming ``field``.

    >>> check_id("0" * 32)
    '00000000000000000000000000000000'
    """
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValidationError(
            f"{field}: {value!r} is not a loopml id (32 lowercase hex characters)", field=field
        )
    return value
