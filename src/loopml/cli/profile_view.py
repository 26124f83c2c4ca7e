"""Rich views of dataset versions, profiles and diffs for ``loopml data``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from loopml.cli.render import format_time, table
from loopml.core.datasets import DatasetVersion
from loopml.core.profiles import ColumnKind, ColumnProfile, DatasetProfile

if TYPE_CHECKING:
    from loopml.datasets.diff import DatasetDiff

__all__ = ["diff_view", "profile_table", "version_summary"]


def version_summary(version: DatasetVersion) -> Table:
    """Key facts of a version and its columns."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for key, value in (
        ("version", version.ref),
        ("rows", f"{version.n_rows:,}"),
        ("bytes", f"{version.n_bytes:,}"),
        ("files", str(len(version.files))),
        ("content", version.content_hash),
        ("source", version.source_uri or "(in-memory data)"),
        ("created", f"{format_time(version.created_at)} by {version.created_by or '?'}"),
        ("description", version.description),
        ("id", version.id),
    ):
        facts.add_row(key, Text(value))
    return facts


def _stat(column: ColumnProfile) -> str:
    if column.kind is ColumnKind.NUMERIC and column.mean is not None:
        return f"min {column.min:.4g}  mean {column.mean:.4g}  max {column.max:.4g}"
    if column.top_k is not None and column.top_k.values:
        top = ", ".join(
            f"{v} ({c})" for v, c in zip(column.top_k.values[:3], column.top_k.counts, strict=False)
        )
        return f"top: {top}"
    if column.lengths is not None:
        return f"length {column.lengths.min}-{column.lengths.max}"
    if column.min_time is not None:
        return f"{column.min_time} .. {column.max_time}"
    return ""


def profile_table(document: Mapping[str, Any]) -> Table:
    """One row per column: type, nulls, distinct values and the kind's main statistics."""
    profile = DatasetProfile.from_dict(document)
    rows = []
    for column in profile.columns:
        null_rate = column.n_nulls / column.n_rows if column.n_rows else 0.0
        distinct = "" if column.n_distinct is None else f"{column.n_distinct:,}"
        if column.distinct_is_approximate and distinct:
            distinct = "~" + distinct
        rows.append(
            (
                column.name,
                column.type,
                column.kind.value,
                f"{null_rate:.1%}",
                distinct,
                _stat(column),
            )
        )
    return table(
        f"Profile: {profile.n_rows:,} rows",
        ["column", "type", "kind", "nulls", "distinct", "statistics"],
        rows,
    )


_METHODS = {
    "psi": "PSI",
    "jensen_shannon": "JS",
    "wasserstein": "Wasserstein",
    "ks": "KS",
    "chi_square": "chi²",
}


def diff_view(diff: DatasetDiff) -> Iterator[RenderableType]:
    """The schema changes, the row counts and a per-column table of a diff."""
    change = diff.new_n_rows - diff.old_n_rows
    yield Text(
        f"{diff.old} -> {diff.new}: rows {diff.old_n_rows:,} -> {diff.new_n_rows:,} ({change:+,})"
    )
    for name, dtype in diff.added:
        yield Text(f"  + column {name} ({dtype})", style="green")
    for name, dtype in diff.removed:
        yield Text(f"  - column {name} ({dtype})", style="red")
    for column in diff.retyped:
        yield Text(
            f"  ~ column {column.name}: {column.old_type} -> {column.new_type}", style="yellow"
        )
    if not diff.schema_changed:
        yield Text("  schema unchanged")
    result = Table(title="Columns in both versions", title_justify="left", header_style="bold")
    result.add_column("column", no_wrap=True)
    result.add_column("nulls", no_wrap=True)
    result.add_column("mean", no_wrap=True, justify="right")
    result.add_column("drift", no_wrap=True)
    result.add_column("score", justify="right", no_wrap=True)
    result.add_column("", no_wrap=True)
    for c in diff.columns:
        nulls = (
            f"{c.old_null_rate:.1%}"
            if c.old_null_rate == c.new_null_rate
            else (f"{c.old_null_rate:.1%}→{c.new_null_rate:.1%}")
        )
        mean = (
            ""
            if c.old_mean is None or c.new_mean is None
            else (f"{c.old_mean:.4g}→{c.new_mean:.4g}")
        )
        score = "" if c.drift_score is None else f"{c.drift_score:.3f}"
        result.add_row(
            c.name,
            nulls,
            mean,
            _METHODS.get(c.drift_method or "", c.drift_method or ""),
            score,
            Text("DRIFT", style="bold red") if c.drifted else Text(""),
        )
    yield result
