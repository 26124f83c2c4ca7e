"""The run search compiler: a filter tree from :mod:`loopml.core.filters` to SQLAlchemy.

Every value is a bound parameter; no text from the user is ever pasted into SQL.

Semantics, the same on every backend:

* a run that lacks a metric, param or tag does not match a comparison on it, but matches
  ``is null``; ``not`` negates a whole comparison (so ``not metrics.a > 1`` matches runs
  without ``a``);
* ``params.x`` compares as text with a quoted value and as a number with a number
  (``params.lr > 0.01`` looks only at params whose text is a finite number);
* a NaN metric is stored as NULL: it matches no comparison and orders with missing values.

Plan: the positive comparisons of a top-level ``and`` become inner joins (one alias per
key) so the database may drive the query from the most selective index; everything else
becomes a correlated ``EXISTS``. An ``order_by`` on a key already joined reuses the join,
and orders without ``NULLS LAST`` where the join's condition already excludes NULL, so
the database can walk the ``(key, value, run_id)`` index in order and stop after one page
instead of sorting every match.

On PostgreSQL, text equality on a param or tag is written against ``left(value, 200)``,
the expression migration 0004 indexes (the whole value does not fit a btree).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from loopml.core.entities import RunPage
from loopml.core.errors import ValidationError
from loopml.core.filters import And, Compare, Expr, Field, Not, Or, OrderBy
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.schema import LatestMetricRow, ParamRow, RunRow, TagRow, table_of
from loopml.metadata.sql.snapshots import runs_of_rows

__all__ = ["INDEXED_PREFIX", "MAX_RESULTS", "compile_filter", "search_runs"]

MAX_RESULTS = 50_000
# Characters of a param or tag value that PostgreSQL's index holds (migration 0004).
INDEXED_PREFIX = 200
_PREFIX_SQL: sa.ColumnElement[int] = sa.literal_column(
    str(INDEXED_PREFIX), sa.Integer()
)  # a constant, so it matches the index

runs = table_of(RunRow)
_TABLES: dict[str, sa.Table] = {
    "metrics": table_of(LatestMetricRow),
    "params": table_of(ParamRow),
    "tags": table_of(TagRow),
}
_ATTRIBUTE_COLUMNS = {
    "id": runs.c.id,
    "name": runs.c.name,
    "status": runs.c.status,
    "user": runs.c.user,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "parent_run_id": runs.c.parent_run_id,
    "experiment_id": runs.c.experiment_id,
    "note": runs.c.note,
}
_NOT_NULL_ATTRIBUTES = frozenset(
    column for column in _ATTRIBUTE_COLUMNS.values() if not column.nullable
)


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """``column op value`` for the scalar and list operators."""
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(list(value))  # type: ignore[no-any-return]
    if op == "not_in":
        return column.not_in(list(value))  # type: ignore[no-any-return]
    raise ValidationError(f"filter: unknown operator {op!r}", field="filter")


def _text_in(table: Any, texts: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """``value IN texts``; on PostgreSQL in the form its ``left(value, 200)`` index serves.

    For a text shorter than the prefix, ``left(value, 200) = text`` holds exactly when
    ``value = text``; a longer one also compares the whole value.
    """
    if dialect != "postgresql":
        return table.c.value.in_(list(texts))  # type: ignore[no-any-return]
    prefix = sa.func.left(table.c.value, _PREFIX_SQL)
    short = [text for text in texts if len(text) < INDEXED_PREFIX]
    parts: list[ColumnElement[bool]] = []
    if short:
        parts.append(prefix == short[0] if len(short) == 1 else prefix.in_(short))
    parts += [
        sa.and_(prefix == text[:INDEXED_PREFIX], table.c.value == text)
        for text in texts
        if len(text) >= INDEXED_PREFIX
    ]
    return parts[0] if len(parts) == 1 else sa.or_(*parts)


def _value_condition(table: Any, compare: Compare, dialect: str) -> ColumnElement[bool]:
    """The condition on one key's row (``table`` is the table or an alias of it)."""
    kind, op, value = compare.field.kind, compare.op, compare.value
    if kind == "metrics":
        return _compare(table.c.value, op, value)
    if op == "=" and isinstance(value, str):
        return _text_in(table, [value], dialect)
    if kind == "tags":
        if op in ("in", "not_in"):
            assert isinstance(value, tuple)  # the grammar gives IN a tuple of values
            matched = _text_in(table, [str(v) for v in value], dialect)
            return matched if op == "in" else sa.not_(matched)
        return _compare(table.c.value, op, value)
    values = value if isinstance(value, tuple) else (value,)
    texts = [v for v in values if isinstance(v, str)]
    numbers = [v for v in values if not isinstance(v, str)]
    if op not in ("in", "not_in"):
        column = table.c.value if isinstance(value, str) else table.c.value_num
        return _compare(column, op, value)
    parts: list[ColumnElement[bool]] = []
    if texts:
        parts.append(_text_in(table, texts, dialect))
    if numbers:
        # NOT NULL first, so a text param is a plain False here, never SQL NULL.
        parts.append(sa.and_(table.c.value_num.is_not(None), table.c.value_num.in_(numbers)))
    matched = sa.or_(*parts)
    return matched if op == "in" else sa.not_(matched)


def _key_rows(compare: Compare, condition: bool, dialect: str) -> sa.Exists:
    table = _TABLES[compare.field.kind]
    where = [table.c.run_id == runs.c.id, table.c.key == compare.field.key]
    if condition:
        where.append(_value_condition(table, compare, dialect))
    return sa.exists().where(*where)


def compile_filter(expr: Expr, dialect: str = "sqlite") -> ColumnElement[bool]:
    """The WHERE condition on ``runs`` for a filter tree (correlated EXISTS per key)."""
    if isinstance(expr, And):
        return sa.and_(*(compile_filter(item, dialect) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(compile_filter(item, dialect) for item in expr.items))
    if isinstance(expr, Not):
        return sa.not_(compile_filter(expr.item, dialect))
    kind, op = expr.field.kind, expr.op
    if kind == "attributes":
        column = _ATTRIBUTE_COLUMNS[expr.field.key]
        if op == "is":
            return column.is_(None)
        if op == "is_not":
            return column.is_not(None)
        return sa.and_(column.is_not(None), _compare(column, op, expr.value))
    if op == "is":
        return ~_key_rows(expr, False, dialect)
    if op == "is_not":
        return _key_rows(expr, False, dialect)
    return _key_rows(expr, True, dialect)


@dataclass
class _Plan:
    """The FROM clause being built: runs plus one inner join per joined comparison.

    ``not_null`` holds the columns of joined rows that the join's condition keeps from
    being NULL: a comparison with NULL is never true.
    """

    dialect: str
    source: Any = runs
    where: list[ColumnElement[bool]] = field(default_factory=list)
    joined: dict[tuple[str, str], Any] = field(default_factory=dict)
    not_null: set[Any] = field(default_factory=set)

    def join_compare(self, compare: Compare) -> None:
        table = _TABLES[compare.field.kind].alias()
        self.source = self.source.join(
            table,
            sa.and_(
                table.c.run_id == runs.c.id,
                table.c.key == compare.field.key,
                _value_condition(table, compare, self.dialect),
            ),
        )
        if (compare.field.kind, compare.field.key) not in self.joined:
            self.joined[(compare.field.kind, compare.field.key)] = table
            self.not_null.add(table.c.value)
            values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
            if compare.field.kind == "params" and not any(isinstance(v, str) for v in values):
                self.not_null.add(table.c.value_num)

    def order_table(self, target: Field) -> Any:
        found = self.joined.get((target.kind, target.key))
        if found is None:
            found = _TABLES[target.kind].alias()
            self.source = self.source.outerjoin(
                found, sa.and_(found.c.run_id == runs.c.id, found.c.key == target.key)
            )
            self.joined[(target.kind, target.key)] = found
        return found


def _joinable(expr: Expr) -> bool:
    return (
        isinstance(expr, Compare)
        and expr.field.kind != "attributes"
        and expr.op not in ("is", "is_not", "not_in", "!=")
    )


def _plan(filter: Expr | None, dialect: str) -> _Plan:
    plan = _Plan(dialect)
    items: tuple[Expr, ...] = ()
    if filter is not None:
        items = filter.items if isinstance(filter, And) else (filter,)
    for item in items:
        if _joinable(item):
            assert isinstance(item, Compare)
            plan.join_compare(item)
        else:
            plan.where.append(compile_filter(item, dialect))
    return plan


def _order_columns(plan: _Plan, order_by: Sequence[OrderBy]) -> list[Any]:
    columns: list[Any] = []
    for clause in order_by:
        target = clause.field
        if target.kind == "attributes":
            sort_columns = [_ATTRIBUTE_COLUMNS[target.key]]
        else:
            table = plan.order_table(target)
            sort_columns = [table.c.value]
            if target.kind == "params":  # numbers by value, then text
                sort_columns = [table.c.value_num, table.c.value]
        for column in sort_columns:
            ordered = column.desc() if clause.descending else column.asc()
            # Without NULLS LAST where no NULL can occur: an index then gives the order.
            if column not in plan.not_null and column not in _NOT_NULL_ATTRIBUTES:
                ordered = ordered.nulls_last()
            columns.append(ordered)
    columns += [runs.c.start_time.desc(), runs.c.id.asc()]
    return columns


def encode_page_token(offset: int) -> str:
    """The opaque token of the page that starts at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset in a page token; ValidationError for a token this store did not issue."""
    if token is None or token == "":
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        data = None
    offset = data.get("offset") if isinstance(data, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValidationError(
            f"page_token {token!r} is not valid: pass the next_page_token of the previous "
            "page unchanged, or none for the first page",
            field="page_token",
        )
    return offset


# Building a statement (aliases, conditions) costs more than running it on SQLite, and
# a dashboard repeats the same few searches: the built statements are kept. Filter trees
# are frozen, so equal searches are equal keys; SQLAlchemy then also finds the compiled
# form at once.
@functools.lru_cache(maxsize=256)
def _query(
    dialect: str,
    experiment_ids: tuple[str, ...],
    filter: Expr | None,
    order_by: tuple[OrderBy, ...],
    limit: int,
    offset: int,
    include_deleted: bool,
) -> sa.Select[Any]:
    plan = _plan(filter, dialect)
    order_columns = _order_columns(plan, order_by)
    query = (
        sa.select(runs)  # every column: the page needs no second look-up of its runs
        .select_from(plan.source)
        .where(runs.c.experiment_id.in_(list(experiment_ids)), *plan.where)
    )
    if not include_deleted:
        query = query.where(runs.c.deleted == sa.false())
    return query.order_by(*order_columns).limit(limit).offset(offset)


def search_runs(
    db: Database,
    experiment_ids: Sequence[str],
    filter: Expr | None = None,
    order_by: Sequence[OrderBy] = (),
    max_results: int = 1000,
    page_token: str | None = None,
    include_deleted: bool = False,
) -> RunPage:
    """One page of the runs of these experiments that match ``filter``, in order."""
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise ValidationError(
            f"max_results must be between 1 and {MAX_RESULTS}, got {max_results!r}",
            field="max_results",
        )
    offset = decode_page_token(page_token)
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    if not experiment_ids:
        return RunPage(runs=())
    query = _query(
        db.dialect,
        tuple(experiment_ids),
        filter,
        tuple(order_by),
        max_results + 1,
        offset,
        include_deleted,
    )

    def work(connection: Connection) -> list[Any]:
        rows = connection.execute(query).all()
        return [rows[max_results:], runs_of_rows(connection, rows[:max_results])]

    more, page = db.read(work)
    next_token = encode_page_token(offset + max_results) if more else None
    return RunPage(runs=tuple(page), next_page_token=next_token)
