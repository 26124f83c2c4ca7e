"""Pages of datasets: the list, one dataset's versions, a version's profile and validation
report, and the diff between two versions.

=============================================  =====================================
``/p/{project}/datasets``                      the project's datasets
``/p/{project}/d/{dataset}``                   its versions; pick two to compare
``/p/{project}/d/{dataset}/v/{version}``       facts, schema, profile, validation
``/p/{project}/d/{dataset}/diff?old=1&new=2``  schema changes, rows, drift per column
=============================================  =====================================

``{version}`` is a number or ``latest``. The charts are inline SVG laid out on the server
(:mod:`loopml.server.ui.dataset_charts`): the profile is already binned, so they need no
script. Pages read stored profiles and never compute one: a GET changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.auth import Role
from loopml.core.datasets import LATEST, Dataset, DatasetVersion, check_dataset_name
from loopml.core.entities import Project
from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.profiles import DatasetProfile
from loopml.server.context import ServerContext
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, render, url_path
from loopml.server.ui.dataset_views import (
    column_views,
    drift_chart,
    null_rate_chart,
    read_profile,
    read_validation,
    version_runs,
    version_status,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _dataset(ctx: ServerContext, project: Project, name: str) -> Dataset:
    return ctx.metadata.get_dataset_by_name(project.id, check_dataset_name(name, field="dataset"))


def _version(ctx: ServerContext, dataset: Dataset, version: str) -> DatasetVersion:
    """Version ``version`` (a number or ``latest``) of ``dataset``; 404 for anything else."""
    if version != LATEST and not (version.isdigit() and len(version) < 10 and int(version) > 0):
        raise NotFoundError(f"dataset {dataset.name!r} has no version {version!r}")
    number = None if version == LATEST else int(version)
    return ctx.metadata.get_dataset_version_by_number(dataset.id, number)


def _crumbs(project: Project, *tail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [
        ("Projects", "/projects"),
        (project.name, url_path("p", project.name)),
        *tail,
    ]


def _diff_problems(
    *sides: tuple[DatasetVersion, DatasetProfile | None, str],
) -> list[str]:
    """Why a diff cannot be shown: a version without a readable profile."""
    problems = []
    for version, profile, problem in sides:
        if problem:
            problems.append(problem)
        elif profile is None:
            problems.append(
                f"{version.ref} has no profile, so there is nothing to compare yet: "
                f"'loopml data profile {version.ref}' computes it."
            )
    return problems


@router.get("/p/{project}/datasets")
@html_errors
def datasets_page(request: Request, principal: UiPrincipal, ctx: Context, project: str) -> Response:
    """The project's datasets with their latest versions."""
    record = require_project(request, project, Role.VIEWER)
    datasets = ctx.metadata.list_datasets(record.id)
    latest = {
        d.id: ctx.metadata.get_dataset_version_by_number(d.id, None)
        for d in datasets
        if d.n_versions
    }
    return render(
        request,
        "datasets.html",
        {
            "title": f"Datasets · {record.name}",
            "project": record,
            "section": "datasets",
            "datasets": datasets,
            "latest": latest,
            "breadcrumbs": _crumbs(record, ("Datasets", None)),
        },
        principal=principal,
    )


@router.get("/p/{project}/d/{dataset}")
@html_errors
def dataset_page(
    request: Request, principal: UiPrincipal, ctx: Context, project: str, dataset: str
) -> Response:
    """One dataset's versions, newest first, and a form to compare two of them."""
    record = require_project(request, project, Role.VIEWER)
    found = _dataset(ctx, record, dataset)
    versions = ctx.metadata.list_dataset_versions(found.id)
    return render(
        request,
        "datasets_dataset.html",
        {
            "title": f"{found.name} · datasets",
            "project": record,
            "section": "datasets",
            "dataset": found,
            "versions": [(v, version_status(v)) for v in versions],
            "numbers": [v.version for v in versions],
            "old": versions[1].version if len(versions) > 1 else None,
            "new": versions[0].version if versions else None,
            "breadcrumbs": _crumbs(
                record,
                ("Datasets", url_path("p", record.name, "datasets")),
                (found.name, None),
            ),
        },
        principal=principal,
    )


@router.get("/p/{project}/d/{dataset}/v/{version}")
@html_errors
def version_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    dataset: str,
    version: str,
) -> Response:
    """One version: facts, schema, validation report, null rates and column profiles."""
    record = require_project(request, project, Role.VIEWER)
    found = _dataset(ctx, record, dataset)
    chosen = _version(ctx, found, version)
    profile, profile_problem = read_profile(chosen)
    report, report_problem = read_validation(chosen)
    return render(
        request,
        "datasets_version.html",
        {
            "title": chosen.ref,
            "project": record,
            "section": "datasets",
            "dataset": found,
            "version": chosen,
            "status": version_status(chosen),
            "profile": profile,
            "profile_problem": profile_problem,
            "columns": column_views(profile) if profile else [],
            "null_chart": null_rate_chart(profile) if profile else None,
            "report": report,
            "report_problem": report_problem,
            "runs": version_runs(ctx, principal, chosen.id),
            "breadcrumbs": _crumbs(
                record,
                ("Datasets", url_path("p", record.name, "datasets")),
                (found.name, url_path("p", record.name, "d", found.name)),
                (f"version {chosen.version}", None),
            ),
        },
        principal=principal,
    )


@router.get("/p/{project}/d/{dataset}/diff")
@html_errors
def diff_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    dataset: str,
    old: Annotated[str, Query(max_length=20)] = "",
    new: Annotated[str, Query(max_length=20)] = LATEST,
) -> Response:
    """What changed from version ``old`` (by default the one before ``new``) to ``new``."""
    from loopml.datasets.diff import diff_profiles

    record = require_project(request, project, Role.VIEWER)
    found = _dataset(ctx, record, dataset)
    after = _version(ctx, found, new or LATEST)
    if not old and after.version == 1:
        raise ValidationError(f"{after.ref} is the first version: pick an older one to compare")
    before = _version(ctx, found, old or str(after.version - 1))
    old_profile, old_problem = read_profile(before)
    new_profile, new_problem = read_profile(after)
    diff = None
    if old_profile is not None and new_profile is not None:
        diff = diff_profiles(old_profile, new_profile, old_name=before.ref, new_name=after.ref)
    numbers = [v.version for v in ctx.metadata.list_dataset_versions(found.id)]
    problems = _diff_problems((before, old_profile, old_problem), (after, new_profile, new_problem))
    return render(
        request,
        "datasets_diff.html",
        {
            "title": f"{before.ref} → {after.ref}",
            "project": record,
            "section": "datasets",
            "dataset": found,
            "before": before,
            "after": after,
            "diff": diff,
            "problems": problems,
            "chart": drift_chart(diff) if diff else None,
            "anchors": {name: i for i, name in enumerate(new_profile.names)} if new_profile else {},
            "numbers": numbers,
            "old": before.version,
            "new": after.version,
            "breadcrumbs": _crumbs(
                record,
                ("Datasets", url_path("p", record.name, "datasets")),
                (found.name, url_path("p", record.name, "d", found.name)),
                (f"{before.version} → {after.version}", None),
            ),
        },
        principal=principal,
    )
