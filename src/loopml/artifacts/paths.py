"""Allow-list validation of artifact paths.

A path is a relative POSIX path whose segments are made only of letters, digits, spaces
and ``. _ - + = @ ,``; ``.`` and ``..`` segments, empty segments, backslashes, percent
signs, control characters and absolute or drive-letter paths are refused because they are
not on the list, not because they are on a deny-list.
"""

from __future__ import annotations

import re

from loopml.core.errors import UnsafePathError

__all__ = ["MAX_PATH_LENGTH", "check_relpath", "join_relpath"]

MAX_PATH_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_\-+=@,.]+(?: [A-Za-z0-9_\-+=@,.]+)*")


def check_relpath(path: object, *, field: str = "path", allow_empty: bool = False) -> str:
    """Return ``path`` if it is a safe relative path, else raise UnsafePathError.

    >>> check_relpath("model/weights.bin")
    'model/weights.bin'
    >>> check_relpath("../etc/passwd")
    Traceback (most recent call last):
    ...
    loopml.core.errors.UnsafePathError: path '../etc/passwd': segment '..' is not allowed ...
    """
    if not isinstance(path, str):
        raise UnsafePathError(f"{field} must be a string", field=field)
    if path == "" and allow_empty:
        return path
    if not path or len(path) > MAX_PATH_LENGTH:
        raise UnsafePathError(
            f"{field} {path!r}: must be 1-{MAX_PATH_LENGTH} characters", field=field
        )
    for segment in path.split("/"):
        if segment in (".", "..") or not _SEGMENT.fullmatch(segment):
            raise UnsafePathError(
                f"{field} {path!r}: segment {segment!r} is not allowed (use a relative path "
                "of letters, digits, spaces and . _ - + = @ , separated by /)",
                field=field,
            )
    return path


def join_relpath(*parts: str) -> str:
    """Join relative paths with ``/``, checking the result."""
    joined = "/".join(p.strip("/") for p in parts if p)
    return check_relpath(joined)
