"""``POST /runs/search``: runs of some experiments, filtered, ordered, one page at a time.

A page holds up to thousands of runs with all their params, metrics and tags, so its body
is written with orjson straight from the store's snapshots (:func:`page_json`), in the
shape of :class:`~loopml.server.schemas.runs.RunPageRead`, which stays the documented
response model; validating every run through pydantic first cost more than the search.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.entities import Metric, Run, RunPage
from loopml.core.filters import Expr, OrderBy, parse_filter, parse_order_by
from loopml.server.deps import ContextDep, require_experiment_project
from loopml.server.schemas.runs import RunPageRead, RunSearch

__all__ = ["page_json", "router", "run_json"]

router = APIRouter(tags=["runs"])

_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_JSON_OPTIONS = orjson.OPT_UTC_Z


@router.post("/runs/search", response_model=RunPageRead, summary="Search runs")
def search_runs(body: RunSearch, request: Request, context: ContextDep) -> Response:
    """Filters use the language of ``docs/filters.md``; ``page_token`` continues a search."""
    for experiment_id in dict.fromkeys(body.experiment_ids):
        require_experiment_project(request, experiment_id, Role.VIEWER)
    page = context.metadata.search_runs(
        body.experiment_ids,
        _parse_filter(body.filter),
        _parse_order_by(tuple(body.order_by)),
        body.max_results,
        body.page_token,
        body.include_deleted,
    )
    return Response(page_json(page), media_type="application/json")


# Parsing a filter costs about a millisecond; dashboards repeat the same few searches.
# The parsed trees are frozen, so one may serve many requests.
@functools.lru_cache(maxsize=256)
def _parse_filter(text: str | None) -> Expr | None:
    return parse_filter(text)


@functools.lru_cache(maxsize=256)
def _parse_order_by(clauses: tuple[str, ...]) -> tuple[OrderBy, ...]:
    return parse_order_by(clauses)


def page_json(page: RunPage) -> bytes:
    """The JSON body of a page of runs, as :class:`RunPageRead` writes it."""
    return orjson.dumps(
        {"runs": [run_json(run) for run in page.runs], "next_page_token": page.next_page_token},
        option=_JSON_OPTIONS,
    )


def run_json(run: Run) -> dict[str, Any]:
    """One run as :class:`~loopml.server.schemas.runs.RunRead` writes it to JSON.

    Metric values that JSON cannot hold become the strings ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"``, also inside ``environment``; times are ISO 8601 with ``Z``.
    """
    return {
        "id": run.id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "parent_run_id": run.parent_run_id,
        "user": run.user,
        "note": run.note,
        "error": run.error,
        "params": dict(run.params),
        "metrics": {key: _metric_json(metric) for key, metric in run.metrics.items()},
        "tags": dict(run.tags),
        "environment": _finite(run.environment),
        "deleted": run.deleted,
    }


def _metric_json(metric: Metric) -> dict[str, Any]:
    value = metric.value
    return {
        "value": value if math.isfinite(value) else _NON_FINITE[repr(value)],
        "step": metric.step,
        "timestamp": metric.timestamp,
    }


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float (at any depth) as its string."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[repr(value)]
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
