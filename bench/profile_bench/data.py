"""The benchmark table: 20 columns of a typical tabular dataset, written as Parquet.

12 numeric (8 float, 4 integer; every other float with 5% nulls), 5 categorical (10 to 42
categories, 2% nulls), 2 free-text columns (almost every value distinct) and 1 boolean.
Generated in chunks of at most 1,000,000 rows, one Parquet row group each, so 10,000,000
rows never sit in memory at once; deterministic for a given number of rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_ROWS = 1_000_000
CATEGORIES = np.array([f"segment_{k:02d}" for k in range(50)])
WORDS = np.array(["late", "delivery", "refund", "great", "support", "price", "broken", "fast"])


def chunk(n_rows: int, seed: int) -> pa.Table:
    """One chunk of ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for j in range(8):
        values = rng.normal(10.0 * j, 1.0 + j, n_rows)
        mask = rng.random(n_rows) < 0.05 if j % 2 else None
        columns[f"float_{j}"] = pa.array(values, mask=mask)
    for j in range(4):
        columns[f"int_{j}"] = pa.array(rng.integers(0, 10 ** (j + 2), n_rows))
    for j in range(5):
        labels = CATEGORIES[rng.integers(0, 10 + 8 * j, n_rows)]
        columns[f"category_{j}"] = pa.array(labels, mask=rng.random(n_rows) < 0.02)
    for j in range(2):
        words = WORDS[rng.integers(0, WORDS.size, (n_rows, 2))]
        ids = rng.integers(0, 10**9, n_rows).astype(str)
        text = np.char.add(np.char.add(np.char.add(words[:, 0], " "), words[:, 1]), ids)
        columns[f"text_{j}"] = pa.array(text)
    columns["flag"] = pa.array(rng.random(n_rows) < 0.3)
    return pa.table(columns)


def write_parquet(path: Path, n_rows: int) -> Path:
    """Write ``n_rows`` rows to ``path`` in chunks; returns ``path``."""
    writer: pq.ParquetWriter | None = None
    try:
        for index, start in enumerate(range(0, n_rows, CHUNK_ROWS)):
            table = chunk(min(CHUNK_ROWS, n_rows - start), seed=index)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path
