"""Profile a dataset: per column its type, counts, distinct values and distribution.

:func:`profile_dataset` runs DuckDB over an Arrow table or Parquet files in streaming
aggregate passes (see :mod:`loopml.datasets.profile_sql`), so memory stays bounded by the
aggregate states, not the data: 10,000,000 rows x 20 columns profile in well under 2 GiB.
The resulting :class:`~loopml.core.profiles.DatasetProfile` is what a dataset version
stores and what monitoring later compares live data against.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.core import clock
from loopml.core.errors import ValidationError
from loopml.core.profiles import (
    QUANTILE_LEVELS,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Frequencies,
    Histogram,
    LengthStats,
    Quantiles,
)
from loopml.datasets.profile_sql import (
    STRING,
    Binning,
    ColumnPlan,
    distinct_counts,
    first_pass,
    plan_column,
    second_pass,
)

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

__all__ = ["ProfileSource", "profile_dataset"]

ProfileSource: TypeAlias = (
    "pa.Table | pd.DataFrame | pl.DataFrame | str | os.PathLike[str] "
    "| Sequence[str | os.PathLike[str]]"
)
"""An Arrow table, a pandas or polars DataFrame, a Parquet file, or a list of Parquet files."""


def profile_dataset(
    source: ProfileSource,
    *,
    top_k: int = 20,
    n_bins: int = 20,
    quantile_levels: Sequence[float] = QUANTILE_LEVELS,
    max_categories: int = 1000,
    approximate_above: int = 100_000,
    memory_limit: str = "1GB",
    threads: int | None = None,
    created_at: datetime | None = None,
) -> DatasetProfile:
    """Compute the profile of ``source`` in streaming passes (two, three for large data).

    A string column is **categorical** when it has at most ``max_categories`` distinct
    values and at most one distinct value per two non-null values (so identifiers and free
    text in small tables are not mistaken for categories); otherwise it is **text**.
    Numeric statistics cover the finite values: nulls, NaN and +/-Inf are counted apart
    (``n_nulls``, ``n_nan``, ``n_inf``), so a stray NaN never turns a mean into NaN.

    Args:
        source: A ``pyarrow.Table``, a pandas or polars DataFrame (converted to Arrow), the
            path of a Parquet file, or a list of Parquet paths read as one dataset (columns
            matched by name).
        top_k: How many of the most frequent values categorical columns keep.
        n_bins: Equal-width histogram bins of numeric columns, from min to max.
        quantile_levels: Quantile levels of numeric columns, increasing within [0, 1].
        max_categories: Most distinct values a categorical column may have.
        approximate_above: Above this many rows, distinct counts are HyperLogLog estimates
            (relative standard error 0.8%) and quantiles come from a t-digest, so memory
            and time do not grow with the number of distinct values; at or below it both
            are exact.
        memory_limit: DuckDB's memory limit, e.g. ``"1GB"``.
        threads: DuckDB worker threads; ``None`` uses one per core.
        created_at: When the profile is taken; defaults to now.

    Returns:
        The profile, one column profile per column in the source's order.

    Raises:
        ValidationError: A bad argument, a missing or unreadable Parquet file, or
            duplicate column names; ``field`` names the argument.

    >>> table = pa.table({
    ...     "age": [31, 45, None, 27, 38],
    ...     "plan": ["pro", "basic", "pro", None, "pro"],
    ... })
    >>> profile = profile_dataset(table)
    >>> age = profile.column("age")
    >>> print(age.kind, age.n_nulls, age.min, age.max, age.quantiles.values[5])
    numeric 1 27.0 45.0 34.5
    >>> plan = profile.column("plan")
    >>> print(plan.kind, plan.top_k.values, plan.top_k.counts)
    categorical ('pro', 'basic') (3, 1)
    """
    levels = _check_arguments(top_k, n_bins, quantile_levels, max_categories, approximate_above)
    with _connect(memory_limit, threads) as con:
        schema, n_rows_hint, source_sql, params = _open(con, source)
        plans = [plan_column(i, field.name, field.type) for i, field in enumerate(schema)]
        exact = n_rows_hint <= approximate_above
        first = first_pass(con, source_sql, params, plans, levels=levels, exact=exact)
        if not exact:
            estimates = distinct_counts(con, source_sql, params, plans)
            for stats, estimate in zip(first.columns, estimates, strict=True):
                stats["n_distinct"] = round(float(estimate))
        kinds = [
            _kind(plan, stats, max_categories)
            for plan, stats in zip(plans, first.columns, strict=True)
        ]
        binned: dict[int, tuple[ColumnPlan, Binning]] = {}
        counted: dict[int, ColumnPlan] = {}
        for i, (plan, stats, kind) in enumerate(zip(plans, first.columns, kinds, strict=True)):
            if kind is ColumnKind.NUMERIC and stats["min"] is not None:
                bins = n_bins if stats["max"] > stats["min"] else 1
                binned[i] = (plan, Binning(float(stats["min"]), float(stats["max"]), bins))
            elif kind is ColumnKind.CATEGORICAL and stats["n_valid"]:
                counted[i] = plan
        second = second_pass(con, source_sql, params, binned, counted)
    columns = tuple(
        _column_profile(
            plan, stats, kind, first.n_rows, second.get(i), levels=levels, exact=exact, top_k=top_k
        )
        for i, (plan, stats, kind) in enumerate(zip(plans, first.columns, kinds, strict=True))
    )
    return DatasetProfile(
        n_rows=first.n_rows, columns=columns, created_at=created_at or clock.now()
    )


def _connect(memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {"memory_limit": memory_limit, "preserve_insertion_order": False}
    if threads is not None:
        config["threads"] = threads
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        field = "threads" if "thread" in str(exc).lower() else "memory_limit"
        raise ValidationError(f"bad DuckDB setting: {exc}", field=field) from exc
    con.execute("SET enable_progress_bar = false")  # it would write to our caller's stdout
    return con


def _check_arguments(
    top_k: int, n_bins: int, levels: Sequence[float], max_categories: int, approx: int
) -> tuple[float, ...]:
    for name, value, least in (
        ("top_k", top_k, 0),
        ("n_bins", n_bins, 1),
        ("max_categories", max_categories, 0),
        ("approximate_above", approx, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValidationError(f"{name} must be an integer >= {least}", field=name)
    array = np.asarray(levels, dtype=np.float64)
    if array.ndim != 1 or np.any((array < 0) | (array > 1)) or np.any(np.diff(array) <= 0):
        raise ValidationError(
            "quantile_levels must increase strictly within [0, 1]", field="quantile_levels"
        )
    return tuple(array.tolist())


def _open(
    con: duckdb.DuckDBPyConnection, source: ProfileSource
) -> tuple[pa.Schema, int, str, dict[str, Any]]:
    """Make ``source`` readable by ``con``: its schema, row count, FROM clause and params."""
    table = _as_table(source)
    if table is not None:
        halves = [i for i, f in enumerate(table.schema) if pa.types.is_float16(f.type)]
        for i in halves:  # DuckDB does not read Arrow half floats
            table = table.set_column(i, table.field(i).name, table.column(i).cast(pa.float32()))
        _check_unique(table.schema.names)
        con.register("profiled_source", table)
        return table.schema, table.num_rows, "profiled_source", {}
    paths = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not paths:
        raise ValidationError("no Parquet files to profile", field="source")
    files: list[str] = []
    schemas: list[pa.Schema] = []
    n_rows = 0
    for path in paths:
        if not isinstance(path, str | os.PathLike):
            raise ValidationError(
                f"source must be a table or Parquet path(s), got {type(path).__name__}",
                field="source",
            )
        try:
            metadata = pq.read_metadata(path)
        except (OSError, pa.ArrowException) as exc:
            raise ValidationError(
                f"cannot read Parquet file {os.fspath(path)}: {exc}", field="source"
            ) from exc
        files.append(str(Path(path).resolve()))
        schemas.append(metadata.schema.to_arrow_schema())
        n_rows += metadata.num_rows
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive")  # int64 + double
    except pa.ArrowException as exc:
        raise ValidationError(f"the Parquet files' schemas differ: {exc}", field="source") from exc
    _check_unique(schema.names)
    return schema, n_rows, "read_parquet($files, union_by_name = true)", {"files": files}


def _as_table(source: ProfileSource) -> pa.Table | None:
    """``source`` as an Arrow table when it is a table or DataFrame, else None (paths)."""
    if isinstance(source, pa.Table):
        return source
    # A DataFrame can only exist if its library is imported: no need to import it here.
    pandas, polars = sys.modules.get("pandas"), sys.modules.get("polars")
    if pandas is not None and isinstance(source, pandas.DataFrame):
        return pa.Table.from_pandas(source, preserve_index=False)
    if polars is not None and isinstance(source, polars.DataFrame):
        return source.to_arrow()
    if isinstance(source, str | os.PathLike) or (
        isinstance(source, Sequence) and not isinstance(source, bytes)
    ):
        return None
    raise ValidationError(
        f"cannot profile a {type(source).__name__}: pass an Arrow table, a DataFrame or "
        "Parquet path(s)",
        field="source",
    )


def _check_unique(names: Sequence[str]) -> None:
    seen: set[str] = set()
    duplicates: set[str] = set()
    for name in names:
        (duplicates if name in seen else seen).add(name)
    if duplicates:
        raise ValidationError(
            f"duplicate column names: {', '.join(sorted(duplicates))}", field="source"
        )


def _kind(plan: ColumnPlan, stats: dict[str, Any], max_categories: int) -> ColumnKind:
    if plan.base != STRING:
        return ColumnKind(plan.base)
    n_distinct, n_valid = stats["n_distinct"], stats["n_valid"]
    if n_distinct <= max_categories and n_distinct <= max(1, n_valid // 2):
        return ColumnKind.CATEGORICAL
    return ColumnKind.TEXT


def _column_profile(
    plan: ColumnPlan,
    stats: dict[str, Any],
    kind: ColumnKind,
    n_rows: int,
    second: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None,
    *,
    levels: tuple[float, ...],
    exact: bool,
    top_k: int,
) -> ColumnProfile:
    n_valid = int(stats["n_valid"])
    fields: dict[str, Any] = {
        "n_distinct": min(int(stats["n_distinct"]), n_valid),
        "distinct_is_approximate": not exact and kind is not ColumnKind.BOOLEAN,
    }
    if kind is ColumnKind.NUMERIC:
        fields |= _numeric_fields(stats, second, levels, exact)
    elif kind in (ColumnKind.CATEGORICAL, ColumnKind.TEXT):
        fields["n_empty"] = int(stats["n_empty"])
        if n_valid:
            fields["lengths"] = LengthStats(
                int(stats["min_length"]), float(stats["mean_length"]), int(stats["max_length"])
            )
        if kind is ColumnKind.CATEGORICAL:
            values, counts = second if second else (np.array([], dtype=object), np.array([]))
            fields["top_k"] = Frequencies(
                tuple(values[:top_k].tolist()),
                tuple(counts[:top_k].tolist()),
                int(counts[top_k:].sum()),
            )
    elif kind is ColumnKind.BOOLEAN:
        n_true = int(stats["n_true"])
        fields["n_distinct"] = int(n_true > 0) + int(n_valid > n_true)
        pairs = sorted((("true", n_true), ("false", n_valid - n_true)), key=lambda p: -p[1])
        present = [(value, count) for value, count in pairs if count > 0][:top_k]
        fields["top_k"] = Frequencies(
            tuple(value for value, _ in present),
            tuple(count for _, count in present),
            n_valid - sum(count for _, count in present),
        )
    elif kind is ColumnKind.DATETIME:
        fields |= {"min_time": stats["min_time"], "max_time": stats["max_time"]}
    return ColumnProfile(
        name=plan.name,
        type=str(plan.type),
        kind=kind,
        n_rows=n_rows,
        n_nulls=n_rows - n_valid,
        **fields,
    )


def _numeric_fields(
    stats: dict[str, Any],
    second: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None,
    levels: tuple[float, ...],
    exact: bool,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "n_nan": int(stats.get("n_nan") or 0),
        "n_inf": int(stats.get("n_inf") or 0),
    }
    if stats["min"] is None:  # no finite value: nothing to summarise
        return fields
    low, high = float(stats["min"]), float(stats["max"])
    fields |= {
        "min": low,
        "max": high,
        "mean": float(np.clip(stats["mean"], low, high)),
        "std": float(stats["std"]),
    }
    if levels:
        # A t-digest can stray past the extremes and, between levels, out of order.
        values = np.maximum.accumulate(np.clip(np.asarray(stats["quantiles"], float), low, high))
        level_array = np.asarray(levels)
        values[level_array == 0.0] = low
        values[level_array == 1.0] = high
        fields["quantiles"] = Quantiles(levels, tuple(values.tolist()), approximate=not exact)
    if second is not None:
        edges, counts = second
        fields["histogram"] = Histogram(tuple(edges.tolist()), tuple(counts.tolist()))
    return fields
