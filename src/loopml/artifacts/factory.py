"""Open the artifact store a URL names."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.paths import check_relpath
from loopml.core.errors import ValidationError

__all__ = ["SUPPORTED_SCHEMES", "open_artifact_store"]

SUPPORTED_SCHEMES = ("file://", "s3://")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def open_artifact_store(
    url: str, *, endpoint_url: str | None = None, subpath: str = ""
) -> BaseArtifactStore:
    """The artifact store at ``url`` (or at ``subpath`` below it).

    Args:
        url: A folder path, ``file:///abs/path``, or ``s3://bucket[/prefix]``.
        endpoint_url: For ``s3://``: the endpoint of an S3-compatible server (MinIO ...).
        subpath: A safe relative path below ``url`` that becomes the store's root; each
            project's artifacts live below ``projects/<project id>``.

    Returns:
        A :class:`~loopml.artifacts.local.LocalArtifactStore` or an
        :class:`~loopml.artifacts.s3.S3ArtifactStore`; an S3 bucket is checked to be
        reachable before it is returned.

    Raises:
        ValidationError: The URL is empty, malformed or of an unsupported scheme.
        StoreUnavailableError: The S3 endpoint cannot be reached.
        StoreError: The bucket does not exist, access is denied, or s3fs is missing.

    >>> open_artifact_store("ftp://example.org/x")
    Traceback (most recent call last):
    ...
    loopml.core.errors.ValidationError: artifact store URL 'ftp://example.org/x': its scheme ...
    """
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(_unsupported(url, "it is empty"), field="url")
    if subpath:
        check_relpath(subpath, field="subpath")
    if url.startswith("s3://"):
        from loopml.artifacts.s3 import S3ArtifactStore

        root = f"{url.rstrip('/')}/{subpath}" if subpath else url
        store = S3ArtifactStore(root, endpoint_url=endpoint_url)
        store.ping()
        return store

    from loopml.artifacts.local import LocalArtifactStore

    if url.startswith("file:"):
        folder = _file_url_path(url)
    elif _SCHEME.match(url) and not _WINDOWS_DRIVE.match(url):
        raise ValidationError(_unsupported(url, "its scheme is not supported"), field="url")
    else:
        folder = Path(url).expanduser()
    return LocalArtifactStore(folder / subpath if subpath else folder)


def _file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ValidationError(
            _unsupported(url, "a file:// URL names a local folder: file:///absolute/path"),
            field="url",
        )
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ValidationError(
            _unsupported(url, "a file:// URL needs an absolute path: file:///absolute/path"),
            field="url",
        )
    return Path(path)


def _unsupported(url: object, why: str) -> str:
    return (
        f"artifact store URL {url!r}: {why}; use a folder path, file:///absolute/path or "
        "s3://bucket/prefix"
    )
