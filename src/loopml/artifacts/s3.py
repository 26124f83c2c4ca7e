"""Artifact store on S3 or an S3-compatible server (MinIO, Ceph, moto ...), through s3fs.

Writes are atomic because S3 makes an object visible only when its single PUT or its
multipart upload completes. The BLAKE3 digest is computed while the bytes stream out and
stored as object metadata (``x-amz-meta-blake3``), so ``info`` and ``list`` read it back
without downloading. A stream longer than ``multipart_threshold`` whose digest is not
known in advance is uploaded to a temporary key, then copied server-side to its
destination with the digest as metadata, because S3 takes metadata when an upload
starts, before the digest is known. Reads pin the object's ETag, so a reader whose object
is overwritten mid-read gets an error, never a mix of old and new bytes.

Credentials come from the usual AWS chain (environment, ``~/.aws``, instance role).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import (
    CHUNK_SIZE,
    StreamHasher,
    check_digest,
    check_expected_digest,
    hash_file,
    hash_stream,
)
from loopml.artifacts.localfs import write_atomic
from loopml.artifacts.paths import check_prefix, check_relpath, is_relpath
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import (
    ConflictError,
    IntegrityError,
    LoopmlError,
    NotFoundError,
    StoreError,
    StoreUnavailableError,
    ValidationError,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
    from s3fs import S3FileSystem

__all__ = ["S3ArtifactStore", "parse_s3_url"]

MiB = 1024 * 1024
_MAX_COPY = 5 * 1024 * MiB  # CopyObject's limit; larger objects are copied in parts
_MAX_PARTS = 10_000
_META_KEY = "blake3"
_TEMP_DIR = ".~tmp"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_HEAD_CONCURRENCY = 32
_REOPENS = 10


def parse_s3_url(url: str) -> tuple[str, str]:
    """Bucket and key prefix of ``s3://bucket[/prefix]``.

    >>> parse_s3_url("s3://team-artifacts/loopml/prod")
    ('team-artifacts', 'loopml/prod')
    >>> parse_s3_url("s3://Bad_Bucket")
    Traceback (most recent call last):
    ...
    loopml.core.errors.ValidationError: S3 URL 's3://Bad_Bucket': ...
    """
    if not url.startswith("s3://"):
        raise ValidationError(f"S3 URL {url!r} must start with s3://", field="url")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET.fullmatch(bucket):
        raise ValidationError(
            f"S3 URL {url!r}: {bucket!r} is not a valid bucket name (3-63 lowercase "
            "letters, digits, dots and hyphens)",
            field="url",
        )
    if prefix:
        check_relpath(prefix, field="url prefix")
    return bucket, prefix


class S3ArtifactStore(BaseArtifactStore):
    """Blobs under ``s3://bucket/prefix``; the bucket must exist.

    Args:
        url: ``s3://bucket`` or ``s3://bucket/prefix``.
        endpoint_url: Endpoint of an S3-compatible server, such as
            ``http://127.0.0.1:9000`` for MinIO; None for AWS.
        multipart_threshold: Streams longer than this are uploaded in parts; shorter
            ones are buffered in memory and sent in one PUT.
        part_size: Size of each uploaded part (at least 5 MiB, S3's minimum); grown
            for files too large for 10,000 parts.
        connect_timeout: Seconds to wait for the server to accept a connection.
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        multipart_threshold: int = 16 * MiB,
        part_size: int = 16 * MiB,
        connect_timeout: float = 5.0,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self.endpoint_url = endpoint_url
        if part_size < 5 * MiB:
            raise ValidationError("part_size must be at least 5 MiB", field="part_size")
        self.multipart_threshold = max(multipart_threshold, part_size)
        self.part_size = part_size
        self._fs = _make_filesystem(endpoint_url, connect_timeout)

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.url!r}, endpoint_url={self.endpoint_url!r})"

    # -- plumbing --------------------------------------------------------------------

    def _key(self, path: str, *, field: str = "path") -> str:
        check_relpath(path, field=field)
        return f"{self.prefix}/{path}" if self.prefix else path

    def _relative(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def _call(self, method: str, what: str, **kwargs: Any) -> Any:
        """One S3 API call through s3fs, its errors turned into loopml's."""
        with self._translated(what):
            return self._fs.call_s3(method, Bucket=self.bucket, **kwargs)

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except LoopmlError:
            raise
        except Exception as error:
            raise _translate(error, what, self) from error

    def _head(self, key: str, what: str) -> dict[str, Any] | None:
        """head_object's answer, or None if there is no such object."""
        try:
            return cast(dict[str, Any], self._call("head_object", what, Key=key))
        except NotFoundError:
            return None

    # -- writes ----------------------------------------------------------------------

    def put_file(
        self, source: Path, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Upload a local file to ``dest`` atomically; see :class:`BaseArtifactStore`."""
        key = self._key(dest, field="dest")
        size = os.stat(source).st_size
        known = expected_digest
        if size > self.multipart_threshold and known is None:
            # Hashing a local file is far faster than uploading it; knowing the digest
            # up front lets the upload carry it as metadata and skip a server-side copy.
            known, _ = hash_file(source)
        with open(source, "rb") as stream:
            return self._upload(stream, dest, key, expected_digest, known, size_hint=size)

    def put_bytes(
        self, data: bytes, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Upload ``data`` to ``dest`` in one PUT."""
        key = self._key(dest, field="dest")
        hasher = StreamHasher()
        hasher.update(data)
        return self._put_object(key, dest, bytes(data), hasher, expected_digest)

    def put_stream(
        self, stream: BinaryIO, dest: str, *, expected_digest: str | None = None
    ) -> ArtifactInfo:
        """Upload a readable binary stream to ``dest`` atomically, part by part."""
        key = self._key(dest, field="dest")
        return self._upload(stream, dest, key, expected_digest, expected_digest)

    def _upload(
        self,
        stream: BinaryIO,
        dest: str,
        key: str,
        expected: str | None,
        known: str | None,
        size_hint: int | None = None,
    ) -> ArtifactInfo:
        hasher = StreamHasher()
        first = _read_part(stream, self.multipart_threshold + 1, hasher)
        if len(first) <= self.multipart_threshold:
            return self._put_object(key, dest, first, hasher, expected)
        part_size = self.part_size
        if size_hint is not None:
            part_size = max(part_size, -(-size_hint // (_MAX_PARTS - 1)))
        if known is not None:
            self._multipart(key, dest, first, stream, hasher, part_size, known)
            check_expected_digest(dest, hasher.digest(), expected)
            return ArtifactInfo(path=dest, size=hasher.size, digest=hasher.digest())
        temp = self._temp_key()
        try:
            self._multipart(temp, dest, first, stream, hasher, part_size, None)
            digest = hasher.digest()
            check_expected_digest(dest, digest, expected)
            self._copy_with_digest(temp, key, hasher.size, digest, dest)
        finally:
            with contextlib.suppress(Exception):
                self._fs.call_s3("delete_object", Bucket=self.bucket, Key=temp)
        return ArtifactInfo(path=dest, size=hasher.size, digest=digest)

    def _temp_key(self) -> str:
        name = f"{_TEMP_DIR}/{secrets.token_hex(16)}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _put_object(
        self, key: str, dest: str, body: bytes, hasher: StreamHasher, expected: str | None
    ) -> ArtifactInfo:
        digest = hasher.digest()
        check_expected_digest(dest, digest, expected)
        self._call(
            "put_object", f"upload {dest!r}", Key=key, Body=body, Metadata={_META_KEY: digest}
        )
        return ArtifactInfo(path=dest, size=len(body), digest=digest)

    def _multipart(
        self,
        key: str,
        dest: str,
        first: bytes,
        stream: BinaryIO,
        hasher: StreamHasher,
        part_size: int,
        digest: str | None,
    ) -> None:
        """Upload ``first`` then the rest of ``stream`` in parts; complete only if whole.

        With ``digest`` the object carries it as metadata, and the upload is aborted
        (IntegrityError, nothing visible) if the bytes hash otherwise.
        """
        what = f"upload {dest!r}"
        metadata = {_META_KEY: digest} if digest else {}
        upload = self._call("create_multipart_upload", what, Key=key, Metadata=metadata)
        upload_id = upload["UploadId"]
        try:
            parts = []
            buffered = memoryview(first)
            number = 1
            while True:
                # Parts are cut from the buffer so every part but the last has part_size.
                while len(buffered) < part_size:
                    more = _read_part(stream, part_size, hasher)
                    if not more:
                        break
                    buffered = memoryview(bytes(buffered) + more)
                if not buffered:
                    break
                body, buffered = bytes(buffered[:part_size]), buffered[part_size:]
                answer = self._call(
                    "upload_part",
                    what,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                )
                parts.append({"ETag": answer["ETag"], "PartNumber": number})
                number += 1
            if digest is not None and hasher.digest() != digest:
                raise IntegrityError(
                    f"artifact {dest!r}: the bytes uploaded hash to {hasher.digest()}, not "
                    f"the expected {digest}; the source changed while it was read, and "
                    "nothing was stored"
                )
            self._call(
                "complete_multipart_upload",
                what,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self._fs.call_s3(
                    "abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            raise

    def _copy_with_digest(self, source: str, key: str, size: int, digest: str, dest: str) -> None:
        """Server-side copy of ``source`` to ``key``, with the digest as its metadata."""
        what = f"upload {dest!r}"
        copy_source = {"Bucket": self.bucket, "Key": source}
        if size <= _MAX_COPY:
            self._call(
                "copy_object",
                what,
                Key=key,
                CopySource=copy_source,
                Metadata={_META_KEY: digest},
                MetadataDirective="REPLACE",
            )
            return
        upload = self._call("create_multipart_upload", what, Key=key, Metadata={_META_KEY: digest})
        upload_id = upload["UploadId"]
        block = max(1024 * MiB, -(-size // (_MAX_PARTS - 1)))
        try:
            parts = []
            for number, start in enumerate(range(0, size, block), start=1):
                end = min(start + block, size) - 1
                answer = self._call(
                    "upload_part_copy",
                    what,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"ETag": answer["CopyPartResult"]["ETag"], "PartNumber": number})
            self._call(
                "complete_multipart_upload",
                what,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self._fs.call_s3(
                    "abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            raise

    # -- reads -----------------------------------------------------------------------

    def open_read(self, path: str) -> BinaryIO:
        """Open a stored object for streaming, seekable reads; NotFoundError if missing.

        If the object is overwritten before the first byte is returned, the new version
        is read; if it is overwritten later, reading raises ConflictError.
        """
        key = self._key(path)
        self._open_object(path, key).close()  # NotFoundError now, not at the first read
        return cast(BinaryIO, _S3Reader(lambda: self._open_object(path, key), path))

    def _open_object(self, path: str, key: str) -> Any:
        with self._translated(f"read {path!r}"):
            try:
                handle = self._fs.open(
                    f"{self.bucket}/{key}", "rb", block_size=CHUNK_SIZE, cache_type="readahead"
                )
            except (FileNotFoundError, IsADirectoryError):
                raise self._not_found(path) from None
        if handle.details.get("type") != "file":  # a "folder": other keys start with it
            handle.close()
            raise self._not_found(path)
        return handle

    def _not_found(self, path: str) -> NotFoundError:
        return NotFoundError(f"artifact {path!r} not found in {self.url}")

    def get_file(self, path: str, dest: Path) -> Path:
        """Download a stored object to ``dest`` atomically, checking its digest."""
        key = self._key(path)
        head = self._head(key, f"read {path!r}")
        if head is None:
            raise self._not_found(path)
        recorded = _recorded_digest(head)
        target = os.path.abspath(dest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with self.open_read(path) as stream, self._translated(f"download {path!r}"):
            try:
                write_atomic(
                    stream, target, label=path, expected_digest=recorded, record_digest=False
                )
            except IntegrityError as error:
                raise IntegrityError(
                    f"artifact {path!r} does not match its recorded digest {recorded}; "
                    "the stored object was changed or damaged"
                ) from error
        return dest

    def exists(self, path: str) -> bool:
        """Whether an object is stored at ``path``."""
        return self._head(self._key(path), f"check {path!r}") is not None

    def info(self, path: str) -> ArtifactInfo:
        """Size and recorded digest of a stored object (hashed if none is recorded)."""
        head = self._head(self._key(path), f"read {path!r}")
        if head is None:
            raise self._not_found(path)
        return self._info_from_head(path, head)

    def _info_from_head(self, path: str, head: dict[str, Any]) -> ArtifactInfo:
        digest = _recorded_digest(head)
        if digest is None:  # written by another tool: hash it once, streaming
            with self.open_read(path) as stream:
                digest, _ = hash_stream(stream)
        return ArtifactInfo(path=path, size=int(head["ContentLength"]), digest=digest)

    def _keys(self, prefix: str) -> list[str]:
        """Every key at or under ``prefix`` that names a valid artifact path, sorted."""
        check_prefix(prefix)
        if prefix:
            base = self._key(prefix, field="prefix")
        else:
            base = f"{self.prefix}/" if self.prefix else ""
        keys = []
        paginator_kwargs: dict[str, Any] = {"Prefix": base}
        while True:
            page = self._call("list_objects_v2", f"list {prefix!r}", **paginator_kwargs)
            for item in page.get("Contents", []):
                key = item["Key"]
                if prefix and key != base and not key.startswith(base + "/"):
                    continue
                if is_relpath(self._relative(key)):
                    keys.append(key)
            if not page.get("IsTruncated"):
                break
            paginator_kwargs["ContinuationToken"] = page["NextContinuationToken"]
        return sorted(keys)

    def list(self, prefix: str = "") -> list[ArtifactInfo]:
        """Every object at or under ``prefix``, sorted by path, with recorded digests."""
        keys = self._keys(prefix)
        with self._translated(f"list {prefix!r}"):
            heads = _sync(self._fs, self._head_many, keys)
        return [
            self._info_from_head(self._relative(key), head)
            for key, head in zip(keys, heads, strict=True)
            if head is not None
        ]

    async def _head_many(self, keys: builtins.list[str]) -> builtins.list[dict[str, Any] | None]:
        limit = asyncio.Semaphore(_HEAD_CONCURRENCY)

        async def head(key: str) -> dict[str, Any] | None:
            async with limit:
                try:
                    answer = await self._fs._call_s3("head_object", Bucket=self.bucket, Key=key)
                except FileNotFoundError:  # deleted while we listed
                    return None
                return cast(dict[str, Any], answer)

        return list(await asyncio.gather(*(head(key) for key in keys)))

    def delete(self, path: str) -> None:
        """Remove an object, or every object under a prefix; missing ones are ignored."""
        check_relpath(path)  # never "": deleting the whole store is not a delete
        keys = self._keys(path)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            answer = self._call(
                "delete_objects", f"delete {path!r}", Delete={"Objects": batch, "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StoreError(
                    f"could not delete {first.get('Key')!r} from {self.url}: "
                    f"{first.get('Message', first.get('Code'))}"
                )

    def ping(self) -> None:
        """Raise StoreUnavailableError if the server is unreachable, StoreError if the
        bucket is missing or forbidden."""
        try:
            self._call("head_bucket", "reach the bucket")
        except NotFoundError:
            raise StoreError(
                f"bucket {self.bucket!r} does not exist at {self._where()}; create it first"
            ) from None

    def _where(self) -> str:
        return self.endpoint_url or "AWS S3"


class _S3Reader(io.RawIOBase):
    """A pinned s3fs file that reopens the newest version if it changes before use.

    s3fs pins the ETag it saw when opening, so an overwrite makes the next ranged GET fail
    (FileExpired) instead of mixing versions.
    """

    def __init__(self, opener: Callable[[], Any], path: str) -> None:
        self._opener = opener
        self._path = path
        self._file = opener()
        self._delivered = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        from s3fs.utils import FileExpired

        for attempt in range(_REOPENS + 1):
            try:
                data = bytes(self._file.read(-1 if size is None else size))
                break
            except FileExpired:
                if self._delivered or attempt == _REOPENS:
                    raise ConflictError(
                        f"artifact {self._path!r} was overwritten while it was being read; "
                        "read it again"
                    ) from None
                time.sleep(0.01 * (attempt + 1))  # let the writer finish
                position = self._file.tell()
                self._file.close()
                self._file = self._opener()
                self._file.seek(position)
        self._delivered = self._delivered or bool(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._file.seek(offset, whence))

    def tell(self) -> int:
        return int(self._file.tell())

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def _recorded_digest(head: dict[str, Any]) -> str | None:
    value = head.get("Metadata", {}).get(_META_KEY)
    try:
        return check_digest(value)
    except ValidationError:
        return None


def _read_part(stream: BinaryIO, size: int, hasher: StreamHasher) -> bytes:
    """Up to ``size`` bytes of ``stream`` (fewer only at its end), fed to ``hasher``."""
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(remaining, CHUNK_SIZE))
        if not chunk:
            break
        hasher.update(chunk)
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _sync(fs: S3FileSystem, function: Any, *args: Any) -> Any:
    """Run an async function on s3fs's event loop thread and wait for it."""
    from fsspec.asyn import sync

    return sync(fs.loop, function, *args)


def _make_filesystem(endpoint_url: str | None, connect_timeout: float) -> S3FileSystem:
    try:
        import s3fs
    except ImportError:
        raise StoreError("the S3 artifact store needs s3fs: pip install 'loopml[s3]'") from None
    client_kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return s3fs.S3FileSystem(
        client_kwargs=client_kwargs,
        config_kwargs={
            "connect_timeout": connect_timeout,
            "retries": {"max_attempts": 3, "mode": "standard"},
        },
        skip_instance_cache=True,
        use_listings_cache=False,
    )


def _translate(error: Exception, what: str, store: S3ArtifactStore) -> LoopmlError:
    """One clear loopml error for a failed S3 call."""
    from botocore import exceptions as boto  # type: ignore[import-untyped]

    where = f"{store.url} at {store._where()}"
    if isinstance(error, boto.ConnectionError | boto.ConnectTimeoutError | asyncio.TimeoutError):
        return StoreUnavailableError(
            f"cannot {what}: the S3 endpoint {store._where()} is unreachable ({error})"
        )
    if isinstance(error, boto.NoCredentialsError | boto.PartialCredentialsError):
        return StoreError(
            f"cannot {what} in {where}: no S3 credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY or configure an AWS profile"
        )
    text = str(error)
    if isinstance(error, FileNotFoundError):
        if "bucket" in text.lower():
            return StoreError(f"cannot {what}: bucket {store.bucket!r} does not exist at {where}")
        return NotFoundError(f"cannot {what}: not found in {where}")
    if isinstance(error, PermissionError):
        return StoreError(f"cannot {what} in {where}: access denied ({text})")
    return StoreError(f"cannot {what} in {where}: {type(error).__name__}: {text}")
