"""Local-file primitives: an atomic, hashed write and the digest it records.

A write goes to a temporary file beside its target (``.~tmp-<random>``, a name the path
allow-list refuses, so it never clashes with a stored file and is never listed), is
fsynced, and is renamed over the target with :func:`os.replace`, which is atomic on POSIX
and Windows. The BLAKE3 digest is that of the temporary file's bytes and, where the
filesystem supports extended attributes, is recorded on the file before the rename,
together with the size and modification time it belongs to; a file changed in place
afterwards no longer matches and has its digest computed afresh.

Two ways in: :func:`write_atomic` copies a stream and hashes each chunk on the way;
:func:`copy_file_atomic` copies a local file inside the kernel (a reflink where the
filesystem shares extents) while the new bytes are already being written back to disk, then
hashes the temporary copy itself, memory-mapped, before the rename. Either way the digest
checked against ``expected_digest`` and recorded is that of the bytes that were stored;
the one shortcut is a file whose digest :func:`hash_file_remembered` keeps under an
identity (device, inode, size, mtime, ctime) that it still has after the copy: any write
to it would have changed that identity, so its copy is not hashed a second time.
"""

from __future__ import annotations

import contextlib
import errno
import io
import mmap
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import blake3

from loopml.artifacts.hashing import (
    CHUNK_SIZE,
    DIGEST_PREFIX,
    StreamHasher,
    check_digest,
    check_expected_digest,
    hash_bytes,
    hash_file,
)

__all__ = [
    "TEMP_PREFIX",
    "FileDigest",
    "copy_file_atomic",
    "hash_file_remembered",
    "read_recorded_digest",
    "remembered_digest",
    "write_atomic",
]

TEMP_PREFIX = ".~tmp-"
_XATTR = "user.loopml.blake3"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
# Filesystems without user extended attributes answer with one of these.
_NO_XATTR = {errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES, errno.ENODATA}
# copy_file_range / sendfile refuse a pair of files (other filesystems, old kernels, special
# files) with one of these; the next way down is tried instead.
_NO_KERNEL_COPY = {
    errno.EXDEV,
    errno.ENOSYS,
    errno.EINVAL,
    errno.ENOTSUP,
    errno.EOPNOTSUPP,
    errno.EBADF,
    errno.EPERM,
}
_KERNEL_COPY_CHUNK = 64 * 1024 * 1024  # per call: bounded, so Ctrl-C is seen within a chunk
_WRITE_BACK_MIN = 16 * 1024 * 1024  # smaller copies are done before a helper would start
# A file's timestamps must be this far in the past before its digest is remembered: more
# than the coarsest timestamp tick of common filesystems (2 s on FAT).
_RACY_NS = 3_000_000_000
_REMEMBER_MIN = 1024 * 1024  # smaller files hash faster than their entry is read


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

    def fill(fd: int) -> tuple[str, int]:
        hasher = StreamHasher()
        _copy_into(stream, fd, hasher)
        os.fsync(fd)
        return hasher.digest(), hasher.size

    return _replace_atomic(fill, target, label, expected_digest, record_digest)


def copy_file_atomic(
    source_fd: int,
    target: str,
    *,
    label: str,
    expected_digest: str | None = None,
    source_identity: str | None = None,
    record_digest: bool = True,
) -> tuple[str, int]:
    """Copy the open local file ``source_fd`` (from its position on) to ``target`` atomically.

    The copy stays in the kernel (``copy_file_range``, which is a reflink on filesystems
    that share extents, else ``sendfile``, else a read/write loop), and the new bytes are
    written back to disk while they are still being copied and hashed. The digest is
    computed from the temporary copy itself (memory-mapped, multithreaded) once it is
    complete, so what is checked and recorded is what was stored even if the source
    changed while it was copied, with one exception: given the ``source_identity`` under
    which ``expected_digest`` is remembered (:func:`hash_file_remembered`), a whole-file
    copy whose source still has that identity once copied is not hashed again, since
    any write to the source in between would have changed it.

    Arguments and result as for :func:`write_atomic`.
    """
    start = os.fstat(source_fd)
    large = start.st_size >= _WRITE_BACK_MIN
    whole = os.lseek(source_fd, 0, os.SEEK_CUR) == 0

    def fill(fd: int) -> tuple[str, int]:
        with _writing_back(fd) if large else contextlib.nullcontext():
            _kernel_copy(source_fd, fd)
            size = os.fstat(fd).st_size
            unchanged = _identity(os.fstat(source_fd)) == _identity(start) == source_identity
            if expected_digest is not None and whole and unchanged and size == start.st_size:
                digest = expected_digest
            else:
                digest, size = _hash_fd(fd)
        os.fsync(fd)  # what the write-back has not done yet, and the file's metadata
        return digest, size

    return _replace_atomic(fill, target, label, expected_digest, record_digest, readable=True)


def _replace_atomic(
    fill: Callable[[int], tuple[str, int]],
    target: str,
    label: str,
    expected_digest: str | None,
    record_digest: bool,
    *,
    readable: bool = False,
) -> tuple[str, int]:
    """Create a temporary file beside ``target``, ``fill`` it, check it, rename it over."""
    directory = os.path.dirname(target)
    temp = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
    access = os.O_RDWR if readable else os.O_WRONLY
    flags = access | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    fd = os.open(temp, flags, 0o666)
    try:
        digest, size = fill(fd)
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
    return digest, size


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


def _kernel_copy(source: int, dest: int) -> None:
    """Copy ``source`` from its position to its end into ``dest`` at its position.

    The ways are tried in order: ``copy_file_range``, ``sendfile`` (Linux), a read/write
    loop. One that refuses the pair, or copies nothing at all (as ``copy_file_range`` did
    for procfs files on some kernels), hands over to the next; both positions advance
    whichever way copies, so the next one starts where the last stopped.
    """
    ways: list[Callable[[], int]] = []
    if hasattr(os, "copy_file_range"):
        ways.append(lambda: os.copy_file_range(source, dest, _KERNEL_COPY_CHUNK))
    if hasattr(os, "sendfile") and sys.platform.startswith("linux"):
        ways.append(lambda: os.sendfile(dest, source, None, _KERNEL_COPY_CHUNK))
    for way in ways:
        try:
            if way() == 0:
                continue  # at the end already, or a way that copies nothing: ask the next
            while way():
                pass
            return
        except OSError as error:
            if error.errno not in _NO_KERNEL_COPY:
                raise
    while chunk := os.read(source, CHUNK_SIZE):
        _write_all(dest, chunk)


def _hash_fd(fd: int) -> tuple[str, int]:
    """Digest and size of an open, readable file, memory-mapped and hashed by all cores."""
    size = os.fstat(fd).st_size
    if size == 0:
        return hash_bytes(b""), 0
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mapped:
        hasher.update(mapped)
    return DIGEST_PREFIX + hasher.hexdigest(), size


@contextlib.contextmanager
def _writing_back(fd: int) -> Iterator[None]:
    """Write ``fd``'s dirty pages back to disk in a helper thread while the block runs.

    Without it every byte of a large copy waits in memory until the final ``fsync``; with
    it the disk works while the CPU copies and hashes, and the final ``fsync`` has little
    left to do. The thread is joined before the block's caller may close ``fd``.
    """
    sync = getattr(os, "fdatasync", os.fsync)
    done = threading.Event()
    failures: list[OSError] = []

    def write_back() -> None:
        while not done.wait(0.05):
            try:
                sync(fd)
            except OSError as error:
                failures.append(error)
                return

    helper = threading.Thread(target=write_back, name="loopml-write-back", daemon=True)
    helper.start()
    try:
        yield
    finally:
        done.set()
        helper.join()
    if failures:  # raised here: a later fsync may no longer report a failed write-back
        raise failures[0]


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


class FileDigest(NamedTuple):
    """A local file's digest and size, and the identity they are remembered under.

    ``identity`` is None when the digest is not remembered (a small file, no cache folder,
    a file changed moments ago or while it was hashed).
    """

    digest: str
    size: int
    identity: str | None


def hash_file_remembered(path: Path, cache_dir: Path | None) -> FileDigest:
    """Digest and size of a local file, remembered in ``cache_dir`` while it is unchanged.

    Like :func:`~loopml.artifacts.hashing.hash_file`, but a file hashed before is not
    read again while its identity is the same: device, inode, size, modification time
    and status-change time (``ctime``, which no program can set back, and which moves on
    every write). The user's file itself is never written to. A digest is remembered only
    if the identity was the same before and after hashing and both times lie
    :data:`_RACY_NS` in the past, so a write within the same timestamp tick as the last
    one (filesystems stamp coarsely) cannot go unseen. Files under :data:`_REMEMBER_MIN`
    bytes are simply hashed.

    Args:
        path: The file.
        cache_dir: Folder of one small entry per file (``<device>-<inode>``), or None to
            always hash.
    """
    before = os.stat(path)
    if cache_dir is None or before.st_size < _REMEMBER_MIN:
        return FileDigest(*hash_file(path), None)
    remembered = _remembered(cache_dir, before)
    if remembered is not None:
        return remembered
    started = time.time_ns()
    digest, size = hash_file(path)
    after = os.stat(path)
    identity = _identity(before)
    settled = max(after.st_mtime_ns, after.st_ctime_ns) < started - _RACY_NS
    if _identity(after) != identity or not settled:
        return FileDigest(digest, size, None)
    temp = cache_dir / (TEMP_PREFIX + secrets.token_hex(8))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temp.write_text(f"{digest} {identity}\n", encoding="ascii")
        os.replace(temp, _entry(cache_dir, before))
    except OSError:  # only a cache: a failure costs a hash next time
        with contextlib.suppress(OSError):
            temp.unlink()
        return FileDigest(digest, size, None)
    return FileDigest(digest, size, identity)


def remembered_digest(path: Path, cache_dir: Path | None) -> FileDigest | None:
    """The digest :func:`hash_file_remembered` keeps for ``path`` as it is now, if any."""
    if cache_dir is None:
        return None
    return _remembered(cache_dir, os.stat(path))


def _remembered(cache_dir: Path, stat: os.stat_result) -> FileDigest | None:
    identity = _identity(stat)
    with contextlib.suppress(OSError, ValueError):  # no entry, or not one of ours
        text = _entry(cache_dir, stat).read_text(encoding="ascii")
        digest, _, remembered = text.strip().partition(" ")
        if remembered == identity:
            return FileDigest(check_digest(digest), stat.st_size, identity)
    return None


def _entry(cache_dir: Path, stat: os.stat_result) -> Path:
    return cache_dir / f"{stat.st_dev:x}-{stat.st_ino:x}"


def _identity(stat: os.stat_result) -> str:
    return f"{stat.st_dev} {stat.st_ino} {stat.st_size} {stat.st_mtime_ns} {stat.st_ctime_ns}"
