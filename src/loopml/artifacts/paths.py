"""Allow-list validation of artifact paths.

A path is a relative POSIX path whose segments are made only of letters, digits, spaces
and ``. _ - + = @ ,``; ``.`` and ``..`` segments, empty segments, backslashes, percent
signs, control characters and absolute or drive-letter paths are refused because they are
not on the list, not because they are on a deny-list.

Names the stores use for their own bookkeeping (temporary files, for example) contain a
``~``, which the list refuses, so they can never clash with a user's path and are never
listed.
"""

from __future__ import annotations

import re

from loopml.core.errors import UnsafePathError

__all__ = ["MAX_PATH_LENGTH", "check_prefix", "check_relpath", "is_relpath", "join_relpath"]

MAX_PATH_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9_\-+=@,.]+(?: [A-Za-z0-9_\-+=@,.]+)*")


def check_relpath(path: object, *, field: str = "path", allow_empty: bool = False) -> str:
    """Return ``path`` if it is a safe relative path, else raise UnsafePathError.

    Args:
        path: The candidate path.
        field: Name of the input, quoted in the error.
        allow_empty: Accept ``""`` (the root itself), as a listing prefix may be.

    Returns:
        ``path`` unchanged.

    Raises:
        UnsafePathError: ``path`` is not a string or not on the allow-list.

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


def check_prefix(prefix: object) -> str:
    """Return a listing prefix (``""`` for everything) if it is safe.

    >>> check_prefix("")
    ''
    >>> check_prefix("runs/1")
    'runs/1'
    """
    return check_relpath(prefix, field="prefix", allow_empty=True)


def is_relpath(path: str) -> bool:
    """Whether ``path`` passes :func:`check_relpath`.

    >>> is_relpath("a/b.txt"), is_relpath("a/.~tmp-1"), is_relpath("a//b")
    (True, False, False)
    """
    try:
        check_relpath(path)
    except UnsafePathError:
        return False
    return True


def join_relpath(*parts: str) -> str:
    """Join safe relative paths with ``/``; empty parts are skipped, each part is checked.

    >>> join_relpath("runs/1", "", "model.onnx")
    'runs/1/model.onnx'
    >>> join_relpath("/etc", "passwd")
    Traceback (most recent call last):
    ...
    loopml.core.errors.UnsafePathError: path '/etc': segment '' is not allowed ...
    """
    kept = [check_relpath(part) for part in parts if part]
    return check_relpath("/".join(kept))
