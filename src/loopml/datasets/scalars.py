"""Single values in a data schema (bounds, allowed values, flags): checked and rendered.

Bounds of date and datetime columns may be given as ISO text, as YAML and JSON carry them.

>>> parse_value("2024-03-01", "date", "columns.day.min")
datetime.date(2024, 3, 1)
>>> parse_value("abc", "float64", "columns.age.min")
Traceback (most recent call last):
...
loopml.core.errors.ValidationError: columns.age.min: expected a number, got 'abc'
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from loopml.core.errors import ValidationError
from loopml.datasets.dtypes import INTEGER_DTYPES, NUMERIC_DTYPES

__all__ = ["check_flag", "parse_value", "to_builtin", "wrong"]


def wrong(field: str, expected: str, got: object) -> ValidationError:
    """The error for a value of the wrong kind: names the field, what it wants and got."""
    return ValidationError(f"{field}: expected {expected}, got {got!r}", field=field)


def check_flag(value: object, field: str) -> None:
    """Refuse anything but ``True`` or ``False`` (YAML's ``"no"`` is text, not a flag)."""
    if not isinstance(value, bool):
        raise wrong(field, "true or false", value)


def parse_value(value: object, dtype: str, field: str) -> Any:
    """Check one bound or allowed value against its column's dtype; return it normalised.

    Raises:
        ValidationError: naming ``field``, the kind of value expected and the value given.
    """
    if dtype in INTEGER_DTYPES:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise wrong(field, "an integer", value)
    if dtype in NUMERIC_DTYPES:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise wrong(field, "a number", value)
    if dtype == "bool":
        check_flag(value, field)
        return value
    if dtype == "string":
        if isinstance(value, str):
            return value
        raise wrong(field, "a string", value)
    if dtype == "date":
        return _parse_date(value, field)
    return _parse_datetime(value, field, aware=dtype == "datetime_tz")


def to_builtin(value: Any) -> Any:
    """A schema value as JSON can carry it: dates and datetimes become ISO text."""
    return value.isoformat() if isinstance(value, date) else value


def _parse_date(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise wrong(field, "a date such as 2024-01-31", value) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise wrong(field, "a date such as 2024-01-31", value)


def _parse_datetime(value: object, field: str, *, aware: bool) -> datetime:
    example = "2024-01-31T12:00:00" + ("+00:00" if aware else "")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise wrong(field, f"a datetime such as {example}", value) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise wrong(field, f"a datetime such as {example}", value)
    if aware:
        # A naive bound on a timezone-aware column is read as UTC, like the data.
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if value.tzinfo is not None:
        raise ValidationError(
            f"{field}: {value.isoformat()} has a timezone but the column's dtype is "
            "datetime; drop the offset or use dtype datetime_tz",
            field=field,
        )
    return value
