"""Throughput of LocalArtifactStore.put_file on a 1 GiB file (a measurement, not a test).

Run: ``.venv/bin/python tests/artifacts/measure_put_file.py [size_mib]``. Writes the source
file and the store under a temporary folder in /tmp and removes both. For scale it also
times a plain ``shutil.copyfile`` + fsync (no hashing) and hashing alone.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from loopml.artifacts import LocalArtifactStore
from loopml.artifacts.hashing import hash_file


def _make_source(path: Path, size: int) -> None:
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
        handle.write(block[: size % len(block)])
        handle.flush()
        os.fsync(handle.fileno())


def _rate(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:8.0f} MB/s ({seconds:.2f} s)"


def main(size_mib: int = 1024) -> None:
    size = size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        source = Path(folder) / "source.bin"
        _make_source(source, size)
        store = LocalArtifactStore(Path(folder) / "store")
        for attempt in range(3):
            started = time.perf_counter()
            info = store.put_file(source, f"runs/{attempt}/model.bin")
            print(f"put_file #{attempt}:          {_rate(size, time.perf_counter() - started)}")
            assert info.size == size
            store.delete(f"runs/{attempt}")
        started = time.perf_counter()
        copy = Path(folder) / "copy.bin"
        shutil.copyfile(source, copy)
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
        print(f"copyfile + fsync (no hash): {_rate(size, time.perf_counter() - started)}")
        started = time.perf_counter()
        hash_file(source)
        print(f"hash_file alone:           {_rate(size, time.perf_counter() - started)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
