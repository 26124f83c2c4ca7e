"""What the dataset pages show, worked out from the stored records (no I/O but the store).

Pure functions turn a profile, a validation report or a diff into small view records the
templates lay out; the lineage helpers read edges and keep only what the user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from loopml.core.auth import Principal
from loopml.core.datasets import DatasetVersion
from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.profiles import ColumnKind, ColumnProfile, DatasetProfile
from loopml.core.validation_report import ValidationReport
from loopml.server.context import ServerContext
from loopml.server.ui.base import url_path
from loopml.server.ui.dataset_charts import (
    WIDE_ROWS_WIDTH,
    BarRow,
    Chart,
    bar_rows_chart,
    histogram_chart,
    short_number,
)

if TYPE_CHECKING:
    from loopml.datasets.diff import DatasetDiff

__all__ = [
    "NULL_CHART_COLUMNS",
    "ColumnView",
    "DataUse",
    "VersionStatus",
    "column_views",
    "drift_chart",
    "null_rate_chart",
    "percent",
    "read_profile",
    "read_validation",
    "run_data",
    "version_href",
    "version_runs",
    "version_status",
]

NULL_CHART_COLUMNS = 40


@dataclass(frozen=True, slots=True)
class ColumnView:
    """One column of a version page: its facts and chart."""

    index: int
    name: str
    type: str
    kind: str
    stats: tuple[tuple[str, str], ...]
    chart: Chart | None


@dataclass(frozen=True, slots=True)
class VersionStatus:
    """A version's validation outcome, as a CSS-friendly word and a sentence."""

    state: str  # passed, failed, none, unreadable
    text: str


@dataclass(frozen=True, slots=True)
class DataUse:
    """One lineage edge as a page shows it: a run or a version on the other end."""

    direction: str
    role: str
    label: str
    href: str
    created_at: datetime
    n_rows: int | None = None


def percent(part: float, whole: float) -> str:
    """``part`` of ``whole`` as a percentage with one decimal.

    >>> percent(1, 3), percent(0, 0)
    ('33.3%', '0.0%')
    """
    return f"{(part / whole if whole else 0.0):.1%}"


def read_profile(version: DatasetVersion) -> tuple[DatasetProfile | None, str]:
    """The version's profile, or None and why it cannot be read ("" when there is none)."""
    if version.profile is None:
        return None, ""
    try:
        return DatasetProfile.from_dict(version.profile), ""
    except ValidationError as exc:
        return None, f"The stored profile cannot be read: {exc}"


def read_validation(version: DatasetVersion) -> tuple[ValidationReport | None, str]:
    """The version's validation report, or None and why there is none to show."""
    if version.validation is None:
        return None, ""
    try:
        return ValidationReport.from_dict(version.validation), ""
    except ValidationError as exc:
        return None, f"The stored validation report cannot be read: {exc}"


def version_status(version: DatasetVersion) -> VersionStatus:
    """Passed, failed (how many checks) or not validated."""
    report, problem = read_validation(version)
    if problem:
        return VersionStatus("unreadable", "unreadable report")
    if report is None:
        return VersionStatus("none", "not validated")
    if report.passed:
        return VersionStatus("passed", f"passed ({report.n_checks} checks)")
    return VersionStatus("failed", f"{len(report.failures)} of {report.n_checks} checks failed")


def _stats(column: ColumnProfile) -> list[tuple[str, str]]:
    rows = [("nulls", f"{column.n_nulls:,} ({percent(column.n_nulls, column.n_rows)})")]
    if column.n_distinct is not None:
        approx = "≈ " if column.distinct_is_approximate else ""
        rows.append(("distinct", f"{approx}{column.n_distinct:,}"))
    if column.kind is ColumnKind.NUMERIC:
        for name in ("min", "max", "mean", "std"):
            value = getattr(column, name)
            if value is not None:
                rows.append((name, f"{value:.6g}"))
        if column.quantiles is not None and 0.5 in column.quantiles.levels:
            median = column.quantiles.values[column.quantiles.levels.index(0.5)]
            rows.append(("median", f"{median:.6g}"))
        rows += [(n, f"{v:,}") for n, v in (("NaN", column.n_nan), ("±Inf", column.n_inf)) if v]
    if column.kind is ColumnKind.DATETIME:
        rows += [("earliest", column.min_time or ""), ("latest", column.max_time or "")]
    if column.lengths is not None:
        lengths = column.lengths
        rows.append(("length", f"{lengths.min} to {lengths.max} (mean {lengths.mean:.3g})"))
    if column.n_empty:
        rows.append(("empty strings", f"{column.n_empty:,}"))
    return rows


def _chart(column: ColumnProfile) -> Chart | None:
    if column.histogram is not None and any(column.histogram.counts):
        histogram = column.histogram
        return histogram_chart(
            histogram.edges,
            histogram.counts,
            label=f"Histogram of {column.name} from {short_number(histogram.edges[0])} "
            f"to {short_number(histogram.edges[-1])}",
        )
    if column.top_k is not None and column.top_k.n_total:
        top = column.top_k
        rows = [
            BarRow(value, count, f"{count:,} ({percent(count, top.n_total)})")
            for value, count in zip(top.values, top.counts, strict=True)
        ]
        if top.n_other:
            text = f"{top.n_other:,} ({percent(top.n_other, top.n_total)})"
            rows.append(BarRow("(all other values)", top.n_other, text, css="bar-other"))
        return bar_rows_chart(rows, label=f"Most frequent values of {column.name}")
    return None


def column_views(profile: DatasetProfile) -> list[ColumnView]:
    """One view per profiled column, in table order."""
    return [
        ColumnView(
            index=i,
            name=column.name,
            type=column.type,
            kind=column.kind.value,
            stats=tuple(_stats(column)),
            chart=_chart(column),
        )
        for i, column in enumerate(profile.columns)
    ]


def null_rate_chart(profile: DatasetProfile) -> Chart | None:
    """The share of nulls per column, on one 0-100% scale.

    A wide table (more than :data:`NULL_CHART_COLUMNS` columns) shows only the columns
    that have nulls, so the chart stays readable; None when that leaves nothing.
    """
    columns = list(profile.columns)
    if len(columns) > NULL_CHART_COLUMNS:
        columns = [column for column in columns if column.n_nulls]
    rows = [
        BarRow(
            column.name,
            column.n_nulls / column.n_rows if column.n_rows else 0.0,
            percent(column.n_nulls, column.n_rows)
            + (f" ({column.n_nulls:,})" if column.n_nulls else ""),
        )
        for column in columns
    ]
    if not rows:
        return None
    return bar_rows_chart(
        rows, label="Share of null values per column", scale_max=1.0, width=WIDE_ROWS_WIDTH
    )


class _Names:
    """Project names by id, each fetched once, and whether the user may read the project."""

    def __init__(self, ctx: ServerContext, principal: Principal) -> None:
        self._ctx = ctx
        self._principal = principal
        self._names: dict[str, str] = {}

    def readable(self, project_id: str) -> bool:
        if self._ctx.config.auth_required and self._principal.role_in(project_id) is None:
            return False
        try:
            self.name(project_id)
        except NotFoundError:
            return False
        return True

    def name(self, project_id: str) -> str:
        if project_id not in self._names:
            self._names[project_id] = self._ctx.metadata.get_project(project_id).name
        return self._names[project_id]


def version_href(project_name: str, version: DatasetVersion) -> str:
    """The address of a version's page."""
    return url_path("p", project_name, "d", version.dataset_name, "v", str(version.version))


def run_data(ctx: ServerContext, principal: Principal, run_id: str) -> list[DataUse]:
    """The dataset versions a run read or wrote that the user may see, oldest edge first."""
    names = _Names(ctx, principal)
    uses = []
    for edge in ctx.metadata.list_lineage(run_id=run_id):
        version = ctx.metadata.get_dataset_version(edge.dataset_version_id)
        if not names.readable(version.project_id):
            continue
        uses.append(
            DataUse(
                direction=edge.direction.value,
                role=edge.role,
                label=version.ref,
                href=version_href(names.name(version.project_id), version),
                created_at=edge.created_at,
                n_rows=version.n_rows,
            )
        )
    return uses


def version_runs(ctx: ServerContext, principal: Principal, version_id: str) -> list[DataUse]:
    """The runs that read or wrote a version, as far as the user may see them."""
    names = _Names(ctx, principal)
    uses = []
    for edge in ctx.metadata.list_lineage(dataset_version_id=version_id):
        try:
            project_id = ctx.project_of_run(edge.run_id)
            readable = names.readable(project_id)
            run = ctx.metadata.get_run(edge.run_id) if readable else None
        except NotFoundError:  # deleted since: nothing to link to
            continue
        if run is None:
            continue
        uses.append(
            DataUse(
                direction=edge.direction.value,
                role=edge.role,
                label=run.name,
                href=url_path("p", names.name(project_id), "r", run.id),
                created_at=edge.created_at,
            )
        )
    return uses


def drift_chart(diff: DatasetDiff) -> Chart | None:
    """The drift score of every column that has one, its threshold marked on its row."""
    rows = [
        BarRow(
            change.name,
            change.drift_score,
            f"{change.drift_score:.3g}" + (" drifted" if change.drifted else ""),
            threshold=change.drift_threshold,
            css="bar-drifted" if change.drifted else "",
        )
        for change in diff.columns
        if change.drift_score is not None
    ]
    if not rows:
        return None
    return bar_rows_chart(rows, label="Drift score per column", width=WIDE_ROWS_WIDTH)
