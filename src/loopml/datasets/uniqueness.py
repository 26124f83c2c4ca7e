"""Exact duplicate counts over a stream of chunks, in DuckDB.

Uniqueness is the one check that a chunk cannot settle alone: a value in the first chunk
may come back in the last. :class:`DuplicateCounter` copies each tracked column's non-null
values, with their row numbers, into an embedded DuckDB database, which spills to a
private temporary directory when the values outgrow memory; at the end one ``GROUP BY``
per column finds the values that occur more than once. Values, not hashes, are compared,
so a count is exact.

>>> import polars as pl
>>> with DuplicateCounter(["id"]) as counter:
...     counter.update(pl.DataFrame({"id": [1, 2, 3]}), offset=0)
...     counter.update(pl.DataFrame({"id": [3, 4, None, None]}), offset=3)
...     counter.duplicates("id")
Duplicates(n_rows=2, examples=((2, 3), (3, 3)))
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import duckdb
import polars as pl

__all__ = ["DuplicateCounter", "Duplicates"]


@dataclass(frozen=True, slots=True)
class Duplicates:
    """Rows whose value occurs more than once in a column.

    Attributes:
        n_rows: All rows in a group of equal non-null values, the first one included.
        examples: ``(row, value)`` of the first few such rows, in row order.
    """

    n_rows: int
    examples: tuple[tuple[int, Any], ...]


class DuplicateCounter:
    """Collects the values of some columns chunk by chunk, then counts duplicates.

    Args:
        columns: The columns to track; chunks may leave any of them out, and
            :meth:`update` may add more.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self._tables = {name: f"t{i}" for i, name in enumerate(columns)}
        self._created: set[str] = set()
        self._temp_dir = tempfile.mkdtemp(prefix="loopml-unique-")
        self._con = duckdb.connect(":memory:", config={"temp_directory": self._temp_dir})

    def update(
        self, frame: pl.DataFrame, *, offset: int, columns: Iterable[str] | None = None
    ) -> None:
        """Add a chunk's values; ``offset`` is the row number of its first row.

        Args:
            frame: The chunk.
            offset: The 0-based row number of ``frame``'s first row in the whole data.
            columns: Which tracked columns to take from this chunk (default: all present).
        """
        names = list(self._tables if columns is None else columns)
        row = (pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias("row")
        for name in names:
            if name not in frame.columns:
                continue
            values = frame.select(pl.col(name).alias("v"), row).filter(pl.col("v").is_not_null())
            table = self._tables.setdefault(name, f"t{len(self._tables)}")
            self._con.register("chunk", values.to_arrow())
            try:
                if table in self._created:
                    self._con.execute(f"INSERT INTO {table} SELECT v, row FROM chunk")
                else:
                    self._con.execute(f"CREATE TABLE {table} AS SELECT v, row FROM chunk")
                    self._created.add(table)
            finally:
                self._con.unregister("chunk")

    def duplicates(self, column: str, *, max_examples: int = 5) -> Duplicates:
        """Count the rows of ``column`` whose value is not unique, with a few examples."""
        table = self._tables.get(column)
        if table not in self._created:
            return Duplicates(0, ())
        groups = f"SELECT count(*) AS n FROM {table} GROUP BY v HAVING count(*) > 1"
        ((n_rows,),) = self._con.execute(f"SELECT coalesce(sum(n), 0) FROM ({groups})").fetchall()
        if n_rows == 0:
            return Duplicates(0, ())
        repeated = (
            f"FROM {table} SEMI JOIN "
            f"(SELECT v FROM {table} GROUP BY v HAVING count(*) > 1) USING (v)"
        )
        first = self._con.sql(
            f"SELECT row, v {repeated} ORDER BY row LIMIT {int(max_examples)}"
        ).pl()
        examples = zip(first["row"].to_list(), first["v"].to_list(), strict=True)
        return Duplicates(int(n_rows), tuple(examples))

    def close(self) -> None:
        """Drop the collected values and their temporary directory."""
        self._con.close()
        shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> DuplicateCounter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
