"""Pages of projects and experiments: the project list, a project's experiments, and the
run table of an experiment (sortable, filterable, with a column picker).

The run table answers HTMX requests with just the table fragment, so sorting, filtering
and picking columns reload only the table while the URL keeps the whole state.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.errors import FilterSyntaxError, ValidationError
from loopml.server.deps import require_project
from loopml.server.ui.base import (
    Context,
    UiPrincipal,
    html_errors,
    is_partial,
    render,
    url_path,
    visible_projects,
)
from loopml.server.ui.run_table import (
    ATTRIBUTE_COLUMNS,
    TableState,
    available_columns,
    cell_value,
    choose_columns,
)

__all__ = ["MAX_TABLE_RUNS", "router"]

router = APIRouter(include_in_schema=False)

MAX_TABLE_RUNS = 1000
_AT_COLUMN = re.compile(r" at column \d+$")


def _filter_problem(exc: FilterSyntaxError) -> str:
    """The first line of a filter error, without the prefix and column the page shows."""
    return _AT_COLUMN.sub("", str(exc).splitlines()[0].removeprefix("filter: "))


@router.get("/projects")
@html_errors
def projects_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
) -> Response:
    """Every project the user may read."""
    return render(
        request,
        "projects.html",
        {"title": "Projects", "projects": visible_projects(ctx, principal)},
        principal=principal,
    )


@router.get("/p/{project}")
@html_errors
def experiments_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
) -> Response:
    """The experiments of a project."""
    record = require_project(request, project, Role.VIEWER)
    experiments = ctx.tracking_for(record).list_experiments()
    return render(
        request,
        "experiments.html",
        {
            "title": record.name,
            "project": record,
            "experiments": sorted(experiments, key=lambda e: e.created_at, reverse=True),
            "breadcrumbs": [("Projects", "/projects"), (record.name, None)],
        },
        principal=principal,
    )


@router.get("/p/{project}/e/{experiment}")
@html_errors
def runs_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    experiment: str,
    filter_text: Annotated[str, Query(alias="filter", max_length=4000)] = "",
    order_by: Annotated[str, Query(max_length=300)] = "",
    cols: Annotated[list[str] | None, Query()] = None,
    picked: str = "",
) -> Response:
    """The run table of one experiment."""
    record = require_project(request, project, Role.VIEWER)
    tracking = ctx.tracking_for(record)
    exp = tracking.get_experiment(experiment)
    state = TableState.from_query(order_by)
    filter_error: FilterSyntaxError | None = None
    order_error = ""
    try:
        runs = tracking.search_runs(
            exp.id, filter_text or None, state.order_by, max_results=MAX_TABLE_RUNS
        )
    except FilterSyntaxError as exc:
        runs = []
        if exc.text == filter_text:
            filter_error = exc
        else:
            order_error = str(exc).splitlines()[0]
    except ValidationError as exc:
        runs, order_error = [], str(exc).splitlines()[0]
    # Columns come from every run of the experiment, so a filter never hides a column.
    everything = (
        runs if not filter_text else tracking.search_runs(exp.id, max_results=MAX_TABLE_RUNS)
    )
    params, metrics = available_columns(everything)
    chosen = None if not picked and cols is None else [c for c in cols or [] if c]
    columns = choose_columns(params, metrics, chosen)
    base_query = {"filter": filter_text, "cols": [c.name for c in columns], "picked": "1"}
    context = {
        "title": exp.name,
        "project": record,
        "experiment": exp,
        "runs": runs,
        "n_max": MAX_TABLE_RUNS,
        "attribute_columns": ATTRIBUTE_COLUMNS,
        "columns": columns,
        "param_columns": params,
        "metric_columns": metrics,
        "chosen": {c.name for c in columns},
        "cell_value": cell_value,
        "state": state,
        "filter_text": filter_text,
        "filter_error": filter_error,
        "filter_problem": _filter_problem(filter_error) if filter_error else "",
        "order_error": order_error,
        "base_query": base_query,
        "page_url": url_path("p", record.name, "e", experiment),
        "breadcrumbs": [
            ("Projects", "/projects"),
            (record.name, url_path("p", record.name)),
            (exp.name, None),
        ],
    }
    template = "_run_table.html" if is_partial(request) else "runs.html"
    return render(request, template, context, principal=principal)
