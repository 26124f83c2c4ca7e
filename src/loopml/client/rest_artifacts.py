"""The artifact store of a loopml server project, over ``/api/v1/projects/{project}/files``.

Every path is checked by :func:`~loopml.artifacts.paths.check_relpath` before a request
leaves. Uploads stream from disk in chunks with ``Content-Length`` and the BLAKE3 digest
computed here (``X-Loopml-Digest``), so the server refuses bytes damaged on the way and a
2 GB file never sits in memory. Downloads stream into a temporary file beside the target,
are checked against the digest the server recorded, then renamed into place; a dropped
connection is resumed with a ``Range`` request, within the call and, from the partial file
left behind, by the next call for the same target.
"""

from __future__ import annotations

import glob
import io
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

import httpx

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import StreamHasher, check_expected_digest, hash_file
from loopml.artifacts.paths import check_prefix, check_relpath
from loopml.client import wire
from loopml.client.session import (
    API_PREFIX,
    Content,
    RestSession,
    RetryPolicy,
    error_from_response,
)
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import IntegrityError, NotFoundError, StoreError, StoreUnavailableError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["PARTIAL_SUFFIX", "RestArtifactStore"]

UPLOAD_CHUNK = 1024 * 1024
PARTIAL_SUFFIX = ".loopml-part"


class RestArtifactStore(BaseArtifactStore):
    """:class:`BaseArtifactStore` on the files of one project of a loopml server.

    Args:
        url: The server's base URL, e.g. ``http://127.0.0.1:8080``.
        token: An API token; None for a server without authentication.
        project_name: The project whose files this store holds.
        transport: An httpx transport instead of the network (tests).
        timeout: Seconds to wait for a connection and for each read.
        retry: How failed requests (and dropped downloads) are retried.
        session: An open session to share with a
            :class:`~loopml.client.rest_store.RestMetadataStore`; then the owner of the
            session closes it.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        project_name: str = "default",
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        session: RestSession | None = None,
    ) -> None:
        self._owns_session = session is None
        self.session = session or RestSession(
            url, token, transport=transport, timeout=timeout, retry=retry
        )
        self.project_name = project_name
        self._base = f"/projects/{quote(project_name, safe='')}/files"
        self.url = f"{self.session.url}{API_PREFIX}{self._base}"

    def close(self) -> None:
        """Close the session if this store opened it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> RestArtifactStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RestArtifactStore({self.url!r})"

    def _path(self, path: str) -> str:
        return f"{self._base}/{quote(path, safe='/')}"

    def _not_found(self, path: str) -> NotFoundError:
        return NotFoundError(
            f"artifact {path!r} not found in project {self.project_name!r} on {self.session.url}",
            field="path",
        )

    # -- writing --------------------------------------------------------------------------

    def put_file(
        self, source: Path, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        check_relpath(dest, field="dest")
        digest, size = hash_file(Path(source))
        check_expected_digest(dest, digest, expected_digest)

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as handle:
                yield from _read_exactly(handle, size)

        return self._upload(dest, chunks, size, digest)

    def put_bytes(
        self, data: bytes, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        check_relpath(dest, field="dest")
        hasher = StreamHasher()
        hasher.update(data)
        check_expected_digest(dest, hasher.digest(), expected_digest)
        return self._upload(dest, bytes(data), len(data), hasher.digest())

    def put_stream(
        self, stream: BinaryIO, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Upload a stream; the digest must precede the body, so the stream is read twice
        when it can seek, and spooled to a temporary file first when it cannot."""
        check_relpath(dest, field="dest")
        if stream.seekable():
            start = stream.tell()
            hasher = _hash_to(stream, None)
            check_expected_digest(dest, hasher.digest(), expected_digest)

            def chunks() -> Iterator[bytes]:
                stream.seek(start)
                yield from _read_exactly(stream, hasher.size)

            return self._upload(dest, chunks, hasher.size, hasher.digest())
        with tempfile.TemporaryFile() as spool:
            hasher = _hash_to(stream, spool)
            check_expected_digest(dest, hasher.digest(), expected_digest)

            def spooled() -> Iterator[bytes]:
                spool.seek(0)
                yield from _read_exactly(spool, hasher.size)

            return self._upload(dest, spooled, hasher.size, hasher.digest())

    def _upload(self, dest: str, content: Content, size: int, digest: str) -> ArtifactInfo:
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "X-Loopml-Digest": digest,
        }
        # The same bytes under the same path: a repeated PUT is harmless, so retry it.
        response = self.session.request("PUT", self._path(dest), content=content, headers=headers)
        info = wire.artifact_from_json(self.session.decode(response))
        if info.digest != digest or info.size != size:
            raise IntegrityError(
                f"artifact {dest!r}: the server stored {info.size} bytes hashing to "
                f"{info.digest}, not the {size} bytes hashing to {digest} that were sent"
            )
        return info

    # -- reading --------------------------------------------------------------------------

    def open_read(self, path: str) -> BinaryIO:
        check_relpath(path)
        download = _Download(self, path)
        try:
            download.start()
        except BaseException:
            download.close()
            raise
        return io.BufferedReader(_DownloadReader(download), buffer_size=UPLOAD_CHUNK)

    def get_file(self, path: str, dest: Path) -> Path:
        """Download to ``dest`` through a partial file beside it; resumes one left behind."""
        check_relpath(path)
        dest = Path(dest)
        offset, digest, partial = 0, None, None
        stale = _partials(dest)
        if stale:
            info = self.info(path)
            digest = info.digest
            partial = _partial_name(dest, digest)
            for other in stale:
                if other != partial:
                    other.unlink(missing_ok=True)
            if partial.exists():
                offset = partial.stat().st_size if partial.stat().st_size <= info.size else 0
        try:
            return self._download_to(path, dest, offset, digest)
        except IntegrityError:
            if partial is None or not offset:
                raise
            # The file changed on the server since the partial one was written, or the
            # partial one was damaged: start once from scratch.
            partial.unlink(missing_ok=True)
            return self._download_to(path, dest, 0, None)

    def _download_to(self, path: str, dest: Path, offset: int, digest: str | None) -> Path:
        with ExitStack() as stack:
            download = _Download(self, path, offset, digest)
            stack.callback(download.close)
            download.start()
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = _partial_name(dest, download.digest)
            hasher = StreamHasher()
            with open(partial, "ab" if download.offset else "wb") as out:
                if download.offset:
                    out.truncate(download.offset)
                    with open(partial, "rb") as earlier:
                        _hash_to(earlier, None, hasher, limit=download.offset)
                for chunk in download.chunks():
                    hasher.update(chunk)
                    out.write(chunk)
            if download.digest is not None and not self._matches(
                path, hasher.digest(), download.digest
            ):
                partial.unlink(missing_ok=True)
                raise IntegrityError(
                    f"artifact {path!r}: the downloaded bytes hash to {hasher.digest()}, not "
                    f"the recorded {download.digest}; nothing was written to {dest}"
                )
            os.replace(partial, dest)
        return dest

    def _matches(self, path: str, actual: str, announced: str) -> bool:
        """Whether bytes read hash to what the server records for ``path``.

        The digest a download announces is read just before the file is opened, so a file
        replaced in between arrives whole but with the previous digest. The digest
        recorded now decides then; damaged bytes match neither.
        """
        if actual == announced:
            return True
        try:
            return self.info(path).digest == actual
        except NotFoundError:
            return False

    # -- metadata -------------------------------------------------------------------------

    def _head(self, path: str) -> httpx.Response | None:
        check_relpath(path)
        response, _ = self.session.send("HEAD", self._path(path))
        if response.status_code == 404:
            return None
        if response.is_error:
            raise error_from_response(response)
        return response

    def exists(self, path: str) -> bool:
        return self._head(path) is not None

    def info(self, path: str) -> ArtifactInfo:
        response = self._head(path)
        if response is None:
            raise self._not_found(path)
        size, digest = (
            response.headers.get("Content-Length"),
            response.headers.get("X-Loopml-Digest"),
        )
        if size is None or digest is None:
            raise StoreError(
                f"the server sent no Content-Length or X-Loopml-Digest for artifact {path!r}"
            )
        return ArtifactInfo(path, int(size), digest)

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        check_prefix(prefix)
        params = {"prefix": prefix} if prefix else None
        body = self.session.json("GET", self._base, params=params)
        return wire.artifacts_from_json(body["files"])

    def delete(self, path: str) -> None:
        check_relpath(path)
        response, _ = self.session.send("DELETE", self._path(path))
        if response.is_error and response.status_code != 404:
            raise error_from_response(response)

    def ping(self) -> None:
        """Raise StoreUnavailableError if the server cannot be reached, NotFoundError if the
        project is not there (or not visible to the token)."""
        self.session.request("GET", f"/projects/{quote(self.project_name, safe='')}")


def _read_exactly(handle: BinaryIO | io.BufferedRandom, size: int) -> Iterator[bytes]:
    """At most ``size`` bytes of ``handle`` in upload chunks (a file that grew sends its
    first ``size`` bytes, which are the ones hashed)."""
    left = size
    while left > 0:
        chunk = handle.read(min(UPLOAD_CHUNK, left))
        if not chunk:
            raise IntegrityError(
                f"the source shrank while it was uploaded: {left} of {size} bytes missing"
            )
        left -= len(chunk)
        yield chunk


def _hash_to(
    stream: BinaryIO | io.BufferedRandom,
    copy: BinaryIO | io.BufferedRandom | None,
    hasher: StreamHasher | None = None,
    limit: int | None = None,
) -> StreamHasher:
    """Hash a stream to its end (or ``limit`` bytes), copying it to ``copy`` if given."""
    hasher = hasher or StreamHasher()
    left = limit
    while left is None or left > 0:
        chunk = stream.read(UPLOAD_CHUNK if left is None else min(UPLOAD_CHUNK, left))
        if not chunk:
            break
        hasher.update(chunk)
        if copy is not None:
            copy.write(chunk)
        if left is not None:
            left -= len(chunk)
    return hasher


def _partial_name(dest: Path, digest: str | None) -> Path:
    tag = digest.partition(":")[2][:16] if digest else "unverified"
    return dest.with_name(f".{dest.name}.{tag}{PARTIAL_SUFFIX}")


def _partials(dest: Path) -> list[Path]:
    """Partial downloads of ``dest`` left by an interrupted earlier call."""
    if not dest.parent.is_dir():
        return []
    return sorted(dest.parent.glob(f".{glob.escape(dest.name)}.*{PARTIAL_SUFFIX}"))


class _Download:
    """The bytes of one stored file from ``offset`` on, reconnecting with ``Range`` after
    a dropped connection, and refusing a file that changed on the server in between."""

    def __init__(
        self, store: RestArtifactStore, path: str, offset: int = 0, digest: str | None = None
    ) -> None:
        self.store = store
        self.path = path
        self.offset = offset
        self.digest = digest
        self._stack = ExitStack()
        self._response: httpx.Response | None = None
        self._skip = 0  # bytes to drop: the server ignored the Range and sent all

    def start(self) -> None:
        """Open the first response: NotFoundError and the like surface here."""
        self._open()

    def _open(self) -> None:
        self._stack.close()
        self._stack = ExitStack()
        headers = {"Range": f"bytes={self.offset}-"} if self.offset else {}
        session = self.store.session
        try:
            response = self._stack.enter_context(
                session.stream("GET", self.store._path(self.path), headers=headers)
            )
        except NotFoundError:
            raise self.store._not_found(self.path) from None
        digest = response.headers.get("X-Loopml-Digest")
        if self.digest is not None and digest is not None and digest != self.digest:
            raise IntegrityError(
                f"artifact {self.path!r} changed on the server while it was downloaded "
                f"({self.digest} became {digest}); download it again"
            )
        self.digest = self.digest or digest
        self._skip = self.offset if response.status_code != 206 else 0
        self._response = response

    def chunks(self) -> Iterator[bytes]:
        """Every remaining byte; ``offset`` counts what was handed out."""
        policy = self.store.session.retry
        failures = 0
        while True:
            assert self._response is not None
            try:
                # Network-sized chunks: a break loses nothing that arrived before it.
                for chunk in self._response.iter_bytes():
                    if self._skip:
                        dropped = min(self._skip, len(chunk))
                        self._skip -= dropped
                        chunk = chunk[dropped:]
                        if not chunk:
                            continue
                    self.offset += len(chunk)
                    yield chunk
                return
            except httpx.TransportError as exc:
                failures += 1
                if failures >= policy.attempts:
                    raise StoreUnavailableError(
                        f"download of artifact {self.path!r} from {self.store.session.url} "
                        f"broke off after {self.offset} bytes ({exc}); call again to resume"
                    ) from exc
                time.sleep(min(policy.max_s, policy.initial_s * 2 ** (failures - 1)))
                self._open()

    def close(self) -> None:
        self._stack.close()


class _DownloadReader(io.RawIOBase):
    """A download as a readable raw stream; the digest is checked when it is read to its end."""

    def __init__(self, download: _Download) -> None:
        self._download = download
        self._chunks = download.chunks()
        self._hasher = StreamHasher()
        self._left = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if not self._left and not self._done:
            self._left = next(self._chunks, b"")
            if self._left:
                self._hasher.update(self._left)
            else:
                self._done = True
                self._check()
        n = min(len(target), len(self._left))
        target[:n] = self._left[:n]
        self._left = self._left[n:]
        return n

    def _check(self) -> None:
        download, actual = self._download, self._hasher.digest()
        expected = download.digest
        if expected is not None and not download.store._matches(download.path, actual, expected):
            raise IntegrityError(
                f"artifact {self._download.path!r}: the bytes read hash to "
                f"{self._hasher.digest()}, not the recorded {expected}"
            )

    def close(self) -> None:
        if not self.closed:
            self._download.close()
        super().close()
