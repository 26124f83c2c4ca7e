"""What both sides of the registration benchmark share (standard library only).

:func:`warm_read` is the same warm-up for every measured step of either tool: read the
whole input once, so it is in the page cache whoever reads it first, then flush dirty
pages, so writes left over from an earlier step are not written back during the next one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

DATASET = "bench"
_CHUNK = 8 * 1024 * 1024


def warm_read(path: Path) -> float:
    """Read ``path`` to its end, then ``sync``; returns the seconds it took."""
    start = time.perf_counter()
    buffer = bytearray(_CHUNK)
    with open(path, "rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass
    os.sync()
    return time.perf_counter() - start


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def emit_result(result: dict[str, Any]) -> None:
    """The worker protocol of ``tracking_bench``: one JSON line ``{"result": ...}``."""
    sys.stdout.write(json.dumps({"result": result}) + "\n")
    sys.stdout.flush()


def durable_copy(source: Path, folder: Path) -> dict[str, Any]:
    """The floor under any durable copy of ``source``: a kernel copy, then ``fsync``.

    No hashing and no records: ``copy_file_range`` into ``folder`` (where it is not
    available, ``shutil.copyfile``), then ``fsync``, each timed, after the same warm-up.
    """
    import shutil

    folder.mkdir(parents=True)
    target = folder / "copy"
    warm_s = warm_read(source)
    load_before = load()
    start = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        if hasattr(os, "copy_file_range"):
            while os.copy_file_range(src.fileno(), dst.fileno(), 64 * 1024 * 1024):
                pass
        else:
            shutil.copyfileobj(src, dst, _CHUNK)
            dst.flush()
        copied = time.perf_counter()
        os.fsync(dst.fileno())
    synced = time.perf_counter()
    return {
        "seconds": synced - start,
        "copy_s": copied - start,
        "fsync_s": synced - copied,
        "warm_read_s": warm_s,
        "load": load_before,
    }
