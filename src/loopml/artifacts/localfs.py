"""Local-file primitives: an atomic, hashed write and the digest it records.

A write goes to a temporary file beside its target (``.~tmp-<random>``, a name the path
allow-list refuses, so it never clashes with a stored file and is never listed), is
fsynced, and is renamed over the target with :func:`os.replace`, which is atomic on POSIX
and Windows. The BLAKE3 digest is computed on the same pass and, where the filesystem
supports extended attributes, recorded on the file before the rename, together with the
size and modification time it belongs to; a file changed in place afterwards no longer
matches and has its digest computed afresh.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
from typing import BinaryIO

from loopml.artifacts.hashing import CHUNK_SIZE, StreamHasher, check_expected_digest

__all__ = ["TEMP_PREFIX", "read_recorded_digest", "write_atomic"]

TEMP_PREFIX = ".~tmp-"
_XATTR = "user.loopml.blake3"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# Filesystems without user extended attributes answer with one of these.
_NO_XATTR = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES, errno.ENODATA}


def write_atomic(
    stream: BinaryIO,
    target: str,
    *,
    label: str,
    expected_digest: str | None = None,
    record_digest: bool = True,
) -> tuple[str, int]:
    """Copy ``stream`` to the absolute path ``target`` atomically, hashing on the way.

    Args:
        stream: Read to its end in chunks of :data:`~loopml.artifacts.hashing.CHUNK_SIZE`.
        target: Absolute path; its folder must exist.
        label: How errors name the file.
        expected_digest: If given and the bytes hash otherwise, raise IntegrityError and
            leave ``target`` untouched.
        record_digest: Record the digest in an extended attribute where supported.

    Returns:
        Digest and size of the bytes written.
    """
    directory = os.path.dirname(target)
    temp = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    fd = os.open(temp, flags, 0o666)
    try:
        hasher = StreamHasher()
        _copy_into(stream, fd, hasher)
        os.fsync(fd)
        digest = hasher.digest()
        check_expected_digest(label, digest, expected_digest)
        if record_digest:
            _record_digest(fd, digest)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    os.close(fd)
    try:
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_dir(directory)
    return digest, hasher.size


def _copy_into(stream: BinaryIO, fd: int, hasher: StreamHasher) -> None:
    """Copy ``stream`` to ``fd`` chunk by chunk, feeding each chunk to ``hasher``."""
    if isinstance(stream, io.RawIOBase | io.BufferedIOBase):
        # One reusable buffer: no allocation per chunk on the hot path of put_file.
        buffer = bytearray(CHUNK_SIZE)
        view = memoryview(buffer)
        while n := stream.readinto(view):
            _write_all(fd, view[:n])
            hasher.update(view[:n])
        return
    while chunk := stream.read(CHUNK_SIZE):
        _write_all(fd, chunk)
        hasher.update(chunk)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _record_digest(fd: int, digest: str) -> None:
    setxattr = getattr(os, "setxattr", None)
    if setxattr is None:
        return
    stat = os.fstat(fd)
    value = f"{digest} {stat.st_size} {stat.st_mtime_ns}".encode()
    try:
        setxattr(fd, _XATTR, value)
    except OSError as error:
        if error.errno not in _NO_XATTR:
            raise


def read_recorded_digest(fd: int) -> str | None:
    """The digest recorded on an open file, or None if absent or stale."""
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:
        return None
    try:
        raw: bytes = getxattr(fd, _XATTR)
    except OSError as error:
        if error.errno in _NO_XATTR:
            return None
        raise
    digest, _, rest = raw.decode("ascii", "replace").partition(" ")
    stat = os.fstat(fd)
    if rest != f"{stat.st_size} {stat.st_mtime_ns}":
        return None
    return digest


def _fsync_dir(directory: str) -> None:
    """Make a rename durable; some platforms cannot open or fsync a folder, and skip it."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)
