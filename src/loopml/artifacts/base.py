"""The artifact store interface: blobs under one root, addressed by safe relative paths.

Contract for every implementation (local folder, S3, ...):

* **Confined paths.** Every path is a relative POSIX path checked by
  :func:`loopml.artifacts.paths.check_relpath` (an allow-list) and, where the backend
  has a real filesystem, resolved and proven inside the root. Anything else raises
  :class:`~loopml.core.errors.UnsafePathError` before a byte is read or written.
* **Atomic writes.** A reader sees the old content or the new, never a partial file:
  local writes go to a temporary name and are renamed; S3 writes are single PUTs or
  completed multipart uploads.
* **Checksums.** Every write returns an :class:`~loopml.core.entities.ArtifactInfo`
  with size and a BLAKE3 digest of the bytes written; ``verify`` recomputes it.
* **Streaming.** ``open_read`` returns a binary file object; nothing loads a whole blob
  into memory unless asked to with ``read_bytes``.
* **Thread safety.** A store object may be shared by threads.

:mod:`loopml.testing.artifact_contract` runs the same tests against every backend.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from loopml.core.entities import ArtifactInfo

__all__ = ["BaseArtifactStore"]


class BaseArtifactStore(abc.ABC):
    """Blobs under one root."""

    url: str

    @abc.abstractmethod
    def put_file(self, source: Path, dest: str) -> ArtifactInfo:
        """Copy a local file to ``dest`` (relative path) atomically."""

    @abc.abstractmethod
    def put_bytes(self, data: bytes, dest: str) -> ArtifactInfo:
        """Write ``data`` to ``dest`` atomically."""

    @abc.abstractmethod
    def put_stream(self, stream: BinaryIO, dest: str) -> ArtifactInfo:
        """Copy a readable binary stream to ``dest`` atomically, chunk by chunk."""

    def put_dir(self, source: Path, dest: str) -> list[ArtifactInfo]:
        """Copy every file under the local folder ``source`` to ``dest/...``."""
        from loopml.artifacts.paths import join_relpath

        infos = []
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = path.relative_to(source).as_posix()
            infos.append(self.put_file(path, join_relpath(dest, relative)))
        return infos

    @abc.abstractmethod
    def open_read(self, path: str) -> BinaryIO:
        """Open a stored file for streaming reads; NotFoundError if missing."""

    def read_bytes(self, path: str) -> bytes:
        """The whole content of a stored file."""
        with self.open_read(path) as handle:
            return handle.read()

    @abc.abstractmethod
    def get_file(self, path: str, dest: Path) -> Path:
        """Download a stored file to the local path ``dest``; returns ``dest``."""

    def get_dir(self, prefix: str, dest: Path) -> list[Path]:
        """Download every file under ``prefix`` into the local folder ``dest``."""
        from loopml.artifacts.paths import check_relpath

        written = []
        for info in self.list(prefix):
            relative = info.path[len(prefix) :].lstrip("/") if prefix else info.path
            target = dest / check_relpath(relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(self.get_file(info.path, target))
        return written

    @abc.abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file is stored at ``path``."""

    @abc.abstractmethod
    def info(self, path: str) -> ArtifactInfo:
        """Size and digest of a stored file; NotFoundError if missing."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """Every file under ``prefix`` (recursively), by path."""

    def iter_paths(self, prefix: str = "") -> Iterator[str]:
        for info in self.list(prefix):
            yield info.path

    @abc.abstractmethod
    def delete(self, path: str) -> None:
        """Remove a file, or every file under a prefix; missing paths are ignored."""

    def verify(self, path: str, digest: str) -> None:
        """Raise IntegrityError if the stored bytes do not hash to ``digest``."""
        from loopml.artifacts.hashing import hash_stream
        from loopml.core.errors import IntegrityError

        with self.open_read(path) as handle:
            actual, _ = hash_stream(handle)
        if actual != digest:
            raise IntegrityError(
                f"artifact {path!r}: content digest {actual} does not match the recorded "
                f"{digest}; the stored file was changed or damaged"
            )
