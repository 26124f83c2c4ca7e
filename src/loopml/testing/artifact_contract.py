"""The artifact store contract, as one test class to run against every backend.

Subclass :class:`ArtifactStoreContract` in a test module, name the subclass ``Test...``
and provide the ``store`` fixture (an empty store)::

    class TestLocalArtifactStore(ArtifactStoreContract):
        @pytest.fixture
        def store(self, tmp_path: Path) -> BaseArtifactStore:
            return LocalArtifactStore(tmp_path / "store")

Override :meth:`~ArtifactStoreContract.corrupt` to change stored bytes behind the
store's back (the default overwrites through the store, which also changes the digest
the store records), and set ``large_size`` above the backend's single-write threshold so
the large-blob tests take its multipart path.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loopml.artifacts.base import BaseArtifactStore, blob_path
from loopml.artifacts.hashing import hash_bytes
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import IntegrityError, NotFoundError, UnsafePathError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "UNSAFE_PATHS",
    "ArtifactStoreContract",
    "FailingStream",
    "FileOnlyReader",
    "TrickleStream",
]

UNSAFE_PATHS = (
    "../x",
    "a/../../x",
    "%2e%2e%2f",
    "%252e%252e%252f",
    "..\\x",
    "/etc/passwd",
    "C:\\x",
    "C:/x",
    "a\x00b",
    "a;b",
    "a?b",
    "a#b",
    "a//b",
    "",
)


class TrickleStream(io.RawIOBase):
    """A non-seekable stream that hands out at most ``step`` bytes per read.

    >>> io.BufferedReader(TrickleStream(b"abcdef", step=4)).read()
    b'abcdef'
    """

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        n = min(len(target), self._step, len(self._data))
        target[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


class FailingStream(TrickleStream):
    """A stream that yields ``data``, then raises OSError like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data, step=len(data) or 1)

    def readinto(self, buffer: WriteableBuffer) -> int:
        n = super().readinto(buffer)
        if n == 0:
            raise OSError("connection dropped in the middle of the upload")
        return n


class FileOnlyReader(io.RawIOBase):
    """A local file as a plain non-seekable stream (no ``name``, no ``fileno``)."""

    def __init__(self, path: Path) -> None:
        self._file = io.FileIO(path, "rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        return self._file.readinto(buffer)

    def close(self) -> None:
        self._file.close()
        super().close()


def _pattern(size: int, seed: int) -> bytes:
    """Deterministic, non-repeating-looking bytes (cheap to build for many MiB)."""
    block = bytes((seed * 31 + i * 7) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


class ArtifactStoreContract:
    """Every behaviour a :class:`BaseArtifactStore` promises; subclass per backend."""

    large_size: int = 12 * 1024 * 1024

    @pytest.fixture
    def store(self) -> BaseArtifactStore:
        """An empty store; every subclass must override this fixture."""
        raise NotImplementedError("subclasses of ArtifactStoreContract provide `store`")

    def corrupt(self, store: BaseArtifactStore, path: str, data: bytes) -> None:
        """Replace the bytes stored at ``path`` with ``data``, bypassing the store if possible."""
        store.put_bytes(data, path)

    # -- writing and reading ------------------------------------------------------

    def test_put_bytes_then_read_bytes_returns_them(self, store: BaseArtifactStore) -> None:
        info = store.put_bytes(b"hello", "notes/greeting.txt")
        assert info == ArtifactInfo("notes/greeting.txt", 5, hash_bytes(b"hello"))
        assert store.read_bytes("notes/greeting.txt") == b"hello"

    def test_put_empty_bytes_stores_an_empty_file(self, store: BaseArtifactStore) -> None:
        assert store.put_bytes(b"", "empty").size == 0
        assert store.read_bytes("empty") == b""
        assert store.info("empty").digest == hash_bytes(b"")

    def test_put_file_then_get_file_round_trips(
        self, store: BaseArtifactStore, tmp_path: Path
    ) -> None:
        source = tmp_path / "model.bin"
        source.write_bytes(b"\x00\x01weights" * 1000)
        info = store.put_file(source, "run/model.bin")
        assert info.size == source.stat().st_size
        assert info.digest == hash_bytes(source.read_bytes())
        target = tmp_path / "out" / "copy.bin"
        assert store.get_file("run/model.bin", target) == target
        assert target.read_bytes() == source.read_bytes()

    def test_put_stream_copies_a_non_seekable_stream(self, store: BaseArtifactStore) -> None:
        data = _pattern(10_000, seed=1)
        info = store.put_stream(io.BufferedReader(TrickleStream(data)), "stream.bin")
        assert (info.size, info.digest) == (len(data), hash_bytes(data))
        with store.open_read("stream.bin") as handle:
            assert handle.read(3) == data[:3]
            assert handle.read() == data[3:]

    def test_large_blob_round_trips_from_file_and_stream(
        self, store: BaseArtifactStore, tmp_path: Path
    ) -> None:
        data = _pattern(self.large_size, seed=2)
        source = tmp_path / "large.bin"
        source.write_bytes(data)
        from_file = store.put_file(source, "large/file.bin")
        with io.BufferedReader(FileOnlyReader(source)) as stream:
            from_stream = store.put_stream(stream, "large/s.bin")
        assert from_file.digest == from_stream.digest == hash_bytes(data)
        assert store.info("large/s.bin") == ArtifactInfo("large/s.bin", len(data), hash_bytes(data))
        assert store.read_bytes("large/file.bin") == data
        assert [i.path for i in store.list()] == ["large/file.bin", "large/s.bin"]

    def test_put_dir_then_get_dir_round_trips(
        self, store: BaseArtifactStore, tmp_path: Path
    ) -> None:
        source = tmp_path / "model"
        (source / "sub").mkdir(parents=True)
        (source / "a.txt").write_bytes(b"a")
        (source / "sub" / "b.txt").write_bytes(b"bb")
        infos = store.put_dir(source, "runs/1/model")
        assert [i.path for i in infos] == ["runs/1/model/a.txt", "runs/1/model/sub/b.txt"]
        written = store.get_dir("runs/1/model", tmp_path / "back")
        assert sorted(written) == [tmp_path / "back" / "a.txt", tmp_path / "back/sub/b.txt"]
        assert (tmp_path / "back" / "sub" / "b.txt").read_bytes() == b"bb"

    def test_put_dir_with_an_unsafe_name_stores_nothing(
        self, store: BaseArtifactStore, tmp_path: Path
    ) -> None:
        source = tmp_path / "model"
        source.mkdir()
        (source / "a.txt").write_bytes(b"a")
        (source / "b?.txt").write_bytes(b"b")
        with pytest.raises(UnsafePathError):
            store.put_dir(source, "model")
        assert store.list() == []

    # -- listing and metadata ------------------------------------------------------

    def test_list_of_an_empty_store_is_empty(self, store: BaseArtifactStore) -> None:
        assert store.list() == []
        assert store.list("nothing/here") == []

    def test_list_is_sorted_and_matches_whole_segments(self, store: BaseArtifactStore) -> None:
        for path in ("run/b", "run/a/x", "runs/c", "ru/d"):
            store.put_bytes(path.encode(), path)
        assert [i.path for i in store.list()] == ["ru/d", "run/a/x", "run/b", "runs/c"]
        assert [i.path for i in store.list("run")] == ["run/a/x", "run/b"]
        assert [i.path for i in store.list("run/a")] == ["run/a/x"]
        assert [i.path for i in store.list("run/a/x")] == ["run/a/x"]
        assert list(store.iter_paths("runs")) == ["runs/c"]

    def test_list_reports_size_and_digest(self, store: BaseArtifactStore) -> None:
        store.put_bytes(b"abc", "d/one")
        assert store.list("d") == [ArtifactInfo("d/one", 3, hash_bytes(b"abc"))]

    def test_info_returns_size_and_digest(self, store: BaseArtifactStore) -> None:
        written = store.put_bytes(b"12345", "x/y.bin")
        assert store.info("x/y.bin") == written == ArtifactInfo("x/y.bin", 5, hash_bytes(b"12345"))

    def test_exists_is_true_only_for_stored_files(self, store: BaseArtifactStore) -> None:
        store.put_bytes(b"1", "dir/file")
        assert store.exists("dir/file")
        assert not store.exists("dir/other")
        assert not store.exists("dir")

    # -- integrity -----------------------------------------------------------------

    def test_verify_accepts_an_intact_blob(self, store: BaseArtifactStore) -> None:
        info = store.put_bytes(b"intact", "blob")
        store.verify("blob", info.digest)

    def test_verify_detects_a_changed_blob(self, store: BaseArtifactStore) -> None:
        info = store.put_bytes(b"original", "blob")
        self.corrupt(store, "blob", b"tampered")
        with pytest.raises(IntegrityError, match="blob"):
            store.verify("blob", info.digest)

    def test_write_with_a_wrong_expected_digest_stores_nothing(
        self, store: BaseArtifactStore
    ) -> None:
        store.put_bytes(b"old", "pinned")
        with pytest.raises(IntegrityError):
            store.put_bytes(b"new", "pinned", expected_digest=hash_bytes(b"other"))
        with pytest.raises(IntegrityError):
            store.put_stream(io.BytesIO(b"new"), "fresh", expected_digest=hash_bytes(b"x"))
        assert store.read_bytes("pinned") == b"old"
        assert [i.path for i in store.list()] == ["pinned"]

    # -- deleting --------------------------------------------------------------------

    def test_delete_removes_a_file(self, store: BaseArtifactStore) -> None:
        store.put_bytes(b"1", "a/one")
        store.put_bytes(b"2", "a/two")
        store.delete("a/one")
        assert not store.exists("a/one")
        assert [i.path for i in store.list()] == ["a/two"]

    def test_delete_removes_everything_under_a_prefix(self, store: BaseArtifactStore) -> None:
        for path in ("run/a", "run/sub/b", "runs/keep"):
            store.put_bytes(b"x", path)
        store.delete("run")
        assert [i.path for i in store.list()] == ["runs/keep"]

    def test_delete_of_a_missing_path_is_ignored(self, store: BaseArtifactStore) -> None:
        store.delete("never/stored")
        assert store.list() == []

    # -- missing files ---------------------------------------------------------------

    @pytest.mark.parametrize("operation", ["open_read", "read_bytes", "info", "get_file"])
    def test_reading_a_missing_file_raises_not_found(
        self, store: BaseArtifactStore, tmp_path: Path, operation: str
    ) -> None:
        store.put_bytes(b"1", "folder/file")
        for missing in ("absent", "folder"):
            if operation == "get_file":
                read = functools.partial(store.get_file, missing, tmp_path / "out")
            else:
                read = functools.partial(getattr(store, operation), missing)
            with pytest.raises(NotFoundError, match=missing):
                read()
        assert not (tmp_path / "out").exists()

    # -- atomic overwrite ------------------------------------------------------------

    def test_overwrite_replaces_the_content(self, store: BaseArtifactStore) -> None:
        store.put_bytes(b"first version", "model")
        info = store.put_bytes(b"second", "model")
        assert store.read_bytes("model") == b"second"
        assert store.info("model") == info

    @pytest.mark.parametrize("size", ["small", "large"])
    def test_failed_write_keeps_old_content_and_leaves_no_temp_file(
        self, store: BaseArtifactStore, size: str
    ) -> None:
        store.put_bytes(b"old content", "model")
        partial = b"new" * 100 if size == "small" else _pattern(self.large_size, seed=3)
        with pytest.raises(OSError, match="connection dropped"):
            store.put_stream(io.BufferedReader(FailingStream(partial)), "model")
        with pytest.raises(OSError, match="connection dropped"):
            store.put_stream(io.BufferedReader(FailingStream(partial)), "new/model")
        assert store.read_bytes("model") == b"old content"
        assert [i.path for i in store.list()] == ["model"]
        assert not store.exists("new/model")

    def test_concurrent_readers_see_old_or_new_content_never_partial(
        self, store: BaseArtifactStore
    ) -> None:
        versions = [_pattern(256 * 1024, seed=seed) for seed in range(4)]
        store.put_bytes(versions[0], "shared")
        seen: list[bytes] = []
        failures: list[BaseException] = []
        stop = threading.Event()

        def read_until_stopped() -> None:
            try:
                while not stop.is_set():
                    seen.append(store.read_bytes("shared"))
            except BaseException as error:  # reported to the main thread below
                failures.append(error)

        readers = [threading.Thread(target=read_until_stopped) for _ in range(3)]
        for reader in readers:
            reader.start()
        try:
            for round_ in range(12):
                store.put_bytes(versions[round_ % len(versions)], "shared")
        finally:
            stop.set()
            for reader in readers:
                reader.join()
        assert not failures, failures
        assert seen
        assert all(content in versions for content in seen)

    # -- content addressing ----------------------------------------------------------

    def test_content_addressed_blob_lives_under_its_digest(self, store: BaseArtifactStore) -> None:
        info = store.put_content_addressed(io.BytesIO(b"dataset"))
        hex_digest = hash_bytes(b"dataset").removeprefix("blake3:")
        assert info.path == f"blobs/{hex_digest[:2]}/{hex_digest}" == blob_path(info.digest)
        assert store.read_bytes(info.path) == b"dataset"

    def test_content_addressing_stores_identical_data_once(
        self, store: BaseArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        source = tmp_path / "data.parquet"
        source.write_bytes(b"rows" * 1000)
        first = store.put_content_addressed(source)

        def refuse(*args: object, **kwargs: object) -> ArtifactInfo:
            raise AssertionError("an existing blob was written again")

        for name in ("put_file", "put_stream", "put_bytes"):
            monkeypatch.setattr(store, name, refuse)
        again = store.put_content_addressed(source)
        from_stream = store.put_content_addressed(io.BufferedReader(TrickleStream(b"rows" * 1000)))
        assert first == again == from_stream
        assert store.list() == [first]

    def test_content_addressing_copies_a_non_seekable_stream(
        self, store: BaseArtifactStore
    ) -> None:
        data = _pattern(50_000, seed=4)
        info = store.put_content_addressed(io.BufferedReader(TrickleStream(data, step=4096)))
        assert (info.size, info.digest) == (len(data), hash_bytes(data))
        assert store.read_bytes(info.path) == data

    # -- unsafe paths ----------------------------------------------------------------

    @pytest.mark.parametrize("path", UNSAFE_PATHS)
    def test_unsafe_paths_are_refused_and_nothing_is_written(
        self, store: BaseArtifactStore, tmp_path: Path, path: str
    ) -> None:
        source = tmp_path / "source.txt"
        source.write_bytes(b"payload")
        attempts: list[Callable[[], object]] = [
            lambda: store.put_bytes(b"payload", path),
            lambda: store.put_file(source, path),
            lambda: store.put_stream(io.BytesIO(b"payload"), path),
            lambda: store.put_dir(tmp_path, path or "/"),
            lambda: store.open_read(path),
            lambda: store.read_bytes(path),
            lambda: store.get_file(path, tmp_path / "out"),
            lambda: store.info(path),
            lambda: store.exists(path),
            lambda: store.delete(path),
            lambda: store.verify(path, hash_bytes(b"payload")),
        ]
        if path:  # "" is the root, a valid prefix for listing
            attempts += [lambda: store.list(path), lambda: store.get_dir(path, tmp_path / "o")]
        for attempt in attempts:
            with pytest.raises(UnsafePathError):
                attempt()
        assert store.list() == []
        assert not (tmp_path / "out").exists()
        assert not (tmp_path / "o").exists()
