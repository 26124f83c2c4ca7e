"""``POST /runs/search``: runs of some experiments, filtered, ordered, one page at a time."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from loopml.core.auth import Role
from loopml.core.filters import parse_filter, parse_order_by
from loopml.server.deps import ContextDep, require_experiment
from loopml.server.schemas.runs import RunPageRead, RunRead, RunSearch

__all__ = ["router"]

router = APIRouter(tags=["runs"])


@router.post("/runs/search", response_model=RunPageRead, summary="Search runs")
def search_runs(body: RunSearch, request: Request, context: ContextDep) -> RunPageRead:
    """Filters use the language of ``docs/filters.md``; ``page_token`` continues a search."""
    for experiment_id in dict.fromkeys(body.experiment_ids):
        require_experiment(request, experiment_id, Role.VIEWER)
    page = context.metadata.search_runs(
        body.experiment_ids,
        parse_filter(body.filter),
        parse_order_by(body.order_by),
        body.max_results,
        body.page_token,
        body.include_deleted,
    )
    return RunPageRead(
        runs=[RunRead.model_validate(run) for run in page.runs],
        next_page_token=page.next_page_token,
    )
