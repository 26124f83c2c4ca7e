"""Allow-list checks for names and values that users log.

Each check returns the cleaned value or raises :class:`ValidationError` naming the field
and the fix. They are pure and cheap: the metric check runs once per logged point.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from loopml.core.errors import ValidationError

__all__ = [
    "KEY_PATTERN",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PARAM_LENGTH",
    "MAX_TAG_LENGTH",
    "check_json_document",
    "check_key",
    "check_metric_value",
    "check_name",
    "check_param_value",
    "check_step",
    "check_tag_value",
]

MAX_KEY_LENGTH = 250
MAX_NAME_LENGTH = 256
MAX_PARAM_LENGTH = 6000
MAX_TAG_LENGTH = 8000

# Letters, digits and _ - . / : and single inner spaces; no leading or trailing space.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_\-./:]+(?: [A-Za-z0-9_\-./:]+)*")
_KEY_CACHE: dict[str, str] = {}


def check_key(key: object, *, kind: str) -> str:
    """Check a metric, param or tag key.

    >>> check_key("val/loss", kind="metric")
    'val/loss'
    """
    cached = _KEY_CACHE.get(key) if isinstance(key, str) else None
    if cached is not None:
        return cached
    if not isinstance(key, str):
        raise ValidationError(
            f"{kind} name must be a string, got {type(key).__name__}", field=f"{kind}.name"
        )
    if not key or len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            f"{kind} name {key!r} is not allowed: use 1-{MAX_KEY_LENGTH} letters, digits, "
            "spaces and _ - . / : (no leading or trailing space)",
            field=f"{kind}.name",
        )
    if len(_KEY_CACHE) < 100_000:
        _KEY_CACHE[key] = key
    return key


def check_name(name: object, *, field: str) -> str:
    """Check a display name (experiment, run): 1-256 printable characters."""
    if not isinstance(name, str):
        raise ValidationError(f"{field} must be a string, got {type(name).__name__}", field=field)
    stripped = name.strip()
    if not stripped or len(stripped) > MAX_NAME_LENGTH or not stripped.isprintable():
        raise ValidationError(
            f"{field} {name!r} is not allowed: use 1-{MAX_NAME_LENGTH} printable characters",
            field=field,
        )
    return stripped


def check_metric_value(key: str, value: object) -> float:
    """Return ``value`` as a float; NaN and +/-Inf are allowed, bools and text are not."""
    if type(value) is float:
        return value
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    raise ValidationError(
        f"metric {key!r}: value must be a number, got {type(value).__name__} {value!r}",
        field=f"metrics.{key}",
    )


def check_step(key: str, step: object) -> int:
    """Return ``step`` as an int (a non-negative integer)."""
    if type(step) is int and step >= 0:
        return step
    if isinstance(step, Integral) and not isinstance(step, bool) and int(step) >= 0:
        return int(step)
    raise ValidationError(
        f"metric {key!r}: step must be a non-negative integer, got {step!r}",
        field=f"metrics.{key}.step",
    )


def check_param_value(key: str, value: object) -> str:
    """Return a param value as text. Accepts str, int, float, bool and None."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool | int):
        text = str(value)
    elif isinstance(value, float):
        text = repr(float(value)) if math.isfinite(value) else str(float(value))
    elif isinstance(value, Real):  # numpy scalars
        text = str(value.item() if hasattr(value, "item") else value)
    else:
        raise ValidationError(
            f"param {key!r}: value must be str, int, float, bool or None, got "
            f"{type(value).__name__}; convert it first (str(...) or json.dumps(...))",
            field=f"params.{key}",
        )
    if len(text) > MAX_PARAM_LENGTH:
        raise ValidationError(
            f"param {key!r}: value is {len(text)} characters, at most {MAX_PARAM_LENGTH}",
            field=f"params.{key}",
        )
    return text


def check_tag_value(key: str, value: object) -> str:
    """Return a tag value as text (str, int, float or bool)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        text = str(value)
    else:
        raise ValidationError(
            f"tag {key!r}: value must be a string, got {type(value).__name__}",
            field=f"tags.{key}",
        )
    if len(text) > MAX_TAG_LENGTH:
        raise ValidationError(
            f"tag {key!r}: value is {len(text)} characters, at most {MAX_TAG_LENGTH}",
            field=f"tags.{key}",
        )
    return text


def check_json_document(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    """``value`` as a plain dict if it is strict JSON (no NaN or Infinity), else refuse it.

    Documents such as profiles and reports are stored and sent as JSON, which would lose
    or mangle NaN; their own encoders write it as text.
    """
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{field}: not a strict JSON document ({exc}); encode NaN and Infinity as null or text",
            field=field,
        ) from None
    return dict(value)
