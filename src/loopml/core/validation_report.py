"""The result of validating data against a schema: which checks failed, on how many rows.

A :class:`ValidationReport` is a plain, frozen record: the datasets service computes it,
a dataset version stores it as a dict (:meth:`ValidationReport.to_dict`), and the CLI shows
:meth:`ValidationReport.summary` when it refuses data.

>>> failure = CheckFailure(
...     column="age",
...     check="in_range",
...     description="values outside [0, 120]",
...     n_failing=2,
...     examples=(FailureExample(row=3, value=-1), FailureExample(row=9, value=130)),
... )
>>> report = ValidationReport(n_rows=10, n_checks=4, failures=(failure,))
>>> report.passed
False
>>> ValidationReport.from_dict(report.to_dict()) == report
True
>>> print(report.summary())
validation failed: 1 of 4 checks on 10 rows
  age: in_range: 2 failing rows: values outside [0, 120]; e.g. row 3: -1, row 9: 130
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from loopml.core.errors import ValidationError

__all__ = [
    "CheckFailure",
    "ExampleValue",
    "FailureExample",
    "ValidationReport",
]

ExampleValue: TypeAlias = str | int | float | bool | None
"""A failing value as JSON can carry it; dates and other types arrive as ISO / text."""

_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class FailureExample:
    """One failing value and its 0-based row in the data (None for a whole-column check)."""

    row: int | None
    value: ExampleValue

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "value": self.value}


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """One check that failed, with how many rows failed it and a few of them.

    Attributes:
        column: The column checked, or None for a check on the whole frame.
        check: What was checked: ``column_present``, ``unexpected_column``, ``dtype``,
            ``nullable``, ``in_range``, ``isin`` or ``unique``.
        description: What is wrong, in words, with the fix where there is an obvious one.
        n_failing: Rows that failed; a check on the whole column (a missing column, a
            wrong dtype) fails every row it was run on.
        examples: The first few failing values, in row order.
    """

    column: str | None
    check: str
    description: str
    n_failing: int
    examples: tuple[FailureExample, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": self.check,
            "description": self.description,
            "n_failing": self.n_failing,
            "examples": [example.to_dict() for example in self.examples],
        }

    def render(self, *, max_examples: int = 3) -> str:
        """One line for a terminal: column, check, failing rows, description, examples."""
        where = self.column if self.column is not None else "(table)"
        rows = "row" if self.n_failing == 1 else "rows"
        line = f"{where}: {self.check}: {self.n_failing} failing {rows}: {self.description}"
        shown = [_render_example(example) for example in self.examples[:max_examples]]
        return f"{line}; e.g. {', '.join(shown)}" if shown else line


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one dataset (or one stream of batches) against a schema.

    Attributes:
        n_rows: Rows validated.
        n_checks: Checks the schema asked for (each column's presence, dtype, nullability,
            range, allowed values and uniqueness, plus the strict check on extra columns).
        failures: The checks that failed, in schema column order.
        schema_name: The schema's name, when it has one.
        schema_hash: The schema's fingerprint, so a stored report names what it checked.
    """

    n_rows: int
    n_checks: int
    failures: tuple[CheckFailure, ...] = ()
    schema_name: str | None = None
    schema_hash: str | None = None

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able builtins; :meth:`from_dict` reads it back."""
        return {
            "passed": self.passed,
            "n_rows": self.n_rows,
            "n_checks": self.n_checks,
            "schema_name": self.schema_name,
            "schema_hash": self.schema_hash,
            "failures": [failure.to_dict() for failure in self.failures],
        }

    @classmethod
    def from_dict(cls, data: object) -> ValidationReport:
        """Read a report written by :meth:`to_dict`.

        Raises:
            ValidationError: naming the field that is missing or has the wrong type.
        """
        report = _mapping(data, "report")
        failures = _field(report, "failures", list, "report")
        return cls(
            n_rows=_count(report, "n_rows", "report"),
            n_checks=_count(report, "n_checks", "report"),
            failures=tuple(
                _failure_from_dict(item, f"failures[{i}]") for i, item in enumerate(failures)
            ),
            schema_name=_optional_str(report, "schema_name"),
            schema_hash=_optional_str(report, "schema_hash"),
        )

    def summary(self, *, max_examples: int = 3) -> str:
        """A few lines for a terminal or an error message: one per failed check."""
        schema = f" (schema '{self.schema_name}')" if self.schema_name else ""
        if self.passed:
            return f"validation passed: {self.n_checks} checks on {self.n_rows} rows{schema}"
        head = (
            f"validation failed: {len(self.failures)} of {self.n_checks} checks "
            f"on {self.n_rows} rows{schema}"
        )
        lines = [f"  {failure.render(max_examples=max_examples)}" for failure in self.failures]
        return "\n".join([head, *lines])


def _render_example(example: FailureExample) -> str:
    value = repr(example.value) if isinstance(example.value, str) else str(example.value)
    return value if example.row is None else f"row {example.row}: {value}"


def _failure_from_dict(data: object, path: str) -> CheckFailure:
    failure = _mapping(data, path)
    column = failure.get("column")
    if column is not None and not isinstance(column, str):
        raise _wrong(f"{path}.column", "a string or null", column)
    examples = _field(failure, "examples", list, path)
    return CheckFailure(
        column=column,
        check=_field(failure, "check", str, path),
        description=_field(failure, "description", str, path),
        n_failing=_count(failure, "n_failing", path),
        examples=tuple(
            _example_from_dict(item, f"{path}.examples[{i}]") for i, item in enumerate(examples)
        ),
    )


def _example_from_dict(data: object, path: str) -> FailureExample:
    example = _mapping(data, path)
    row = example.get("row")
    if row is not None and (not isinstance(row, int) or isinstance(row, bool) or row < 0):
        raise _wrong(f"{path}.row", "a row number or null", row)
    value = example.get("value")
    if not isinstance(value, _SCALARS):
        raise _wrong(f"{path}.value", "a string, number, boolean or null", value)
    return FailureExample(row=row, value=value)


def _mapping(data: object, path: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _wrong(path, "a mapping", data)
    return data


def _field(data: Mapping[str, Any], key: str, kind: type[Any], path: str) -> Any:
    name = key if path == "report" else f"{path}.{key}"
    if key not in data:
        raise ValidationError(f"validation report: {name}: missing", field=name)
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _wrong(name, f"a {kind.__name__}", value)
    return value


def _count(data: Mapping[str, Any], key: str, path: str) -> int:
    value: int = _field(data, key, int, path)
    if value < 0:
        raise _wrong(key if path == "report" else f"{path}.{key}", "a count >= 0", value)
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _wrong(key, "a string or null", value)
    return value


def _wrong(field: str, expected: str, got: object) -> ValidationError:
    return ValidationError(
        f"validation report: {field}: expected {expected}, got {type(got).__name__}",
        field=field,
    )
