"""The local-file primitives: kernel copies that check what they stored, remembered digests."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loopml.artifacts import LocalArtifactStore, hashing, localfs
from loopml.artifacts.hashing import hash_bytes
from loopml.core.errors import IntegrityError

MIB = 1024 * 1024


def _pattern(size: int, seed: int = 0) -> bytes:
    block = bytes((seed + i * 7) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def _copy(source: Path, target: Path, expected_digest: str | None = None) -> tuple[str, int]:
    with open(source, "rb", buffering=0) as handle:
        return localfs.copy_file_atomic(
            handle.fileno(), str(target), label="t", expected_digest=expected_digest
        )


def _refuse(code: int) -> Callable[..., int]:
    def refuse(*args: object) -> int:
        raise OSError(code, os.strerror(code))

    return refuse


# -- copy_file_atomic ------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 3 * MIB + 5])
def test_kernel_copy_stores_the_bytes_and_their_digest(
    tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localfs, "_KERNEL_COPY_CHUNK", MIB)  # several calls per file
    monkeypatch.setattr(localfs, "_WRITE_BACK_MIN", 2 * MIB)  # with and without the helper
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(_pattern(size))
    digest, n = _copy(source, target, expected_digest=hash_bytes(_pattern(size)))
    assert (digest, n) == (hash_bytes(_pattern(size)), size)
    assert target.read_bytes() == _pattern(size)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source", "target"]


@pytest.mark.parametrize("refused", [["copy_file_range"], ["copy_file_range", "sendfile"]])
@pytest.mark.parametrize("how", ["error", "copies nothing"])
def test_a_refused_kernel_copy_falls_back_to_the_next_way(
    tmp_path: Path, refused: list[str], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in refused:
        refuse = _refuse(errno.EXDEV) if how == "error" else (lambda *args: 0)
        monkeypatch.setattr(os, name, refuse, raising=False)
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(_pattern(2 * MIB + 3))
    digest, _ = _copy(source, target)
    assert digest == hash_bytes(_pattern(2 * MIB + 3))
    assert target.read_bytes() == _pattern(2 * MIB + 3)


def test_a_wrong_expected_digest_stores_nothing_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    source.write_bytes(b"what is really there")
    with pytest.raises(IntegrityError, match="nothing was stored"):
        _copy(source, tmp_path / "target", expected_digest=hash_bytes(b"what was hashed"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]


def test_a_failed_write_back_is_raised_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the write-back helper fails: the final fsync would pass, as a second fsync
    # after a failed write-back may on Linux.
    monkeypatch.setattr(os, "fdatasync", _refuse(errno.EIO))
    monkeypatch.setattr(localfs, "_WRITE_BACK_MIN", 0)
    real_copy = localfs._kernel_copy

    def slow_copy(source: int, dest: int) -> None:  # long enough for the helper to sync
        real_copy(source, dest)
        time.sleep(0.3)

    monkeypatch.setattr(localfs, "_kernel_copy", slow_copy)
    source = tmp_path / "source"
    source.write_bytes(_pattern(MIB))
    with pytest.raises(OSError) as caught:
        _copy(source, tmp_path / "target")
    assert caught.value.errno == errno.EIO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]


def test_the_digest_is_that_of_the_stored_bytes_when_the_source_changes_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    source.write_bytes(_pattern(MIB))
    hashed = hash_bytes(_pattern(MIB))  # what the caller hashed before copying
    real_copy = localfs._kernel_copy

    def copy_after_a_change(src: int, dest: int) -> None:
        with open(source, "r+b") as handle:  # same size, same inode
            handle.write(b"changed")
        real_copy(src, dest)

    monkeypatch.setattr(localfs, "_kernel_copy", copy_after_a_change)
    with pytest.raises(IntegrityError):
        _copy(source, tmp_path / "target", expected_digest=hashed)
    assert not (tmp_path / "target").exists()


@pytest.fixture
def hashed_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the copies hashed by copy_file_atomic."""
    sizes: list[int] = []
    real = localfs._hash_fd

    def hash_fd(fd: int) -> tuple[str, int]:
        digest, size = real(fd)
        sizes.append(size)
        return digest, size

    monkeypatch.setattr(localfs, "_hash_fd", hash_fd)
    return sizes


def test_a_copy_of_a_file_unchanged_since_it_was_hashed_is_not_hashed_again(
    tmp_path: Path, settled: None, hashed_copies: list[int]
) -> None:
    source = tmp_path / "data.parquet"
    source.write_bytes(_pattern(3 * MIB))
    time.sleep(0.05)
    digest, _, identity = localfs.hash_file_remembered(source, tmp_path / "digests")
    assert identity is not None
    store = LocalArtifactStore(tmp_path / "store")
    info = store.put_hashed_file(source, "blob", digest=digest, identity=identity)
    assert (info.digest, info.size) == (digest, 3 * MIB)
    assert store.read_bytes("blob") == _pattern(3 * MIB)
    assert hashed_copies == []
    store.verify("blob", digest)


def test_a_copy_of_a_file_changed_since_it_was_hashed_is_hashed_and_refused(
    tmp_path: Path, settled: None, hashed_copies: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "data.parquet"
    source.write_bytes(_pattern(3 * MIB))
    time.sleep(0.05)
    digest, _, identity = localfs.hash_file_remembered(source, tmp_path / "digests")
    assert identity is not None
    real_copy = localfs._kernel_copy

    def copy_then_change(src: int, dest: int) -> None:
        real_copy(src, dest)
        time.sleep(0.05)
        with open(source, "r+b") as handle:  # after the copy: the copy itself is intact
            handle.write(b"changed")

    monkeypatch.setattr(localfs, "_kernel_copy", copy_then_change)
    store = LocalArtifactStore(tmp_path / "store")
    info = store.put_hashed_file(source, "blob", digest=digest, identity=identity)
    assert info.digest == digest
    assert hashed_copies == [3 * MIB]  # the identity changed, so the copy was hashed

    def change_then_copy(src: int, dest: int) -> None:
        with open(source, "r+b") as handle:
            handle.write(b"CHANGED")
        real_copy(src, dest)

    monkeypatch.setattr(localfs, "_kernel_copy", change_then_copy)
    with pytest.raises(IntegrityError):
        store.put_hashed_file(source, "other", digest=digest, identity=identity)
    assert not store.exists("other")


def test_put_file_streams_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(b"from a pipe",))
    writer.start()
    store = LocalArtifactStore(tmp_path / "store")
    info = store.put_file(fifo, "piped")
    writer.join()
    assert store.read_bytes("piped") == b"from a pipe"
    assert info.digest == hash_bytes(b"from a pipe")


# -- hash_file_remembered ----------------------------------------------------------------


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file counts as settled at once, instead of seconds after its last change."""
    monkeypatch.setattr(localfs, "_RACY_NS", 0)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths actually read and hashed."""
    calls: list[Path] = []

    def hash_file(path: Path) -> tuple[str, int]:
        calls.append(path)
        return hashing.hash_file(path)

    monkeypatch.setattr(localfs, "hash_file", hash_file)
    return calls


def test_an_unchanged_file_is_hashed_once(
    tmp_path: Path, settled: None, counted: list[Path]
) -> None:
    data = tmp_path / "data.parquet"
    data.write_bytes(_pattern(MIB))
    time.sleep(0.05)  # past the timestamp tick of the write
    first = localfs.hash_file_remembered(data, tmp_path / "digests")
    again = localfs.hash_file_remembered(data, tmp_path / "digests")
    assert first == again
    assert first[:2] == (hash_bytes(_pattern(MIB)), MIB)
    assert first.identity is not None
    assert localfs.remembered_digest(data, tmp_path / "digests") == first
    assert counted == [data]
    assert data.read_bytes() == _pattern(MIB)  # the user's file is not written to


def test_a_file_changed_in_place_with_its_mtime_put_back_is_hashed_again(
    tmp_path: Path, settled: None
) -> None:
    data = tmp_path / "data.parquet"
    data.write_bytes(_pattern(MIB))
    time.sleep(0.05)
    localfs.hash_file_remembered(data, tmp_path / "digests")
    mtime = data.stat().st_mtime_ns
    time.sleep(0.05)
    with open(data, "r+b") as handle:  # same size, same inode, same mtime afterwards
        handle.write(b"CHANGED")
    os.utime(data, ns=(mtime, mtime))
    assert localfs.remembered_digest(data, tmp_path / "digests") is None
    digest, _, _ = localfs.hash_file_remembered(data, tmp_path / "digests")
    assert digest == hash_bytes(b"CHANGED" + _pattern(MIB)[7:])


def test_a_file_changed_moments_ago_is_not_remembered(tmp_path: Path, counted: list[Path]) -> None:
    data = tmp_path / "data.parquet"
    data.write_bytes(_pattern(MIB))
    for _ in range(2):
        assert localfs.hash_file_remembered(data, tmp_path / "digests").identity is None
    assert counted == [data, data]
    assert not (tmp_path / "digests").exists()


def test_a_damaged_entry_is_ignored(tmp_path: Path, settled: None) -> None:
    data = tmp_path / "data.parquet"
    data.write_bytes(_pattern(MIB))
    time.sleep(0.05)
    localfs.hash_file_remembered(data, tmp_path / "digests")
    (entry,) = (tmp_path / "digests").iterdir()
    identity = entry.read_text().split(" ", 1)[1]
    entry.write_text(f"md5:0123 {identity}")
    assert localfs.remembered_digest(data, tmp_path / "digests") is None
    digest, _, _ = localfs.hash_file_remembered(data, tmp_path / "digests")
    assert digest == hash_bytes(_pattern(MIB))


def test_small_files_and_no_cache_folder_are_just_hashed(
    tmp_path: Path, settled: None, counted: list[Path]
) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"tiny")
    large.write_bytes(_pattern(MIB))
    time.sleep(0.05)
    for _ in range(2):
        localfs.hash_file_remembered(small, tmp_path / "digests")
        localfs.hash_file_remembered(large, None)
    assert counted == [small, large, small, large]
    assert not (tmp_path / "digests").exists()
