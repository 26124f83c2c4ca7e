"""A dataset version with its data within reach: what the SDK hands out.

:class:`DatasetVersionHandle` carries the frozen :class:`~loopml.core.datasets.DatasetVersion`
record (its fields read through, e.g. ``handle.version``, ``handle.n_rows``) and reads the
data through the service that found it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from loopml.core.datasets import DatasetVersion

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from loopml.datasets.service import DatasetService

__all__ = ["DatasetVersionHandle"]


class DatasetVersionHandle:
    """A version record plus its data.

    Attributes:
        record: The frozen version record.
    """

    def __init__(self, record: DatasetVersion, service: DatasetService) -> None:
        self.record = record
        self._service = service

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def __repr__(self) -> str:
        r = self.record
        return f"<DatasetVersion {r.ref} rows={r.n_rows} columns={len(r.arrow_schema)}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DatasetVersionHandle):
            return self.record == other.record
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.record.id)

    def path(self) -> Path:
        """A local folder with the version's Parquet files under their names."""
        return self._service.path(self.record)

    def files(self) -> list[Path]:
        """The version's Parquet files on local disk."""
        return self._service.local_files(self.record)

    def iter_batches(
        self, batch_size: int = 65_536, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The rows as Arrow record batches, for data larger than memory."""
        return self._service.iter_batches(self.record, batch_size=batch_size, columns=columns)

    def to_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        return self._service.read_table(self.record, columns=columns)

    def to_pandas(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        frame: pd.DataFrame = self.to_arrow(columns).to_pandas()
        return frame

    def to_polars(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        import polars as pl

        frame = pl.from_arrow(self.to_arrow(columns))
        assert isinstance(frame, pl.DataFrame)
        return frame
