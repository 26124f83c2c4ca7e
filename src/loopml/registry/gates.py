"""Release gates: expressions a model version must satisfy before an alias moves to it.

A gate compares two arithmetic expressions over numbers, quoted text and names::

    metrics.f1 >= 0.85
    metrics.f1 >= champion.f1 - 0.01
    data.validation == passed
    slices.min.f1 >= 0.75

Names are looked up in a flat context (:func:`evaluate_gates` takes it): ``metrics.<m>``
(the version's metrics, its evaluation's overall scores taking precedence),
``champion.<m>`` (the current champion's), ``data.validation`` (``passed``, ``failed`` or
``missing`` over the datasets the version was trained on), ``slices.min.<m>`` and
``slices.max.<m>`` (over the evaluation's slices). A bare word such as ``passed`` is
text. A gate that compares with ``champion`` passes while there is no champion yet.

Gates are parsed by a declared grammar (lark), never evaluated as Python.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lark

from loopml.core.errors import ValidationError

__all__ = ["Gate", "GateResult", "evaluate_gates", "parse_gate", "parse_policy"]

_GRAMMAR = r"""
?start: comparison
comparison: sum COMPARE sum
?sum: product
    | sum ADD product -> binary
?product: unary
    | product MUL unary -> binary
?unary: atom
    | "-" unary -> negate
?atom: NUMBER -> number
    | STRING -> text
    | NAME ("." NAME)* -> name
    | "(" sum ")"
COMPARE: ">=" | "<=" | "==" | "!=" | ">" | "<"
ADD: "+" | "-"
MUL: "*" | "/"
NAME: /[A-Za-z_][A-Za-z0-9_\-]*/
STRING: /'[^']*'/ | /"[^"]*"/
%import common.NUMBER
%import common.WS
%ignore WS
"""

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(_GRAMMAR, parser="lalr")


class _Missing(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(frozen=True)
class Gate:
    """A parsed gate; ``names`` are the context names it reads."""

    expression: str
    tree: lark.Tree[Any]
    names: tuple[str, ...]

    @property
    def uses_champion(self) -> bool:
        return any(n.startswith("champion.") for n in self.names)


@dataclass(frozen=True)
class GateResult:
    """How one gate came out: ``observed`` shows the values compared."""

    expression: str
    passed: bool
    observed: str

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.expression, "passed": self.passed, "observed": self.observed}


def parse_gate(expression: object, *, field: str = "gate") -> Gate:
    """Parse one gate; ValidationError naming the column on a syntax error.

    >>> parse_gate("metrics.f1 >= champion.f1 - 0.01").names
    ('metrics.f1', 'champion.f1')
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValidationError(f"{field}: expected a gate such as 'metrics.f1 >= 0.85'", field=field)
    try:
        tree = _parser().parse(expression)
    except lark.UnexpectedInput as exc:
        column = getattr(exc, "column", 0) or 0
        pointer = " " * max(column - 1, 0) + "^"
        raise ValidationError(
            f"{field}: {expression!r} does not parse at column {column}; write "
            f"'<name or number> <op> <name or number>' with op one of "
            f"{', '.join(_COMPARE)}\n  {expression}\n  {pointer}",
            field=field,
        ) from None
    names = tuple(
        ".".join(str(token) for token in node.children)
        for node in tree.iter_subtrees_topdown()  # type: ignore[no-untyped-call]
        if node.data == "name" and len(node.children) > 1
    )
    return Gate(expression.strip(), tree, names)


def parse_policy(policy: Mapping[str, Any]) -> tuple[list[Gate], int]:
    """The gates and required approvals of a release policy dict; checks every field."""
    unknown = set(policy) - {"gates", "required_approvals"}
    if unknown:
        raise ValidationError(
            f"release policy: unknown key(s) {', '.join(sorted(unknown))}; use 'gates' and "
            "'required_approvals'",
            field=sorted(unknown)[0],
        )
    gates = policy.get("gates", [])
    if not isinstance(gates, list):
        raise ValidationError("gates: expected a list of expressions", field="gates")
    required = policy.get("required_approvals", 1)
    if not isinstance(required, int) or isinstance(required, bool) or not 1 <= required <= 10:
        raise ValidationError(
            "required_approvals: expected a whole number from 1 to 10", field="required_approvals"
        )
    return [parse_gate(g, field=f"gates[{i}]") for i, g in enumerate(gates)], required


def _value(node: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(node, lark.Token):
        raise AssertionError(f"unexpected token {node!r}")
    kind = node.data
    if kind == "number":
        return float(node.children[0])
    if kind == "text":
        return str(node.children[0])[1:-1]
    if kind == "name":
        parts = [str(t) for t in node.children]
        if len(parts) == 1:
            return parts[0]  # a bare word is text: passed, failed
        name = ".".join(parts)
        if name not in context or context[name] is None:
            raise _Missing(name)
        return context[name]
    if kind == "negate":
        return -_number(_value(node.children[0], context))
    if kind == "binary":
        left, op, right = node.children
        return _ARITHMETIC[str(op)](_number(_value(left, context)), _number(_value(right, context)))
    raise AssertionError(f"unexpected node {kind}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _show(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


def evaluate_gates(gates: Sequence[Gate], context: Mapping[str, Any]) -> list[GateResult]:
    """Each gate's result over ``context`` (a missing name fails its gate, saying which)."""
    results = []
    for gate in gates:
        left_node, op, right_node = gate.tree.children
        try:
            left, right = _value(left_node, context), _value(right_node, context)
        except _Missing as missing:
            if missing.name.startswith("champion."):
                results.append(GateResult(gate.expression, True, "no champion yet: skipped"))
            else:
                results.append(
                    GateResult(gate.expression, False, f"{missing.name} is not recorded")
                )
            continue
        except (TypeError, ZeroDivisionError) as exc:
            results.append(GateResult(gate.expression, False, f"cannot compute: {exc}"))
            continue
        compare = _COMPARE[str(op)]
        if isinstance(left, float) and isinstance(right, float):
            passed = not (math.isnan(left) or math.isnan(right)) and compare(left, right)
        else:
            passed = compare(str(left), str(right)) if str(op) in ("==", "!=") else False
        results.append(
            GateResult(gate.expression, bool(passed), f"{_show(left)} {op} {_show(right)}")
        )
    return results
