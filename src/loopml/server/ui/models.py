"""Pages of the model registry: the list, one model, one version and its model card.

===========================================  ==========================================
``/p/{project}/models``                      the project's registered models
``/p/{project}/m/{model}``                   versions, aliases, release policy, moves
``/p/{project}/m/{model}/v/{version}``       metrics, lineage, evaluation, approvals
``/p/{project}/m/{model}/v/{version}/card``  the model card (``?format=html|md``: a file)
===========================================  ==========================================

``{version}`` is a number, ``latest`` or an alias such as ``champion``. The pages only
read records: a GET changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.entities import Project
from loopml.core.errors import NotFoundError
from loopml.core.models import ApprovalStatus, ModelVersion, RegisteredModel, check_model_name
from loopml.governance import model_card_view as card_view
from loopml.governance.model_card import gather_model_card, render_model_card
from loopml.server.context import ServerContext
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, render, url_path
from loopml.server.ui.model_lineage import lineage_graph
from loopml.server.ui.model_views import evaluation_view, key_metrics, policy_view, scores

__all__ = ["find_model", "find_version", "model_crumbs", "router"]

router = APIRouter(include_in_schema=False)


def find_model(ctx: ServerContext, project: Project, name: str) -> RegisteredModel:
    """The project's model called ``name``; NotFoundError otherwise."""
    return ctx.metadata.get_registered_model_by_name(
        project.id, check_model_name(name, field="model")
    )


def find_version(ctx: ServerContext, model: RegisteredModel, ref: str) -> ModelVersion:
    """Version ``ref`` (a number, ``latest`` or an alias) of ``model``; 404 otherwise."""
    if ref.isdigit() and len(ref) < 10 and int(ref) > 0:
        number = int(ref)
    elif ref == "latest" and model.n_versions:
        number = model.n_versions
    elif ref in model.aliases:
        number = model.aliases[ref]
    else:
        raise NotFoundError(f"model {model.name!r} has no version or alias {ref!r}")
    return ctx.metadata.get_model_version(model.id, number)


def model_crumbs(project: Project, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [
        ("Projects", "/projects"),
        (project.name, url_path("p", project.name)),
        ("Models", url_path("p", project.name, "models")),
        *tail,
    ]


@router.get("/p/{project}/models")
@html_errors
def models_page(request: Request, principal: UiPrincipal, ctx: Context, project: str) -> Response:
    """The project's registered models with their aliases."""
    record = require_project(request, project, Role.VIEWER)
    models = ctx.metadata.list_registered_models(record.id)
    n_open: dict[str, int] = {}
    for pending in ctx.metadata.list_approval_requests(record.id, status=ApprovalStatus.OPEN):
        n_open[pending.model_id] = n_open.get(pending.model_id, 0) + 1
    return render(
        request,
        "models.html",
        {
            "title": f"Models · {record.name}",
            "project": record,
            "section": "models",
            "models": models,
            "n_open": n_open,
            "breadcrumbs": [*model_crumbs(record)[:-1], ("Models", None)],
        },
        principal=principal,
    )


@router.get("/p/{project}/m/{model}")
@html_errors
def model_page(
    request: Request, principal: UiPrincipal, ctx: Context, project: str, model: str
) -> Response:
    """One model: its versions, aliases, release policy and the history of its aliases."""
    record = require_project(request, project, Role.VIEWER)
    found = find_model(ctx, record, model)
    versions = ctx.metadata.list_model_versions(found.id)
    moves = ctx.metadata.alias_history(found.id)
    return render(
        request,
        "models_model.html",
        {
            "title": f"{found.name} · models",
            "project": record,
            "section": "models",
            "model": found,
            "versions": [(v, scores(v)) for v in versions],
            "metrics": key_metrics(versions),
            "policy": policy_view(found),
            "moves": list(reversed(moves)),
            "breadcrumbs": model_crumbs(record, (found.name, None)),
        },
        principal=principal,
    )


@router.get("/p/{project}/m/{model}/v/{version}")
@html_errors
def version_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    model: str,
    version: str,
) -> Response:
    """One version: metrics, lineage, evaluation and the history of its approvals."""
    record = require_project(request, project, Role.VIEWER)
    found = find_model(ctx, record, model)
    chosen = find_version(ctx, found, version)
    evaluation, evaluation_problem = evaluation_view(chosen.evaluation)
    approvals = [
        r
        for r in ctx.metadata.list_approval_requests(record.id, model_id=found.id)
        if r.version == chosen.version
    ]
    return render(
        request,
        "models_version.html",
        {
            "title": f"{found.name} version {chosen.version}",
            "project": record,
            "section": "models",
            "model": found,
            "version": chosen,
            "lineage": lineage_graph(ctx, principal, record.name, chosen),
            "evaluation": evaluation,
            "evaluation_problem": evaluation_problem,
            "approvals": approvals,
            "breadcrumbs": model_crumbs(
                record,
                (found.name, url_path("p", record.name, "m", found.name)),
                (f"version {chosen.version}", None),
            ),
        },
        principal=principal,
    )


@router.get("/p/{project}/m/{model}/v/{version}/card")
@html_errors
def card_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    model: str,
    version: str,
    format: Annotated[Literal["page", "html", "md"], Query()] = "page",
) -> Response:
    """The version's model card as a page of the UI, or a file to download.

    The standalone HTML card styles itself inline, which the server's policy
    (``style-src 'self'``) would block, so the UI lays out the same view with its own
    stylesheets; ``?format=html`` and ``?format=md`` download the card as
    ``loopml models card`` writes it.
    """
    record = require_project(request, project, Role.VIEWER)
    found = find_model(ctx, record, model)
    chosen = find_version(ctx, found, version)
    card = gather_model_card(ctx.metadata, found.id, chosen.version, project_id=record.id)
    if format != "page":
        name = f"{found.name}-v{chosen.version}-model-card.{format}"
        media = "text/markdown" if format == "md" else "text/html"
        return Response(
            render_model_card(card, format=format),
            media_type=f"{media}; charset=utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )
    return render(
        request,
        "models_card.html",
        {
            "title": f"Model card · {found.name} version {chosen.version}",
            "project": record,
            "section": "models",
            "model": found,
            "version": chosen,
            "card": card_view.build(card),
            "breadcrumbs": model_crumbs(
                record,
                (found.name, url_path("p", record.name, "m", found.name)),
                (
                    f"version {chosen.version}",
                    url_path("p", record.name, "m", found.name, "v", str(chosen.version)),
                ),
                ("model card", None),
            ),
        },
        principal=principal,
    )
