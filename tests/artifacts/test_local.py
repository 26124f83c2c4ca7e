"""The artifact contract on a local folder, plus what only a real filesystem can show."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from loopml.artifacts import LocalArtifactStore
from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import hash_bytes
from loopml.core.errors import IntegrityError, UnsafePathError
from loopml.testing.artifact_contract import UNSAFE_PATHS, ArtifactStoreContract, FailingStream


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Everything under ``folder``: file bytes, link targets."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def _overwrite_in_place(path: Path, data: bytes) -> None:
    """Change a file's bytes without the store (the inode and its xattrs stay)."""
    with open(path, "r+b") as handle:
        handle.write(data)
        handle.truncate()
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


class TestLocalArtifactStore(ArtifactStoreContract):
    large_size = 20 * 1024 * 1024  # over two copy chunks

    @pytest.fixture
    def store(self, tmp_path: Path) -> BaseArtifactStore:
        return LocalArtifactStore(tmp_path / "store")

    def corrupt(self, store: BaseArtifactStore, path: str, data: bytes) -> None:
        assert isinstance(store, LocalArtifactStore)
        _overwrite_in_place(store.root / path, data)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret").write_bytes(b"do not read")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    root = tmp_path / "store"
    root.mkdir()
    return LocalArtifactStore(root)


def test_symlinked_folder_pointing_outside_is_refused_for_read_and_write(
    store: LocalArtifactStore, outside: Path
) -> None:
    (store.root / "escape").symlink_to(outside, target_is_directory=True)
    before = _tree(outside)
    attempts = [
        lambda: store.put_bytes(b"x", "escape/new"),
        lambda: store.put_bytes(b"x", "escape/secret"),
        lambda: store.put_stream(io.BytesIO(b"x"), "escape/deeper/new"),
        lambda: store.open_read("escape/secret"),
        lambda: store.info("escape/secret"),
        lambda: store.exists("escape/secret"),
        lambda: store.list("escape"),
        lambda: store.delete("escape/secret"),
    ]
    for attempt in attempts:
        with pytest.raises(UnsafePathError, match="outside the artifact root"):
            attempt()
    assert _tree(outside) == before


def test_symlinked_file_pointing_outside_is_refused_for_read_and_write(
    store: LocalArtifactStore, outside: Path, tmp_path: Path
) -> None:
    (store.root / "leak").symlink_to(outside / "secret")
    with pytest.raises(UnsafePathError):
        store.read_bytes("leak")
    with pytest.raises(UnsafePathError):
        store.get_file("leak", tmp_path / "copy")
    with pytest.raises(UnsafePathError):
        store.put_bytes(b"overwritten", "leak")
    assert (outside / "secret").read_bytes() == b"do not read"
    assert not (tmp_path / "copy").exists()


def test_listing_skips_symlinks_and_deleting_one_removes_only_the_link(
    store: LocalArtifactStore, outside: Path
) -> None:
    store.put_bytes(b"kept", "real")
    (store.root / "leak").symlink_to(outside / "secret")
    (store.root / "escape").symlink_to(outside, target_is_directory=True)
    assert [info.path for info in store.list()] == ["real"]
    store.delete("leak")
    assert not (store.root / "leak").is_symlink()
    assert (outside / "secret").read_bytes() == b"do not read"


def test_symlink_that_stays_inside_the_root_is_followed(store: LocalArtifactStore) -> None:
    store.put_bytes(b"v1", "models/v1/weights")
    (store.root / "latest").symlink_to(store.root / "models" / "v1", target_is_directory=True)
    assert store.read_bytes("latest/weights") == b"v1"


@pytest.mark.parametrize("path", UNSAFE_PATHS)
def test_unsafe_path_writes_nothing_anywhere_on_disk(tmp_path: Path, path: str) -> None:
    store = LocalArtifactStore(tmp_path / "deep" / "store")
    (tmp_path / "deep" / "store").mkdir(parents=True)
    with pytest.raises(UnsafePathError):
        store.put_bytes(b"payload", path)
    assert _tree(tmp_path) == {}


def test_failed_write_leaves_no_temporary_file_on_disk(store: LocalArtifactStore) -> None:
    store.put_bytes(b"old", "dir/model")
    with pytest.raises(OSError, match="connection dropped"):
        store.put_stream(io.BufferedReader(FailingStream(b"x" * 100_000)), "dir/model")
    with pytest.raises(IntegrityError):
        store.put_bytes(b"new", "dir/model", expected_digest=hash_bytes(b"other"))
    assert _tree(store.root) == {"dir/model": b"old"}


def test_store_folder_is_created_on_first_write(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "not" / "yet")
    assert store.list() == []
    store.put_bytes(b"1", "a")
    assert (tmp_path / "not" / "yet" / "a").read_bytes() == b"1"


def test_info_recomputes_the_digest_of_a_file_changed_in_place(
    store: LocalArtifactStore,
) -> None:
    store.put_bytes(b"original", "blob")
    _overwrite_in_place(store.root / "blob", b"changed!")
    assert store.info("blob").digest == hash_bytes(b"changed!")


def test_info_hashes_a_file_placed_without_the_store(store: LocalArtifactStore) -> None:
    (store.root / "dropped").write_bytes(b"by hand")
    assert store.info("dropped").digest == hash_bytes(b"by hand")


def test_get_file_refuses_a_file_changed_behind_the_stores_back(
    store: LocalArtifactStore, tmp_path: Path
) -> None:
    store.put_bytes(b"original", "blob")
    path = store.root / "blob"
    mtime = path.stat().st_mtime_ns
    with open(path, "r+b") as handle:  # same size, same mtime: the recorded digest stands
        handle.write(b"ORIGINAL")
    os.utime(path, ns=(mtime, mtime))
    with pytest.raises(IntegrityError, match="changed or damaged"):
        store.get_file("blob", tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_url_names_the_resolved_root(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    store = LocalArtifactStore(tmp_path / "alias")
    assert store.root == (tmp_path / "real").resolve()
    assert store.url == store.root.as_uri()
