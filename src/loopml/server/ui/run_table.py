"""The run table of an experiment: which columns it shows and how its headers sort.

Everything the table's state needs lives in the URL query (``filter``, ``order_by`` and the
chosen ``cols``), so a view of the table can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from loopml.core.entities import Run
from loopml.core.errors import ValidationError
from loopml.core.filters import Field, FieldKind, OrderBy, format_order_by, parse_order_by

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "DEFAULT_ORDER",
    "Column",
    "TableState",
    "available_columns",
    "cell_value",
    "choose_columns",
]

DEFAULT_ORDER = "start_time DESC"
_DEFAULT_PER_KIND = 4


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the run table: ``kind`` is attributes, params or metrics."""

    kind: FieldKind
    key: str
    label: str
    sortable: bool = True

    @property
    def name(self) -> str:
        """How the column is named in ``cols`` and ``order_by``."""
        return self.key if self.kind == "attributes" else f"{self.kind}.{self.key}"

    def order(self, descending: bool) -> str:
        """The ``order_by`` clause that sorts by this column."""
        return format_order_by([OrderBy(Field(self.kind, self.key), descending)])[0]


ATTRIBUTE_COLUMNS = (
    Column("attributes", "name", "Run"),
    Column("attributes", "status", "Status"),
    Column("attributes", "start_time", "Started (UTC)"),
    Column("attributes", "duration", "Duration", sortable=False),
    Column("attributes", "user", "User"),
)


@dataclass(frozen=True, slots=True)
class TableState:
    """The parsed query of a run table: the ordering and which way each header sorts next."""

    order_by: str
    current: OrderBy | None

    @classmethod
    def from_query(cls, order_by: str) -> TableState:
        text = order_by.strip() or DEFAULT_ORDER
        try:
            clauses = parse_order_by(text)
        except ValidationError:
            clauses = ()
        return cls(text, clauses[0] if clauses else None)

    def direction(self, column: Column) -> str | None:
        """``ascending``/``descending`` when the table is sorted by ``column``."""
        if self.current is None or self.current.field != Field(column.kind, column.key):
            return None
        return "descending" if self.current.descending else "ascending"

    def next_order(self, column: Column) -> str:
        """Clicking a header sorts by it, descending first, then flips the direction."""
        return column.order(descending=self.direction(column) != "descending")


def available_columns(runs: Iterable[Run]) -> tuple[list[Column], list[Column]]:
    """The param and metric columns the runs have values for, sorted by key."""
    params: set[str] = set()
    metrics: set[str] = set()
    for run in runs:
        params.update(run.params)
        metrics.update(run.metrics)
    return (
        [Column("params", k, k) for k in sorted(params)],
        [Column("metrics", k, k) for k in sorted(metrics)],
    )


def choose_columns(
    params: Sequence[Column], metrics: Sequence[Column], chosen: Sequence[str] | None
) -> list[Column]:
    """The data columns to show: those in ``chosen``, or the first few of each kind."""
    if chosen is None:
        return [*metrics[:_DEFAULT_PER_KIND], *params[:_DEFAULT_PER_KIND]]
    wanted = set(chosen)
    return [c for c in (*metrics, *params) if c.name in wanted]


def cell_value(run: Run, column: Column) -> object:
    """What a run shows in a data column (None when it has no value)."""
    if column.kind == "params":
        return run.params.get(column.key)
    metric = run.metrics.get(column.key)
    return None if metric is None else metric.value
