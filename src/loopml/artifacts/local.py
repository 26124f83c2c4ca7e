"""Artifact store on a local folder (the zero-setup default)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat as stat_module
from pathlib import Path
from typing import BinaryIO

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import hash_stream
from loopml.artifacts.localfs import copy_file_atomic, read_recorded_digest, write_atomic
from loopml.artifacts.paths import check_prefix, check_relpath, is_relpath
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import IntegrityError, NotFoundError, StoreError, UnsafePathError

__all__ = ["LocalArtifactStore"]

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class LocalArtifactStore(BaseArtifactStore):
    """Blobs in a local folder, created on the first write.

    Every path is checked against the allow-list, then resolved with
    :func:`os.path.realpath` and proven inside the resolved root, so a symlink inside
    the store that points outside it is refused before a byte is read or written.

    Args:
        root: The folder; relative paths are taken from the current directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = LocalArtifactStore(Path(folder))
    ...     info = store.put_bytes(b"hello", "notes/greeting.txt")
    ...     (info.size, store.read_bytes("notes/greeting.txt"))
    (5, b'hello')
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))
        self.url = self.root.as_uri()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------

    def _resolve(self, path: str, *, field: str = "path", allow_empty: bool = False) -> str:
        """Absolute, symlink-free location of ``path``, proven inside the root."""
        check_relpath(path, field=field, allow_empty=allow_empty)
        root = str(self.root)
        real = os.path.realpath(os.path.join(root, *path.split("/")) if path else root)
        if real != root and not real.startswith(root + os.sep):
            raise UnsafePathError(
                f"{field} {path!r} resolves outside the artifact root {root} (through a "
                "symbolic link); it is refused",
                field=field,
            )
        return real

    # -- writes --------------------------------------------------------------------

    def put_file(
        self, source: Path, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Copy a local file to ``dest`` atomically; see :class:`BaseArtifactStore`.

        A regular file is copied inside the kernel and its copy hashed before the rename
        (:func:`~loopml.artifacts.localfs.copy_file_atomic`); anything else (a pipe, a
        device) is streamed through :func:`~loopml.artifacts.localfs.write_atomic`.
        """
        target = self._resolve(dest, field="dest")
        with open(source, "rb", buffering=0) as stream:
            regular = stat_module.S_ISREG(os.fstat(stream.fileno()).st_mode)
            return self._write(stream, dest, target, expected_digest, kernel_copy=regular)

    def put_hashed_file(
        self, source: Path, dest: str, *, digest: str, identity: str
    ) -> ArtifactInfo:
        """Copy a file hashed earlier; not hashed again if it did not change since.

        See :meth:`BaseArtifactStore.put_hashed_file`: if the open file still has
        ``identity`` after the copy, ``digest`` is taken for the copy's; otherwise the
        copy is hashed and refused unless it matches ``digest``, as by :meth:`put_file`.
        """
        target = self._resolve(dest, field="dest")
        with open(source, "rb", buffering=0) as stream:
            regular = stat_module.S_ISREG(os.fstat(stream.fileno()).st_mode)
            return self._write(
                stream, dest, target, digest, kernel_copy=regular, source_identity=identity
            )

    def put_bytes(
        self, data: bytes, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Write ``data`` to ``dest`` atomically."""
        target = self._resolve(dest, field="dest")
        return self._write(io.BytesIO(data), dest, target, expected_digest)

    def put_stream(
        self, stream: BinaryIO, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Copy a readable binary stream to ``dest`` atomically, chunk by chunk."""
        target = self._resolve(dest, field="dest")
        return self._write(stream, dest, target, expected_digest)

    def _write(
        self,
        stream: BinaryIO,
        dest: str,
        target: str,
        expected_digest: str | None,
        *,
        kernel_copy: bool = False,
        source_identity: str | None = None,
    ) -> ArtifactInfo:
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(target):
                raise StoreError(f"dest {dest!r} is a folder of artifacts, not a file")
            if kernel_copy:
                digest, size = copy_file_atomic(
                    stream.fileno(),
                    target,
                    label=dest,
                    expected_digest=expected_digest,
                    source_identity=source_identity,
                )
            else:
                digest, size = write_atomic(
                    stream, target, label=dest, expected_digest=expected_digest
                )
        except FileExistsError as error:  # a file where a folder of the path should be
            raise StoreError(f"dest {dest!r}: a stored file is in the way ({error})") from error
        except NotADirectoryError as error:
            raise StoreError(f"dest {dest!r}: a stored file is in the way ({error})") from error
        return ArtifactInfo(path=dest, size=size, digest=digest)

    # -- reads ---------------------------------------------------------------------

    def _open_fd(self, path: str) -> int:
        real = self._resolve(path)
        try:
            fd = os.open(real, _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"artifact {path!r} not found in {self.url}") from None
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFoundError(f"artifact {path!r} not found in {self.url} (it is a folder)")
        return fd

    def open_read(self, path: str) -> BinaryIO:
        """Open a stored file for streaming reads; NotFoundError if missing."""
        return open(self._open_fd(path), "rb", closefd=True)

    def get_file(self, path: str, dest: Path) -> Path:
        """Copy a stored file to ``dest`` atomically, checking its recorded digest."""
        fd = self._open_fd(path)
        with open(fd, "rb", buffering=0, closefd=True) as stream:
            recorded = read_recorded_digest(fd)
            target = os.path.abspath(dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            try:
                write_atomic(
                    stream, target, label=path, expected_digest=recorded, record_digest=False
                )
            except IntegrityError as error:
                raise IntegrityError(
                    f"artifact {path!r} does not match its recorded digest {recorded}; "
                    "the stored file was changed or damaged"
                ) from error
        return dest

    def local_path(self, path: str) -> Path | None:
        """The stored file's real path inside the root; NotFoundError if missing."""
        fd = self._open_fd(path)
        os.close(fd)
        return Path(self._resolve(path))

    def exists(self, path: str) -> bool:
        """Whether a file is stored at ``path``."""
        return os.path.isfile(self._resolve(path))

    def info(self, path: str) -> ArtifactInfo:
        """Size and recorded digest (computed if none is recorded) of a stored file."""
        fd = self._open_fd(path)
        try:
            return self._info_from_fd(path, fd)
        finally:
            os.close(fd)

    def _info_from_fd(self, path: str, fd: int) -> ArtifactInfo:
        digest = read_recorded_digest(fd)
        if digest is None:
            with open(os.dup(fd), "rb") as stream:
                digest, size = hash_stream(stream)
        else:
            size = os.fstat(fd).st_size
        return ArtifactInfo(path=path, size=size, digest=digest)

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """Every regular file at or under ``prefix``, sorted by path.

        Symbolic links and the store's own temporary files are not listed.
        """
        check_prefix(prefix)
        real = self._resolve(prefix, field="prefix", allow_empty=True)
        if os.path.isfile(real):
            return [self.info(prefix)]
        paths = []
        for folder, dirs, files in os.walk(real):
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
            inner = os.path.relpath(folder, real).replace(os.sep, "/")
            base = "/".join(part for part in (prefix, inner) if part and part != ".")
            for name in files:
                if os.path.islink(os.path.join(folder, name)):
                    continue
                relative = f"{base}/{name}" if base else name
                if is_relpath(relative):
                    paths.append(relative)
        infos = []
        for relative in sorted(paths):
            try:
                infos.append(self.info(relative))
            except NotFoundError:  # deleted while we listed
                continue
        return infos

    def delete(self, path: str) -> None:
        """Remove a file, or every file under a folder; missing paths are ignored.

        A symbolic link is removed itself; what it points to is left alone.
        """
        check_relpath(path)
        parent, _, name = path.rpartition("/")
        entry = os.path.join(self._resolve(parent, allow_empty=True), name)
        try:
            mode = os.lstat(entry).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat_module.S_ISDIR(mode):
            shutil.rmtree(entry, onerror=_ignore_missing)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry)


def _ignore_missing(
    function: object, path: str, exc_info: tuple[type, BaseException, object]
) -> None:
    """rmtree callback: a file removed concurrently is fine, anything else is raised."""
    if not isinstance(exc_info[1], FileNotFoundError):
        raise exc_info[1]
