"""The artifact contract on an S3-compatible server, plus S3-only behaviour."""

from __future__ import annotations

import io
import socket
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from loopml.artifacts import S3ArtifactStore, open_artifact_store
from loopml.artifacts import s3 as s3_module
from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import hash_bytes
from loopml.core.errors import StoreError, StoreUnavailableError, ValidationError
from loopml.testing.artifact_contract import ArtifactStoreContract, FailingStream

pytestmark = pytest.mark.s3

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_client(s3_endpoint_url: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_endpoint_url)


@pytest.fixture
def bucket(s3_client: Any) -> Iterator[str]:
    """A fresh, uniquely named bucket, emptied and removed afterwards."""
    name = f"loopml-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=name, Key=item["Key"])
    for upload in s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3_client.abort_multipart_upload(
            Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    s3_client.delete_bucket(Bucket=name)


def _store(bucket: str, endpoint: str) -> S3ArtifactStore:
    # Small thresholds so 12 MiB blobs take the multipart paths (5 MiB is S3's minimum).
    return S3ArtifactStore(
        f"s3://{bucket}/team/artifacts",
        endpoint_url=endpoint,
        multipart_threshold=5 * MiB,
        part_size=5 * MiB,
    )


def _all_keys(s3_client: Any, bucket: str) -> list[str]:
    answer = s3_client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))


class TestS3ArtifactStore(ArtifactStoreContract):
    large_size = 12 * MiB

    @pytest.fixture
    def store(self, bucket: str, s3_endpoint_url: str) -> BaseArtifactStore:
        return _store(bucket, s3_endpoint_url)

    def corrupt(self, store: BaseArtifactStore, path: str, data: bytes) -> None:
        assert isinstance(store, S3ArtifactStore)
        key = f"{store.prefix}/{path}"
        client = boto3.client("s3", endpoint_url=store.endpoint_url)
        metadata = client.head_object(Bucket=store.bucket, Key=key)["Metadata"]
        client.put_object(Bucket=store.bucket, Key=key, Body=data, Metadata=metadata)


@pytest.fixture
def store(bucket: str, s3_endpoint_url: str) -> S3ArtifactStore:
    return _store(bucket, s3_endpoint_url)


def test_digest_is_stored_as_object_metadata(
    store: S3ArtifactStore, s3_client: Any, bucket: str
) -> None:
    info = store.put_bytes(b"weights", "model.bin")
    head = s3_client.head_object(Bucket=bucket, Key="team/artifacts/model.bin")
    assert head["Metadata"] == {"blake3": info.digest}
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-blake3"] == info.digest


@pytest.mark.parametrize("source", ["file", "stream"])
def test_multipart_upload_records_the_digest_and_leaves_nothing_behind(
    store: S3ArtifactStore, s3_client: Any, bucket: str, tmp_path: Any, source: str
) -> None:
    data = bytes(range(256)) * (12 * MiB // 256)
    if source == "file":
        path = tmp_path / "big.bin"
        path.write_bytes(data)
        info = store.put_file(path, "big.bin")
    else:
        info = store.put_stream(io.BufferedReader(io.BytesIO(data)), "big.bin")
    head = s3_client.head_object(Bucket=bucket, Key="team/artifacts/big.bin")
    assert head["Metadata"] == {"blake3": hash_bytes(data)} == {"blake3": info.digest}
    assert _all_keys(s3_client, bucket) == ["team/artifacts/big.bin"]
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_copy_of_an_object_too_large_for_one_copy_goes_in_parts(
    store: S3ArtifactStore, s3_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "_MAX_COPY", 1)
    data = bytes(range(256)) * (12 * MiB // 256)
    info = store.put_stream(io.BufferedReader(io.BytesIO(data)), "big.bin")
    assert store.info("big.bin") == info
    assert store.read_bytes("big.bin") == data
    assert _all_keys(s3_client, bucket) == ["team/artifacts/big.bin"]


def test_failed_multipart_upload_is_aborted(
    store: S3ArtifactStore, s3_client: Any, bucket: str
) -> None:
    with pytest.raises(OSError, match="connection dropped"):
        store.put_stream(io.BufferedReader(FailingStream(b"x" * 11 * MiB)), "big.bin")
    assert _all_keys(s3_client, bucket) == []
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_object_written_by_another_tool_gets_its_digest_computed(
    store: S3ArtifactStore, s3_client: Any, bucket: str
) -> None:
    s3_client.put_object(Bucket=bucket, Key="team/artifacts/foreign", Body=b"by boto3")
    assert store.info("foreign").digest == hash_bytes(b"by boto3")
    assert [i.digest for i in store.list()] == [hash_bytes(b"by boto3")]


def test_keys_outside_the_allow_list_and_prefix_are_not_listed(
    store: S3ArtifactStore, s3_client: Any, bucket: str
) -> None:
    s3_client.put_object(Bucket=bucket, Key="team/artifacts/odd?name", Body=b"1")
    s3_client.put_object(Bucket=bucket, Key="team/other", Body=b"1")
    s3_client.put_object(Bucket=bucket, Key="team/artifactsX/y", Body=b"1")
    store.put_bytes(b"ok", "fine")
    assert [i.path for i in store.list()] == ["fine"]


def test_store_without_a_prefix_uses_the_whole_bucket(
    bucket: str, s3_endpoint_url: str, s3_client: Any
) -> None:
    store = S3ArtifactStore(f"s3://{bucket}", endpoint_url=s3_endpoint_url)
    store.put_bytes(b"1", "a/b")
    assert _all_keys(s3_client, bucket) == ["a/b"]
    assert [i.path for i in store.list()] == ["a/b"]
    assert store.url == f"s3://{bucket}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_endpoint_raises_store_unavailable_in_one_line() -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(StoreUnavailableError, match="unreachable") as caught:
        open_artifact_store("s3://some-bucket/x", endpoint_url=endpoint)
    assert "\n" not in str(caught.value)
    assert endpoint in str(caught.value)


def test_missing_bucket_raises_store_error_naming_it(s3_endpoint_url: str) -> None:
    with pytest.raises(StoreError, match="no-such-bucket-for-loopml"):
        open_artifact_store("s3://no-such-bucket-for-loopml", endpoint_url=s3_endpoint_url)


def test_missing_s3fs_asks_for_the_s3_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(StoreError, match=r"pip install 'loopml\[s3\]'"):
        S3ArtifactStore("s3://bucket/prefix")


@pytest.mark.parametrize("url", ["s3://", "s3://UPPER", "s3://ab", "s3://bucket/../x"])
def test_malformed_s3_url_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        S3ArtifactStore(url)
