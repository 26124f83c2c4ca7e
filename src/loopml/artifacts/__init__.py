"""Artifact stores: blobs under one root, on a local folder or S3.

>>> from loopml.artifacts import open_artifact_store
>>> import io, tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     store = open_artifact_store(folder)
...     blob = store.put_content_addressed(io.BytesIO(b"weights"))
...     blob.path.startswith("blobs/"), store.read_bytes(blob.path)
(True, b'weights')
"""

from __future__ import annotations

from loopml.artifacts.base import BLOB_PREFIX, BaseArtifactStore, blob_path
from loopml.artifacts.factory import SUPPORTED_SCHEMES, open_artifact_store
from loopml.artifacts.hashing import hash_bytes, hash_file, hash_stream
from loopml.artifacts.local import LocalArtifactStore
from loopml.artifacts.paths import check_relpath
from loopml.artifacts.s3 import S3ArtifactStore

__all__ = [
    "BLOB_PREFIX",
    "SUPPORTED_SCHEMES",
    "BaseArtifactStore",
    "LocalArtifactStore",
    "S3ArtifactStore",
    "blob_path",
    "check_relpath",
    "hash_bytes",
    "hash_file",
    "hash_stream",
    "open_artifact_store",
]
