"""The artifact store interface: blobs under one root, addressed by safe relative paths.

Contract for every implementation (local folder, S3, ...):

* **Confined paths.** Every path is a relative POSIX path checked by
  :func:`loopml.artifacts.paths.check_relpath` (an allow-list) and, where the backend
  has a real filesystem, resolved and proven inside the root. Anything else raises
  :class:`~loopml.core.errors.UnsafePathError` before a byte is read or written.
* **Atomic writes.** A reader sees the old content or the new, never a partial file:
  local writes go to a temporary name and are renamed; S3 writes are single PUTs or
  completed multipart uploads. A write that fails leaves the old content.
* **Checksums.** Every write returns an :class:`~loopml.core.entities.ArtifactInfo`
  with size and a BLAKE3 digest of the bytes written, computed while they are copied;
  ``info`` and ``list`` return the digest recorded at write time, ``verify`` recomputes it
  from the stored bytes. Given ``expected_digest``, a write whose bytes hash otherwise is
  refused with :class:`~loopml.core.errors.IntegrityError` and stores nothing.
* **Streaming.** ``open_read`` returns a binary file object; nothing loads a whole blob
  into memory unless asked to with ``read_bytes``.
* **Content addressing.** ``put_content_addressed`` stores a blob under
  ``blobs/<2 hex>/<digest hex>`` once, however often it is put.
* **Thread safety.** A store object may be shared by threads.

:mod:`loopml.testing.artifact_contract` runs the same tests against every backend.
"""

from __future__ import annotations

import abc
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from loopml.artifacts.hashing import CHUNK_SIZE, check_digest, hash_file, hash_stream
from loopml.artifacts.paths import check_prefix, check_relpath, join_relpath
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import IntegrityError

__all__ = ["BLOB_PREFIX", "BaseArtifactStore", "blob_path"]

BLOB_PREFIX = "blobs"


def blob_path(digest: str) -> str:
    """The content-addressed path of a blob with this digest.

    >>> blob_path("blake3:" + "ab" * 32)
    'blobs/ab/abababababababababababababababababababababababababababababababab'
    """
    hex_digest = check_digest(digest).partition(":")[2]
    return f"{BLOB_PREFIX}/{hex_digest[:2]}/{hex_digest}"


class BaseArtifactStore(abc.ABC):
    """Blobs under one root.

    Attributes:
        url: Where the store lives (``file:///...`` or ``s3://bucket/prefix``).
    """

    url: str

    @abc.abstractmethod
    def put_file(
        self, source: Path, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Copy a local file to ``dest`` (relative path) atomically.

        Args:
            source: The local file.
            dest: Relative path inside the store.
            expected_digest: If given, refuse (IntegrityError, nothing stored) bytes that
                do not hash to it.

        Returns:
            Path, size and digest of what was stored.
        """

    def put_hashed_file(
        self, source: Path, dest: str, *, digest: str, identity: str
    ) -> ArtifactInfo:
        """Copy a local file that hashed to ``digest`` while it had ``identity``.

        ``digest`` and ``identity`` are what
        :func:`~loopml.artifacts.localfs.hash_file_remembered` returned for the file. A
        store that can see the file still has that identity once copied may take
        ``digest`` for the copy's without hashing the bytes again (the local store does:
        any write to the file changes its identity); by default, and whenever the file
        changed, this is :meth:`put_file` with ``expected_digest=digest``.
        """
        return self.put_file(source, dest, expected_digest=digest)

    @abc.abstractmethod
    def put_bytes(
        self, data: bytes, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Write ``data`` to ``dest`` atomically; see :meth:`put_file`."""

    @abc.abstractmethod
    def put_stream(
        self, stream: BinaryIO, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Copy a readable binary stream to ``dest`` atomically, chunk by chunk.

        The stream is read to its end; see :meth:`put_file`.
        """

    def put_dir(self, source: Path, dest: str) -> list[ArtifactInfo]:
        """Copy every file under the local folder ``source`` to ``dest/...``.

        Every name is checked before the first byte is copied, so an unsafe name stores
        nothing. Each file is written atomically; the folder as a whole is not.
        """
        if dest:
            check_relpath(dest, field="dest")
        files = sorted(p for p in source.rglob("*") if p.is_file())
        targets = [join_relpath(dest, p.relative_to(source).as_posix()) for p in files]
        return [self.put_file(path, target) for path, target in zip(files, targets, strict=True)]

    def put_content_addressed(self, source: Path | BinaryIO) -> ArtifactInfo:
        """Store a blob under ``blobs/<2 hex>/<digest hex>``, once.

        The source is hashed first; only if no blob with that digest is stored yet is it
        copied (and its digest checked again while copying, so a source that changed in
        between is refused). A stream that cannot seek is spooled to a temporary file.

        Args:
            source: A local file, or a readable binary stream read to its end.

        Returns:
            The blob's path, size and digest.
        """
        if isinstance(source, Path):
            digest, size = hash_file(source)
            dest = blob_path(digest)
            if self.exists(dest):
                return ArtifactInfo(path=dest, size=size, digest=digest)
            return self.put_file(source, dest, expected_digest=digest)
        if source.seekable():
            return self._put_seekable_blob(source)
        with tempfile.TemporaryFile() as spool:
            while chunk := source.read(CHUNK_SIZE):
                spool.write(chunk)
            spool.seek(0)
            return self._put_seekable_blob(spool)

    def _put_seekable_blob(self, stream: BinaryIO) -> ArtifactInfo:
        start = stream.tell()
        digest, size = hash_stream(stream)
        dest = blob_path(digest)
        if self.exists(dest):
            return ArtifactInfo(path=dest, size=size, digest=digest)
        stream.seek(start)
        return self.put_stream(stream, dest, expected_digest=digest)

    @abc.abstractmethod
    def open_read(self, path: str) -> BinaryIO:
        """Open a stored file for streaming reads; NotFoundError if missing."""

    def read_bytes(self, path: str) -> bytes:
        """The whole content of a stored file."""
        with self.open_read(path) as handle:
            return handle.read()

    @abc.abstractmethod
    def get_file(self, path: str, dest: Path) -> Path:
        """Download a stored file to the local path ``dest`` atomically; returns ``dest``."""

    def get_dir(self, prefix: str, dest: Path) -> list[Path]:
        """Download every file under ``prefix`` into the local folder ``dest``.

        A file at ``prefix/a/b`` lands at ``dest/a/b``.
        """
        check_prefix(prefix)
        written = []
        for info in self.list(prefix):
            relative = info.path[len(prefix) :].lstrip("/") if prefix else info.path
            if not relative:  # ``prefix`` names a file, not a folder
                relative = info.path.rsplit("/", 1)[-1]
            target = dest.joinpath(*check_relpath(relative).split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(self.get_file(info.path, target))
        return written

    def local_path(self, path: str) -> Path | None:
        """The stored file as a local path readers may open in place, if the store has one.

        Only a local-folder store has; for the others read with :meth:`open_read` or
        copy with :meth:`get_file`. The file must be treated as read-only.
        """
        return None

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file is stored at ``path``."""

    @abc.abstractmethod
    def info(self, path: str) -> ArtifactInfo:
        """Size and recorded digest of a stored file; NotFoundError if missing."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """Every file at or under ``prefix`` (recursively), sorted by path.

        ``prefix`` matches whole segments: ``"run"`` lists ``run`` and ``run/...`` but
        not ``runs/...``.
        """

    def iter_paths(self, prefix: str = "") -> Iterator[str]:
        """Paths of :meth:`list`, one by one."""
        for info in self.list(prefix):
            yield info.path

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Remove a file, or every file under a prefix; missing paths are ignored."""

    def ping(self) -> None:
        """Raise StoreUnavailableError if the store cannot be reached; cheap."""
        return None  # a local folder is always there; remote stores override this

    def verify(self, path: str, digest: str) -> None:
        """Raise IntegrityError if the stored bytes do not hash to ``digest``."""
        with self.open_read(path) as handle:
            actual, _ = hash_stream(handle)
        if actual != digest:
            raise IntegrityError(
                f"artifact {path!r}: content digest {actual} does not match the recorded "
                f"{digest}; the stored file was changed or damaged"
            )
