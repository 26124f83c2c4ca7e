"""The run page: params, tags, environment, note, error, metric charts, data and artifacts.

The charts are drawn in the browser by ``static/js/charts.js`` from the metric API
(``GET /api/v1/runs/{id}/metrics/{key}?max_points=N``), which downsamples long histories
on the server; the page only says which metrics to fetch, in a JSON data block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.ids import check_id
from loopml.server.deps import require_project
from loopml.server.ui.artifacts import preview_kind
from loopml.server.ui.base import (
    Context,
    UiPrincipal,
    experiment_ref,
    html_errors,
    render,
    url_path,
)
from loopml.server.ui.dataset_views import run_data

__all__ = ["CHART_POINTS", "environment_sections", "router"]

router = APIRouter(include_in_schema=False)

# Points per chart line: enough to show the shape at any laptop or desktop width.
CHART_POINTS = 1000
_POINTS = {"max_points": CHART_POINTS}
_PRELOADED_CHARTS = 4
_SECTIONS = (
    ("git", "Code"),
    ("python", "Python"),
    ("command", "Command"),
    ("seeds", "Seeds"),
    ("packages", "Packages"),
)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return orjson.dumps(value).decode()


def environment_sections(environment: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The captured environment as titled sections of ``(name, text)`` rows.

    >>> environment_sections({"git": {"commit": "abc", "dirty": True}, "host": "box"})
    [('Code', [('commit', 'abc'), ('dirty', 'true')]), ('Host', [('host', 'box')])]
    """
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for key, title in _SECTIONS:
        value = environment.get(key)
        if value in (None, {}, [], ""):
            continue
        if isinstance(value, Mapping):
            rows = [(str(k), _text(v)) for k, v in value.items()]
        else:
            rows = [(key, _text(value))]
        sections.append((title, rows))
    known = {key for key, _ in _SECTIONS}
    rest = [(str(k), _text(v)) for k, v in environment.items() if k not in known]
    if rest:
        sections.append(("Host", rest))
    return sections


@router.get("/p/{project}/r/{run_id}")
@html_errors
def run_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    run_id: str,
) -> Response:
    """Everything about one run."""
    record = require_project(request, project, Role.VIEWER)
    tracking = ctx.tracking_for(record)
    run = tracking.get_run(check_id(run_id, field="run_id"))
    experiment = tracking.get_experiment(run.experiment_id)
    artifacts = [(a, preview_kind(a.path)) for a in tracking.list_artifacts(run.id)]
    metric_keys = sorted(run.metrics)
    return render(
        request,
        "run.html",
        {
            "title": run.name,
            "project": record,
            "experiment": experiment,
            "run": run,
            "metric_keys": metric_keys,
            "artifacts": artifacts,
            "environment": environment_sections(run.environment),
            "data_uses": run_data(ctx, principal, run.id),
            # The first charts' data is requested while the page's scripts still load.
            "preload_urls": [
                url_path("api", "v1", "runs", run.id, "metrics", key, query=_POINTS)
                for key in metric_keys[:_PRELOADED_CHARTS]
            ],
            "chart_data": {
                "runs": [{"id": run.id, "name": run.name}],
                "metrics": metric_keys,
                "max_points": CHART_POINTS,
            },
            "breadcrumbs": [
                ("Projects", "/projects"),
                (record.name, url_path("p", record.name)),
                (experiment.name, url_path("p", record.name, "e", experiment_ref(experiment))),
                (run.name, None),
            ],
        },
        principal=principal,
    )
