from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest

from loopml.artifacts import (
    SUPPORTED_SCHEMES,
    LocalArtifactStore,
    S3ArtifactStore,
    open_artifact_store,
)
from loopml.core.errors import ValidationError


def test_folder_path_opens_a_local_store(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path / "artifacts"))
    assert isinstance(store, LocalArtifactStore)
    assert store.root == tmp_path.resolve() / "artifacts"


def test_file_url_opens_a_local_store(tmp_path: Path) -> None:
    store = open_artifact_store((tmp_path / "my artifacts").as_uri())
    assert isinstance(store, LocalArtifactStore)
    assert store.root == tmp_path.resolve() / "my artifacts"


def test_relative_folder_path_is_taken_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_artifact_store("artifacts")
    assert isinstance(store, LocalArtifactStore)
    assert store.root == tmp_path.resolve() / "artifacts"


@pytest.mark.s3
def test_s3_url_opens_an_s3_store(s3_endpoint_url: str) -> None:
    bucket = f"loopml-test-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint_url)
    client.create_bucket(Bucket=bucket)
    try:
        store = open_artifact_store(f"s3://{bucket}/p", endpoint_url=s3_endpoint_url)
        assert isinstance(store, S3ArtifactStore)
        assert (store.bucket, store.prefix, store.url) == (bucket, "p", f"s3://{bucket}/p")
    finally:
        client.delete_bucket(Bucket=bucket)


@pytest.mark.parametrize(
    "url",
    ["gs://bucket/x", "http://example.org/x", "ftp://host/x", "memory://x", "hdfs:///x"],
)
def test_unsupported_scheme_is_refused_naming_url_and_schemes(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        open_artifact_store(url)
    message = str(caught.value)
    assert repr(url) in message
    assert all(scheme in message for scheme in SUPPORTED_SCHEMES)
    assert caught.value.field == "url"


@pytest.mark.parametrize(
    "url", ["", "   ", "file://otherhost/x", "file:relative/x", "file:///x?y=1", "file:///x#f"]
)
def test_malformed_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="artifact store URL"):
        open_artifact_store(url)
