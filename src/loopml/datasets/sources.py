"""What ``register`` accepts, turned into local Parquet files without loading it whole.

A source becomes a :class:`StagedData`: Parquet files on local disk (the user's own files
when they already are Parquet, so nothing is rewritten; otherwise files written batch by
batch into a staging folder), their Arrow schema and row counts. Accepted:

* a pandas or polars DataFrame, a ``pyarrow.Table`` or ``pyarrow.RecordBatchReader``;
* a Parquet file (``.parquet``, ``.pq``), a CSV file (``.csv``, ``.tsv``, optionally
  ``.gz``), or a folder of them (every file below it, in name order; all must share
  one schema).

Errors name the column or line at fault and the fix: a column of mixed types, a CSV row
with the wrong number of fields, an unsupported file type, empty data.
"""

from __future__ import annotations

import contextlib
import gzip
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loopml.core.errors import ValidationError

__all__ = [
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "StagedData",
    "arrow_schema_json",
    "stage",
]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
ROW_GROUP_SIZE = 1_000_000
_CSV_BLOCK = 16 * 1024 * 1024


@dataclass(frozen=True)
class StagedFile:
    """One local Parquet file of the data and its name inside the version."""

    name: str
    path: Path
    n_rows: int


@dataclass(frozen=True)
class StagedData:
    """A source as local Parquet files, ready to hash, check and store."""

    files: tuple[StagedFile, ...]
    schema: pa.Schema
    source_uri: str
    n_rows: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_rows", sum(f.n_rows for f in self.files))

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self.files]


def arrow_schema_json(schema: pa.Schema) -> list[dict[str, Any]]:
    """Columns as ``[{"name", "type", "nullable"}]``, the form stored with a version.

    >>> arrow_schema_json(pa.schema([("age", pa.int64())]))
    [{'name': 'age', 'type': 'int64', 'nullable': True}]
    """
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


@contextlib.contextmanager
def stage(data: object) -> Iterator[StagedData]:
    """Stage ``data`` as Parquet files; staging files are removed on exit.

    Raises:
        ValidationError: unsupported input, mixed types, a broken CSV row, empty data.
    """
    with tempfile.TemporaryDirectory(prefix="loopml-stage-") as folder:
        staged = _stage(data, Path(folder))
        if staged.n_rows == 0 or len(staged.schema) == 0:
            raise ValidationError(
                f"data: {staged.source_uri or 'the data'} is empty ({staged.n_rows} rows, "
                f"{len(staged.schema)} columns): register data with at least one row",
                field="data",
            )
        yield staged


def _stage(data: object, folder: Path) -> StagedData:
    if isinstance(data, str | Path):
        return _stage_path(Path(data).expanduser(), folder)
    table_or_reader = _to_arrow(data)
    if isinstance(table_or_reader, pa.Table):
        batches: Iterator[pa.RecordBatch] = iter(table_or_reader.to_batches(ROW_GROUP_SIZE))
        schema = table_or_reader.schema
    else:
        batches, schema = iter(table_or_reader), table_or_reader.schema
    target = folder / "data.parquet"
    n_rows = _write_parquet(batches, schema, target, what="data")
    return StagedData((StagedFile("data.parquet", target, n_rows),), _plain(schema), "")


def _to_arrow(data: object) -> pa.Table | pa.RecordBatchReader:
    if isinstance(data, pa.Table | pa.RecordBatchReader):
        return data
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(data)
    if module == "polars" and hasattr(data, "to_arrow"):
        table = data.to_arrow()
        assert isinstance(table, pa.Table)
        return table
    raise ValidationError(
        f"data: cannot register a {type(data).__name__}: pass a pandas or polars DataFrame, "
        f"a pyarrow Table, or the path of a Parquet or CSV file or folder",
        field="data",
    )


def _from_pandas(frame: Any) -> pa.Table:
    for name in frame.columns:  # find the column at fault before pyarrow's terser error
        column = frame[name]
        if column.dtype == object:
            kinds = {type(v).__name__ for v in column.dropna().head(100_000)}
            if len(kinds) > 1:
                raise ValidationError(
                    f"column {name!r} mixes types ({', '.join(sorted(kinds))}): convert it "
                    f"to one type first, e.g. df[{name!r}] = df[{name!r}].astype(str)",
                    field=f"columns.{name}",
                )
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValidationError(
            f"data: cannot convert to Arrow ({exc}); give the column one type", field="data"
        ) from None


def _stage_path(path: Path, folder: Path) -> StagedData:
    if not path.exists():
        raise ValidationError(f"data: {path} does not exist", field="data")
    if path.is_dir():
        members = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
        if not members:
            raise ValidationError(f"data: folder {path} holds no files", field="data")
        names = [p.relative_to(path).as_posix() for p in members]
    else:
        members, names = [path], [path.name]
    staged: list[StagedFile] = []
    schema: pa.Schema | None = None
    seen: dict[str, Path] = {}
    for member, name in zip(members, names, strict=True):
        item = _stage_file(member, name, folder / f"part-{len(staged):05d}.parquet")
        if item.name in seen:
            raise ValidationError(
                f"data: {seen[item.name].name} and {member.name} would both be stored as "
                f"{item.name!r}; rename one of them",
                field="data",
            )
        seen[item.name] = member
        file_schema = _plain(pq.read_schema(item.path))
        if schema is not None and not _comparable(file_schema).equals(_comparable(schema)):
            raise ValidationError(
                f"data: {member} has another schema than the files before it "
                f"({_schema_difference(schema, file_schema)}); a folder's files must share "
                "their columns and types",
                field="data",
            )
        schema = file_schema
        staged.append(item)
    assert schema is not None
    return StagedData(tuple(staged), schema, path.resolve().as_uri())


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def _stage_file(path: Path, name: str, target: Path) -> StagedFile:
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        try:
            metadata = pq.read_metadata(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ValidationError(
                f"data: {path} is not a readable Parquet file ({exc})", field="data"
            ) from None
        return StagedFile(name, path, metadata.num_rows)
    if lower.endswith(CSV_SUFFIXES):
        n_rows = _csv_to_parquet(path, target)
        stem = name[: -len(next(s for s in CSV_SUFFIXES if lower.endswith(s)))]
        return StagedFile(f"{stem}.parquet", target, n_rows)
    raise ValidationError(
        f"data: {path.name}: unsupported file type; register Parquet "
        f"({', '.join(PARQUET_SUFFIXES)}) or CSV ({', '.join(CSV_SUFFIXES)}) files, or "
        "load the data into a DataFrame first",
        field="data",
    )


def _csv_to_parquet(path: Path, target: Path) -> int:
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        number = row.number if row.number is not None and row.number >= 0 else None
        if number is None:  # the streaming reader does not count lines: find the row
            number = _line_of(path, row.text)
        bad_rows.append(
            f"{path.name}, line {number}: expected {row.expected_columns} fields, got "
            f"{row.actual_columns} ({row.text[:80]!r}); fix or remove the row"
        )
        return "error"

    delimiter = "\t" if ".tsv" in path.name.lower() else ","
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        )
        return _write_parquet(iter(reader), reader.schema, target, what=path.name)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        if bad_rows:
            raise ValidationError(bad_rows[0], field="data") from None
        raise ValidationError(
            f"{path.name}: {_first_line(exc)}; make the column's values one type (or quote "
            "them as text) and register again",
            field="data",
        ) from None


def _line_of(path: Path, text: str) -> int | str:
    """The 1-based number of the first line of ``path`` that reads ``text`` (error path only)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as lines:
        for number, line in enumerate(lines, start=1):
            if line.rstrip("\r\n") == text:
                return number
    return "?"


def _write_parquet(
    batches: Iterator[pa.RecordBatch], schema: pa.Schema, target: Path, *, what: str
) -> int:
    n_rows = 0
    with pq.ParquetWriter(target, _plain(schema), compression="zstd") as writer:
        for batch in batches:
            if batch.num_rows:
                writer.write_batch(batch.replace_schema_metadata(None), ROW_GROUP_SIZE)
                n_rows += batch.num_rows
    return n_rows


def _plain(schema: pa.Schema) -> pa.Schema:
    """The schema without pandas' or Arrow's writer metadata (it is not the data)."""
    return schema.remove_metadata()


def _comparable(schema: pa.Schema) -> pa.Schema:
    """The schema with string and binary widths unified: ``large_string`` reads as ``string``.

    pandas writes ``large_string`` and a CSV reads as ``string``; the values are the same.
    """
    widths = {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}
    return pa.schema([pa.field(f.name, widths.get(f.type, f.type), f.nullable) for f in schema])


def _schema_difference(expected: pa.Schema, found: pa.Schema) -> str:
    expected_types = {f.name: str(f.type) for f in expected}
    found_types = {f.name: str(f.type) for f in found}
    for name in sorted(expected_types.keys() | found_types.keys()):
        if expected_types.get(name) != found_types.get(name):
            return (
                f"column {name!r}: {expected_types.get(name, 'missing')} before, "
                f"{found_types.get(name, 'missing')} here"
            )
    return "column order differs"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
