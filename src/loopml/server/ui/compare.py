"""Compare 2-10 runs: metric charts, a param diff and parallel coordinates.

``/p/{project}/compare?runs=a,b,c`` (or ``?runs=a&runs=b``, as the run table's checkboxes
send it). The metric charts are drawn by ``static/js/charts.js`` (overlaid lines for a
metric with a history, bars for one logged at most once per run) and the parallel
coordinates by ``static/js/parcoords.js``, both from JSON data blocks in the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.entities import Run
from loopml.core.errors import ValidationError
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, render, url_path
from loopml.server.ui.runs import CHART_POINTS

__all__ = ["MAX_AXES", "MAX_COMPARE", "MIN_COMPARE", "parallel_axes", "router"]

router = APIRouter(include_in_schema=False)

MIN_COMPARE = 2
MAX_COMPARE = 10
MAX_AXES = 16


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _differs(values: Sequence[object]) -> bool:
    return len({repr(v) for v in values}) > 1


def parallel_axes(
    runs: Sequence[Run], param_keys: Sequence[str], metric_keys: Sequence[str]
) -> list[dict[str, Any]]:
    """Axes of the parallel-coordinates chart: the params that differ, then the metrics.

    A param axis is numeric when every run's value reads as a finite number, otherwise
    categorical; metric axes are numeric (NaN and infinities become gaps).

    >>> from datetime import UTC, datetime
    >>> from loopml.core.entities import RunStatus
    >>> start = datetime.now(UTC)
    >>> a = Run("a" * 32, "e" * 32, "a", RunStatus.FINISHED, start, params={"lr": "0.1"})
    >>> b = Run("b" * 32, "e" * 32, "b", RunStatus.FINISHED, start, params={"lr": "0.2"})
    >>> parallel_axes([a, b], ["lr"], [])
    [{'label': 'lr', 'kind': 'param', 'numeric': True, 'values': [0.1, 0.2]}]
    """
    axes: list[dict[str, Any]] = []
    for key in param_keys:
        raw = [run.params.get(key) for run in runs]
        if not _differs(raw):
            continue
        numbers = [_number(v) for v in raw]
        numeric = all(n is not None for n, v in zip(numbers, raw, strict=True) if v is not None)
        values: list[Any] = numbers if numeric else raw
        axes.append({"label": key, "kind": "param", "numeric": numeric, "values": values})
    for key in metric_keys:
        points = [run.metrics.get(key) for run in runs]
        numbers = [None if m is None else _number(m.value) for m in points]
        axes.append({"label": key, "kind": "metric", "numeric": True, "values": numbers})
    return axes[:MAX_AXES]


def _run_ids(values: Sequence[str]) -> list[str]:
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            if part.strip() and part.strip() not in ids:
                ids.append(part.strip())
    if not MIN_COMPARE <= len(ids) <= MAX_COMPARE:
        raise ValidationError(
            f"pick {MIN_COMPARE} to {MAX_COMPARE} runs to compare (got {len(ids)})", field="runs"
        )
    return ids


@router.get("/p/{project}/compare")
@html_errors
def compare_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    runs: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Two to ten runs side by side."""
    record = require_project(request, project, Role.VIEWER)
    tracking = ctx.tracking_for(record)
    chosen = [tracking.get_run(tracking.resolve_run_id(ref)) for ref in _run_ids(runs or [])]
    param_keys = sorted({k for run in chosen for k in run.params})
    metric_keys = sorted({k for run in chosen for k in run.metrics})
    param_rows = [(key, [run.params.get(key) for run in chosen]) for key in param_keys]
    metric_rows = [
        (key, [run.metrics[key].value if key in run.metrics else None for run in chosen])
        for key in metric_keys
    ]
    return render(
        request,
        "compare.html",
        {
            "title": f"Compare {len(chosen)} runs",
            "project": record,
            "runs": chosen,
            "param_rows": [(k, v, _differs(v)) for k, v in param_rows],
            "metric_rows": [(k, v, _differs(v)) for k, v in metric_rows],
            "n_differing": sum(1 for _, v in param_rows if _differs(v)),
            "chart_data": {
                "runs": [{"id": run.id, "name": run.name} for run in chosen],
                "metrics": metric_keys,
                # Per metric, which runs logged it: the page fetches only those series.
                "logged": [[key in run.metrics for run in chosen] for key in metric_keys],
                "max_points": CHART_POINTS,
            },
            "parallel_data": {
                "runs": [{"id": run.id, "name": run.name} for run in chosen],
                "axes": parallel_axes(chosen, param_keys, metric_keys),
            },
            "breadcrumbs": [
                ("Projects", "/projects"),
                (record.name, url_path("p", record.name)),
                ("Compare", None),
            ],
        },
        principal=principal,
    )
