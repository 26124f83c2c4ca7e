"""The run filter language: a declared grammar, parsed into a small typed tree.

Stores compile the tree into their own query language (SQLAlchemy expressions for the SQL
store); the text is never pasted into a query. Errors point at the character at fault.

Grammar, informally::

    expr    := expr OR expr | expr AND expr | NOT expr | "(" expr ")" | compare
    compare := field op value | field [NOT] IN "(" value, ... ")" | field IS [NOT] NULL
    field   := metrics.KEY | params.KEY | tags.KEY | attributes.NAME | NAME
    op      := = | == | != | <> | < | <= | > | >= | LIKE | ILIKE
    value   := 'text' | "text" | number

Keys that hold spaces are written in backquotes: ``metrics.`val loss` < 0.3``.

>>> parse_filter("metrics.acc > 0.9 and params.model = 'rf'")
And(items=(Compare(field=Field(kind='metrics', key='acc'), op='>', value=0.9), \
Compare(field=Field(kind='params', key='model'), op='=', value='rf')))
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import lark

from loopml.core.entities import RunStatus
from loopml.core.errors import FilterSyntaxError

__all__ = [
    "ATTRIBUTES",
    "And",
    "Compare",
    "Expr",
    "Field",
    "Not",
    "Or",
    "OrderBy",
    "Value",
    "format_filter",
    "format_order_by",
    "parse_filter",
    "parse_order_by",
]

FieldKind = Literal["metrics", "params", "tags", "attributes"]
Value = str | float | int | None | tuple[str | float | int, ...]

# Attribute name -> the type its values compare as.
ATTRIBUTES: dict[str, str] = {
    "id": "text",
    "name": "text",
    "status": "status",
    "user": "text",
    "start_time": "time",
    "end_time": "time",
    "parent_run_id": "text",
    "experiment_id": "text",
    "note": "text",
}
_ATTRIBUTE_ALIASES = {"run_id": "id", "run_name": "name"}
_KIND_ALIASES: dict[str, FieldKind] = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
}


@dataclass(frozen=True, slots=True)
class Field:
    """What a comparison looks at: ``kind`` is metrics, params, tags or attributes."""

    kind: FieldKind
    key: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``field op value``; ``op`` is one of = != < <= > >= like ilike in not_in is is_not."""

    field: Field
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


Expr = Compare | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``order_by`` clause."""

    field: Field
    descending: bool = False


_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negate
         | atom
?atom: "(" or_expr ")"
     | compare
compare: field OP value                          -> binary
       | field _IN "(" value ("," value)* ")"    -> in_list
       | field _NOT _IN "(" value ("," value)* ")" -> not_in_list
       | field _IS _NULL                         -> is_null
       | field _IS _NOT _NULL                    -> is_not_null
field: DOTTED | QUOTED_KEY | NAME
value: STRING -> string
     | NUMBER -> number
OP: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">" | /like\b/i | /ilike\b/i
_AND.2: /and\b/i
_OR.2: /or\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_IS.2: /is\b/i
_NULL.2: /null\b/i
DOTTED.1: /[A-Za-z_]+\.[A-Za-z0-9_\-.\/:]+/
QUOTED_KEY.3: /[A-Za-z_]+\.`[^`]+`/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/
NUMBER: /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/
%ignore /\s+/
"""


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False, propagate_positions=True)


def _error(text: str, position: int, message: str) -> FilterSyntaxError:
    pointer = f"\n  {text}\n  {' ' * position}^"
    return FilterSyntaxError(
        f"filter: {message} at column {position + 1}{pointer}", position=position, text=text
    )


class _ToTree(lark.Transformer[lark.Token, Expr]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def field(self, items: list[lark.Token]) -> tuple[Field, int]:
        token = items[0]
        raw = str(token)
        position = token.start_pos or 0
        if token.type == "NAME":
            kind_text, key = "attributes", raw
        else:
            kind_text, _, key = raw.partition(".")
            key = key.strip("`")
        kind = _KIND_ALIASES.get(kind_text.lower())
        if kind is None:
            raise _error(
                self._text,
                position,
                f"unknown field {raw!r}: use metrics.<key>, params.<key>, tags.<key> or "
                f"one of {', '.join(sorted(ATTRIBUTES))}",
            )
        if kind == "attributes":
            key = _ATTRIBUTE_ALIASES.get(key.lower(), key.lower())
            if key not in ATTRIBUTES:
                raise _error(
                    self._text,
                    position,
                    f"unknown attribute {raw!r}: use one of {', '.join(sorted(ATTRIBUTES))}",
                )
        return Field(kind, key), position

    def string(self, items: list[lark.Token]) -> tuple[str, int]:
        raw = str(items[0])
        body = raw[1:-1]
        quote = raw[0]
        return body.replace("\\" + quote, quote).replace("\\\\", "\\"), items[0].start_pos or 0

    def number(self, items: list[lark.Token]) -> tuple[float | int, int]:
        raw = str(items[0])
        value: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
        return value, items[0].start_pos or 0

    def binary(self, items: list[Any]) -> Compare:
        (field, _), op_token, (value, position) = items
        op = {"==": "=", "<>": "!="}.get(str(op_token), str(op_token).lower())
        return self._check(Compare(field, op, value), position)

    def in_list(self, items: list[Any]) -> Compare:
        (field, _), *values = items
        return self._check(Compare(field, "in", tuple(v for v, _ in values)), values[0][1])

    def not_in_list(self, items: list[Any]) -> Compare:
        (field, _), *values = items
        return self._check(Compare(field, "not_in", tuple(v for v, _ in values)), values[0][1])

    def is_null(self, items: list[Any]) -> Compare:
        return Compare(items[0][0], "is", None)

    def is_not_null(self, items: list[Any]) -> Compare:
        return Compare(items[0][0], "is_not", None)

    def and_expr(self, items: list[Expr]) -> And:
        return And(tuple(items))

    def or_expr(self, items: list[Expr]) -> Or:
        return Or(tuple(items))

    def negate(self, items: list[Expr]) -> Not:
        return Not(items[0])

    def _check(self, compare: Compare, position: int) -> Compare:
        kind = compare.field.kind
        values = compare.value if isinstance(compare.value, tuple) else (compare.value,)
        label = f"{kind}.{compare.field.key}"
        if kind == "metrics":
            if compare.op in ("like", "ilike") or any(isinstance(v, str) for v in values):
                raise _error(self._text, position, f"{label} compares with numbers only")
        elif kind == "tags":
            if compare.op in ("<", "<=", ">", ">="):
                raise _error(self._text, position, f"{label}: tags support = != like ilike in")
            if any(not isinstance(v, str) for v in values):
                raise _error(self._text, position, f"{label}: quote the value, tags are text")
        elif kind == "params":
            if compare.op in ("like", "ilike") and any(not isinstance(v, str) for v in values):
                raise _error(self._text, position, f"{label}: like needs a quoted pattern")
        else:
            compare = self._check_attribute(compare, values, position)
        return compare

    def _check_attribute(
        self, compare: Compare, values: tuple[object, ...], position: int
    ) -> Compare:
        kind = ATTRIBUTES[compare.field.key]
        if kind == "status":
            allowed = {s.value for s in RunStatus}
            for v in values:
                if not isinstance(v, str) or v.lower() not in allowed:
                    raise _error(
                        self._text,
                        position,
                        f"status must be one of {', '.join(sorted(allowed))}, got {v!r}",
                    )
            lowered = tuple(str(v).lower() for v in values)
            value: Value = lowered if isinstance(compare.value, tuple) else lowered[0]
            return Compare(compare.field, compare.op, value)
        if kind == "time":
            converted: list[int] = []
            for v in values:
                if isinstance(v, str):
                    try:
                        moment = datetime.fromisoformat(v)
                    except ValueError:
                        raise _error(
                            self._text, position, f"{v!r} is not an ISO date or time"
                        ) from None
                    converted.append(int(moment.timestamp() * 1000))
                elif isinstance(v, int | float):
                    converted.append(int(v))
            value = tuple(converted) if isinstance(compare.value, tuple) else converted[0]
            return Compare(compare.field, compare.op, value)
        if any(not isinstance(v, str) for v in values):
            raise _error(self._text, position, f"{compare.field.key}: quote the value")
        return compare


def parse_filter(text: str | None) -> Expr | None:
    """Parse a filter; empty text means no filter.

    Raises:
        FilterSyntaxError: naming the column of the first problem.
    """
    if text is None or not text.strip():
        return None
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedCharacters as exc:
        position = exc.pos_in_stream or 0
        raise _error(text, position, f"unexpected character {text[position]!r}") from None
    except lark.exceptions.UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            raise _error(text, len(text), "the filter ends too early") from None
        raise _error(text, token.start_pos or 0, f"unexpected {str(token)!r}") from None
    except lark.exceptions.UnexpectedEOF:
        raise _error(text, len(text), "the filter ends too early") from None
    try:
        result: Expr = _ToTree(text).transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, FilterSyntaxError):
            raise exc.orig_exc from None
        raise
    return result


def parse_order_by(clauses: list[str] | tuple[str, ...] | str | None) -> tuple[OrderBy, ...]:
    """Parse ``["metrics.acc desc", "start_time"]`` into OrderBy clauses."""
    if clauses is None:
        return ()
    if isinstance(clauses, str):
        clauses = [clauses]
    result = []
    for clause in clauses:
        words = clause.strip().rsplit(None, 1)
        descending = False
        target = clause.strip()
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            target, descending = words[0], words[1].lower() == "desc"
        probe = parse_filter(f"{target} is null")
        if not isinstance(probe, Compare):
            raise FilterSyntaxError(f"order_by: {clause!r} is not a field", position=0, text=clause)
        result.append(OrderBy(probe.field, descending))
    return tuple(result)


_DOTTED_KEY = re.compile(r"[A-Za-z0-9_\-.\/:]+")


def _format_value(value: str | float | int) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def _format_field(field: Field) -> str:
    if field.kind == "attributes":
        return f"attributes.{field.key}"
    if _DOTTED_KEY.fullmatch(field.key):
        return f"{field.kind}.{field.key}"
    return f"{field.kind}.`{field.key}`"


_OPS = {"in": "IN", "not_in": "NOT IN", "like": "LIKE", "ilike": "ILIKE"}


def format_filter(expr: Expr | None) -> str:
    """Filter text that parses back to ``expr`` (used to send a filter over the wire).

    >>> text = "metrics.acc > 0.9 and (tags.t in ('a', 'b') or not params.m = 'it\\\\'s')"
    >>> parse_filter(format_filter(parse_filter(text))) == parse_filter(text)
    True
    """
    if expr is None:
        return ""
    if isinstance(expr, And):
        return " AND ".join(f"({format_filter(item)})" for item in expr.items)
    if isinstance(expr, Or):
        return " OR ".join(f"({format_filter(item)})" for item in expr.items)
    if isinstance(expr, Not):
        return f"NOT ({format_filter(expr.item)})"
    field = _format_field(expr.field)
    if expr.op == "is":
        return f"{field} IS NULL"
    if expr.op == "is_not":
        return f"{field} IS NOT NULL"
    if isinstance(expr.value, tuple):
        return f"{field} {_OPS[expr.op]} ({', '.join(_format_value(v) for v in expr.value)})"
    assert expr.value is not None
    return f"{field} {_OPS.get(expr.op, expr.op)} {_format_value(expr.value)}"


def format_order_by(clauses: tuple[OrderBy, ...] | list[OrderBy]) -> list[str]:
    """``order_by`` strings that parse back to ``clauses``."""
    return [f"{_format_field(c.field)} {'DESC' if c.descending else 'ASC'}" for c in clauses]
