"""The benchmark's input: one ~1 GiB Parquet file of random data, generated once and cached.

Random float64 and int64 columns plus random base64 text, so neither Parquet's encodings nor
its compression shrink it: the file on disk is about as large as the data. The generator is
seeded, so a regenerated file has the same rows. The file is written under a temporary name
and renamed, so a run interrupted while generating never leaves a short file behind to be
taken for the cached one.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

GIB = 1024**3
ROWS_PER_GROUP = 500_000
SEED = 20_260_401


def data_path(data_dir: Path, n_bytes: int) -> Path:
    """Where the cached file of (at least) ``n_bytes`` lives; the name says its size."""
    size = f"{n_bytes // GIB}GiB" if n_bytes % GIB == 0 else f"{n_bytes}B"
    return data_dir / f"register-{size}-v1.parquet"


def _batch(rng: np.random.Generator, start: int, n_rows: int) -> pa.RecordBatch:
    text = base64.b64encode(rng.bytes(n_rows * 12)).decode()  # 16 characters per row
    return pa.record_batch(
        {
            "id": pa.array(np.arange(start, start + n_rows, dtype=np.int64)),
            "x0": pa.array(rng.standard_normal(n_rows)),
            "x1": pa.array(rng.random(n_rows)),
            "x2": pa.array(rng.standard_normal(n_rows) * 1e3),
            "count": pa.array(rng.integers(0, 2**62, n_rows, dtype=np.int64)),
            "code": pa.array([text[i : i + 16] for i in range(0, 16 * n_rows, 16)]),
        }
    )


def ensure_parquet(data_dir: Path, n_bytes: int = GIB) -> Path:
    """The cached Parquet file of at least ``n_bytes``, generated (seeded) if missing."""
    target = data_path(data_dir, n_bytes)
    if target.exists():
        return target
    data_dir.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    rng = np.random.default_rng(SEED)
    start = 0
    try:
        with pq.ParquetWriter(temp, _batch(rng, 0, 1).schema, use_dictionary=False) as writer:
            while temp.stat().st_size < n_bytes:
                writer.write_batch(_batch(rng, start, ROWS_PER_GROUP), ROWS_PER_GROUP)
                start += ROWS_PER_GROUP
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target


if __name__ == "__main__":  # generate on its own: python -m register_bench.data [DIR]
    import sys
    import tempfile

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir())
    path = ensure_parquet(folder / "loopml-bench-data")
    print(path, path.stat().st_size, pq.read_metadata(path).num_rows)
