"""RestArtifactStore against the real server: streamed transfers, digests, resumed downloads.

The contract suite (test_rest_contract.py) covers what every artifact store does; these
cover what only the REST store does.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from loopml.artifacts.hashing import hash_bytes, hash_file
from loopml.client.rest_artifacts import PARTIAL_SUFFIX, RestArtifactStore
from loopml.client.session import RetryPolicy
from loopml.core.errors import IntegrityError, StoreUnavailableError, UnsafePathError
from loopml.core.ids import new_id
from loopml.testing.artifact_contract import UNSAFE_PATHS

from .conftest import LiveServer
from .transports import BreakingTransport, RecordingTransport

FAST = RetryPolicy(attempts=2, initial_s=0.01, max_s=0.01)
SIZE = 3 * 1024 * 1024 + 12_345  # several 1 MiB chunks and a ragged end


def _is_file_get(request: httpx.Request) -> bool:
    return request.method == "GET" and "/files/" in request.url.path


@pytest.fixture
def project(live_server: LiveServer) -> str:
    return live_server.context.metadata.create_project(f"art-{new_id()[:12]}").name


@pytest.fixture
def data() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def stored(live_server: LiveServer, project: str, data: bytes) -> str:
    with RestArtifactStore(live_server.url, live_server.admin_token, project) as store:
        store.put_bytes(data, "model/weights.bin")
    return "model/weights.bin"


@pytest.fixture
def make_store(live_server: LiveServer, project: str) -> Iterator[Callable[..., RestArtifactStore]]:
    stores: list[RestArtifactStore] = []

    def make(transport: httpx.BaseTransport | None = None) -> RestArtifactStore:
        store = RestArtifactStore(
            live_server.url, live_server.admin_token, project, transport=transport, retry=FAST
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def test_upload_streams_from_disk_with_length_and_digest(
    make_store: Callable[..., RestArtifactStore], tmp_path: Path, data: bytes
) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    transport = RecordingTransport()
    info = make_store(transport).put_file(source, "w.bin")
    (put,) = transport.matching("PUT", "/w.bin")
    assert put.headers["Content-Length"] == str(SIZE)
    assert put.headers["X-Loopml-Digest"] == hash_bytes(data) == info.digest
    assert "Transfer-Encoding" not in put.headers
    assert put.headers["Content-Type"] == "application/octet-stream"


def test_transfers_do_not_hold_the_file_in_memory(
    make_store: Callable[..., RestArtifactStore], tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    size = 48 * 1024 * 1024
    with open(source, "wb") as out:
        for _ in range(size // (1024 * 1024)):
            out.write(os.urandom(1024 * 1024))
    store = make_store()
    tracemalloc.start()
    try:
        store.put_file(source, "big.bin")
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        store.get_file("big.bin", tmp_path / "back.bin")
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert hash_file(tmp_path / "back.bin") == hash_file(source)
    # Client and server share this process, and the server's store copies in 8 MiB
    # reads: the peak is a few chunks, whatever the file's size.
    assert upload_peak < size / 3, upload_peak
    assert download_peak < size / 3, download_peak


def test_the_server_refuses_bytes_that_do_not_match_the_sent_digest(
    make_store: Callable[..., RestArtifactStore], live_server: LiveServer, project: str
) -> None:
    class Forging(RecordingTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "PUT":
                request.headers["X-Loopml-Digest"] = hash_bytes(b"something else")
            return super().handle_request(request)

    with pytest.raises(IntegrityError):
        make_store(Forging()).put_bytes(b"payload", "forged.bin")
    assert not make_store().exists("forged.bin")


def test_unsafe_paths_are_refused_before_any_request(
    make_store: Callable[..., RestArtifactStore], tmp_path: Path
) -> None:
    transport = RecordingTransport()
    store = make_store(transport)
    for path in UNSAFE_PATHS:
        attempts: list[Callable[[str], object]] = [
            lambda p: store.put_bytes(b"x", p),
            store.open_read,
            lambda p: store.get_file(p, tmp_path / "out"),
            store.exists,
            store.delete,
        ]
        for attempt in attempts:
            with pytest.raises(UnsafePathError):
                attempt(path)
    assert transport.requests == []


def test_a_download_broken_mid_way_resumes_with_a_range_request(
    make_store: Callable[..., RestArtifactStore], stored: str, data: bytes, tmp_path: Path
) -> None:
    transport = BreakingTransport(_is_file_get, limit=1_500_000)
    target = tmp_path / "out" / "weights.bin"
    make_store(transport).get_file(stored, target)
    assert target.read_bytes() == data
    first, resumed = transport.matching("GET", stored)
    assert "Range" not in first.headers
    assert resumed.headers["Range"] == "bytes=1500000-"
    assert list(target.parent.iterdir()) == [target]  # no partial file left


def test_open_read_resumes_a_broken_stream(
    make_store: Callable[..., RestArtifactStore], stored: str, data: bytes
) -> None:
    transport = BreakingTransport(_is_file_get, limit=2_000_000)
    with make_store(transport).open_read(stored) as handle:
        assert handle.read() == data
    assert transport.matching("GET", stored)[1].headers["Range"] == "bytes=2000000-"


def test_an_interrupted_download_is_resumed_by_the_next_call_from_its_partial_file(
    make_store: Callable[..., RestArtifactStore], stored: str, data: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "weights.bin"
    # Every try of the first call breaks: it gives up, keeping what arrived.
    failing = BreakingTransport(_is_file_get, limit=700_000, times=FAST.attempts)
    with pytest.raises(StoreUnavailableError, match="resume"):
        make_store(failing).get_file(stored, target)
    assert not target.exists()
    (partial,) = tmp_path.glob(f".weights.bin.*{PARTIAL_SUFFIX}")
    assert partial.stat().st_size == 2 * 700_000

    transport = RecordingTransport()
    make_store(transport).get_file(stored, target)
    assert target.read_bytes() == data
    assert transport.matching("GET", stored)[0].headers["Range"] == "bytes=1400000-"
    assert not partial.exists()


def test_a_partial_file_of_other_bytes_is_discarded_and_the_download_restarts(
    make_store: Callable[..., RestArtifactStore], stored: str, data: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "weights.bin"
    digest = hash_bytes(data)
    partial = tmp_path / f".weights.bin.{digest.partition(':')[2][:16]}{PARTIAL_SUFFIX}"
    partial.write_bytes(b"\x00" * 1000)  # damaged: not the file's first bytes
    transport = RecordingTransport()
    make_store(transport).get_file(stored, target)
    assert target.read_bytes() == data
    ranged, fresh = transport.matching("GET", stored)
    assert ranged.headers["Range"] == "bytes=1000-"
    assert "Range" not in fresh.headers
    assert not partial.exists()


def test_a_partial_file_of_an_older_version_is_not_resumed(
    make_store: Callable[..., RestArtifactStore], stored: str, data: bytes, tmp_path: Path
) -> None:
    target = tmp_path / "weights.bin"
    stale = tmp_path / f".weights.bin.{'0' * 16}{PARTIAL_SUFFIX}"
    stale.write_bytes(data[:1000])
    transport = RecordingTransport()
    make_store(transport).get_file(stored, target)
    assert target.read_bytes() == data
    assert "Range" not in transport.matching("GET", stored)[0].headers
    assert not stale.exists()
