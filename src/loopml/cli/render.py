"""Rendering for the CLI: Rich tables for people, ``--json`` for programs."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

from loopml.core.entities import Run

__all__ = [
    "console",
    "err_console",
    "format_time",
    "format_value",
    "print_json",
    "run_to_dict",
    "short_id",
    "table",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "items"):
        return dict(value.items())
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def _json_safe(value: Any) -> Any:
    """NaN and infinities as strings, so the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Print ``data`` as indented, strict JSON on stdout."""
    text = json.dumps(_json_safe(json.loads(json.dumps(data, default=_default))), indent=2)
    print(text)


def short_id(run_id: str) -> str:
    return run_id[:8]


def format_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else ""


def format_value(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}"
    return "" if value is None else str(value)


def run_to_dict(run: Run) -> dict[str, Any]:
    """A run as plain JSON-ready data."""
    return {
        "id": run.id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "start_time": run.start_time.isoformat(),
        "end_time": run.end_time.isoformat() if run.end_time else None,
        "duration_s": run.duration_s,
        "parent_run_id": run.parent_run_id,
        "user": run.user,
        "note": run.note,
        "error": run.error,
        "params": dict(run.params),
        "metrics": {
            k: {"value": m.value, "step": m.step, "timestamp": m.timestamp}
            for k, m in run.metrics.items()
        },
        "tags": dict(run.tags),
        "environment": dict(run.environment),
        "deleted": run.deleted,
    }


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table; numbers right-aligned."""
    result = Table(title=title, title_justify="left", header_style="bold", show_lines=False)
    materialized = [list(r) for r in rows]
    for index, column in enumerate(columns):
        numeric = bool(materialized) and all(
            isinstance(r[index], int | float) and not isinstance(r[index], bool)
            for r in materialized
            if r[index] is not None
        )
        result.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in materialized:
        result.add_row(*(format_value(v) for v in row))
    return result
