"""Content digests: BLAKE3, fast enough that hashing is never the bottleneck of a copy.

A digest is written ``blake3:<64 lowercase hex digits>``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

import blake3

from loopml.core.errors import IntegrityError, ValidationError

__all__ = [
    "CHUNK_SIZE",
    "DIGEST_PREFIX",
    "StreamHasher",
    "check_digest",
    "check_expected_digest",
    "hash_bytes",
    "hash_file",
    "hash_stream",
]

CHUNK_SIZE = 8 * 1024 * 1024
DIGEST_PREFIX = "blake3:"
_DIGEST = re.compile(r"blake3:[0-9a-f]{64}")


class StreamHasher:
    """Digest and byte count of data fed to it chunk by chunk, as it is copied.

    >>> hasher = StreamHasher()
    >>> hasher.update(b"ab")
    >>> hasher.update(b"c")
    >>> hasher.size, hasher.digest() == hash_bytes(b"abc")
    (3, True)
    """

    def __init__(self) -> None:
        self._hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self.size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Add the next chunk."""
        self._hasher.update(chunk)
        self.size += len(chunk)

    def digest(self) -> str:
        """``blake3:<hex>`` of everything fed so far."""
        return DIGEST_PREFIX + self._hasher.hexdigest()


def hash_bytes(data: bytes) -> str:
    """``blake3:<hex>`` of ``data``.

    >>> hash_bytes(b"")[:20]
    'blake3:af1349b9f5f9a'
    """
    return DIGEST_PREFIX + blake3.blake3(data).hexdigest()


def hash_stream(stream: BinaryIO) -> tuple[str, int]:
    """Digest and byte count of a stream read to its end."""
    hasher = StreamHasher()
    while chunk := stream.read(CHUNK_SIZE):
        hasher.update(chunk)
    return hasher.digest(), hasher.size


def hash_file(path: Path) -> tuple[str, int]:
    """Digest and size of a local file (memory-mapped, multithreaded for large files)."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    hasher.update_mmap(path)
    return DIGEST_PREFIX + hasher.hexdigest(), path.stat().st_size


def check_digest(digest: object, *, field: str = "digest") -> str:
    """Return ``digest`` if it is a well-formed BLAKE3 digest, else raise ValidationError.

    >>> check_digest(hash_bytes(b"x")) == hash_bytes(b"x")
    True
    >>> check_digest("md5:abc")
    Traceback (most recent call last):
    ...
    loopml.core.errors.ValidationError: digest 'md5:abc' is not of the form blake3:<64 hex digits>
    """
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ValidationError(
            f"{field} {digest!r} is not of the form blake3:<64 hex digits>", field=field
        )
    return digest


def check_expected_digest(path: str, digest: str, expected: str | None) -> None:
    """Raise IntegrityError if a write's ``digest`` is not the ``expected`` one (if any)."""
    if expected is not None and digest != expected:
        raise IntegrityError(
            f"artifact {path!r}: the bytes written hash to {digest}, not the expected "
            f"{expected}; nothing was stored"
        )
