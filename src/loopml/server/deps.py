"""FastAPI dependencies: the context, the caller, and the records a caller may touch.

Authentication is enforced in one place: :func:`require_authentication` is a dependency
of the whole app, so every route needs a valid token (or session cookie) unless its path
is in :data:`PUBLIC_PATHS`. Routes then ask for the :class:`~loopml.core.auth.Principal`
with ``Depends(get_principal)`` (resolved once per request) and check the role a
project needs with :func:`require_project`, :func:`require_experiment` or
:func:`require_run`, which answer 404 alike for a record that does not exist and for one
in a project the caller has no role in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol, TypeVar
from urllib.parse import quote

from fastapi import Depends
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from loopml.core.auth import Principal, Role
from loopml.core.datasets import Dataset, DatasetVersion
from loopml.core.entities import Experiment, Project
from loopml.core.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from loopml.core.ids import ID_PATTERN, check_id
from loopml.core.models import ApprovalRequest, RegisteredModel
from loopml.core.validation import check_name
from loopml.server.context import ServerContext
from loopml.server.session import (
    CSRF_COOKIE,
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_tokens_match,
)

__all__ = [
    "PUBLIC_MOUNTS",
    "PUBLIC_PATHS",
    "SAFE_METHODS",
    "ContextDep",
    "PrincipalDep",
    "ensure_authenticated",
    "get_context",
    "get_principal",
    "get_ui_principal",
    "is_public",
    "require_authentication",
    "require_experiment",
    "require_experiment_project",
    "require_project",
    "require_run",
    "require_server_admin",
]

# THE allow-list: the only routes that answer without a token. Paths are route templates.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/login", "/login/once"})
# Mounted apps, which no dependency reaches, that answer without a token (the UI's
# vendored JS, CSS and fonts). tests/server/test_route_security.py fails on any other.
PUBLIC_MOUNTS = frozenset({"/static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PRINCIPAL_KEY = "loopml_principal"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def get_context(request: Request) -> ServerContext:
    """The app's :class:`ServerContext`."""
    context: ServerContext = request.app.state.context
    return context


def is_public(request: Request) -> bool:
    """Whether the request's route is on the allow-list.

    The request path must be an allow-listed path *and* the matched route's own
    template (which has no parameters): a route of that name included under a prefix
    (``/api/v1/login``) is not public.
    """
    path = request.scope["path"]
    return path in PUBLIC_PATHS and getattr(request.scope.get("route"), "path", None) == path


async def require_authentication(request: Request) -> None:
    """App-wide dependency: every route but the allow-listed ones needs a valid caller."""
    if not is_public(request):
        await get_principal(request)


async def ensure_authenticated(request: Request) -> None:
    """Like :func:`require_authentication`, for code that runs outside dependencies."""
    await require_authentication(request)


async def get_principal(request: Request) -> Principal:
    """The caller: from ``Authorization: Bearer <token>`` or the session cookie.

    Writes authenticated by the cookie must carry the CSRF token. Raises
    AuthenticationError (401) when there are no valid credentials.
    """
    state = request.scope.setdefault("state", {})
    cached = state.get(_PRINCIPAL_KEY)
    if isinstance(cached, Principal):
        return cached
    context = get_context(request)
    if not context.config.auth_required:
        principal = context.local_principal
        if request.method not in SAFE_METHODS and _is_form(request):
            await _check_csrf(request)
    else:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise AuthenticationError(
                    "the Authorization header must be 'Bearer <token>'", field="authorization"
                )
            principal = await _authenticate(context, raw.strip())
        else:
            cookie = request.cookies.get(SESSION_COOKIE)
            if not cookie:
                raise AuthenticationError(
                    "authentication required: send 'Authorization: Bearer <token>' "
                    "(create one with `loopml tokens create`) or log in to the web UI"
                )
            principal = await _authenticate(context, cookie)
            if request.method not in SAFE_METHODS:
                await _check_csrf(request)
    state[_PRINCIPAL_KEY] = principal
    return principal


async def _authenticate(context: ServerContext, raw_token: str) -> Principal:
    """A token remembered as verified needs no database: no thread hop for it either."""
    remembered = context.auth.remembered(raw_token)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(context.auth.authenticate, raw_token)


async def _context_dependency(request: Request) -> ServerContext:
    """:func:`get_context` as a dependency, without a thread hop.

    FastAPI runs a plain ``def`` dependency in the thread pool: that cost every request
    a hop for reading one attribute.
    """
    return get_context(request)


ContextDep = Annotated[ServerContext, Depends(_context_dependency)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_ui_principal(request: Request) -> Principal:
    """The caller of an HTML page; a browser without a session goes to ``/login``."""
    try:
        return await get_principal(request)
    except AuthenticationError:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            303, "log in first", headers={"Location": f"/login?next={quote(target, safe='')}"}
        ) from None


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").lower()
    return content_type.startswith(_FORM_TYPES)


async def _check_csrf(request: Request) -> None:
    """Double submit: header or form field must equal the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and _is_form(request):
        value = (await request.form()).get(CSRF_FORM_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_tokens_match(cookie, submitted):
        raise PermissionDeniedError(
            "missing or wrong CSRF token: reload the page and try again", field="csrf_token"
        )


def _principal_of(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get(_PRINCIPAL_KEY)
    if not isinstance(principal, Principal):  # a public route asking for a record
        raise AuthenticationError("authentication required")
    return principal


def require_server_admin(request: Request) -> Principal:
    """The caller, if it is a server admin; PermissionDeniedError otherwise."""
    principal = _principal_of(request)
    if not principal.user.is_admin:
        raise PermissionDeniedError("only a server admin may do this")
    return principal


def require_project(request: Request, project_name: str, needed: Role) -> Project:
    """The project named ``project_name`` (or with that id), if the caller has ``needed``.

    Call from a route after authentication (the app-wide dependency has run). An unknown
    project and a project the caller has no role in both raise NotFoundError (404); a
    role below ``needed`` raises PermissionDeniedError (403).
    """
    context = get_context(request)
    principal = _principal_of(request)
    check_name(project_name, field="project")
    not_found = NotFoundError(f"project {project_name!r} not found", field="project")
    try:
        project = _find_project(context, project_name)
        _authorize(context, principal, project.id, needed)
    except NotFoundError:
        raise not_found from None
    return project


class _InProject(Protocol):
    @property
    def project_id(self) -> str: ...


R = TypeVar("R", bound=_InProject)


def _require_record(
    request: Request,
    record_id: str,
    needed: Role,
    *,
    what: str,
    field: str,
    load: Callable[[ServerContext, str], R],
) -> R:
    """The record ``load`` finds, if the caller has ``needed`` in its project.

    An unknown record and one in a project the caller has no role in are the same 404,
    so ids of other projects cannot be probed.
    """
    context = get_context(request)
    check_id(record_id, field=field)
    try:
        record = load(context, record_id)
        _authorize(context, _principal_of(request), record.project_id, needed)
    except NotFoundError:
        raise NotFoundError(f"{what} {record_id!r} not found", field=field) from None
    return record


def require_experiment(request: Request, experiment_id: str, needed: Role) -> Experiment:
    """The experiment with this id, if the caller has ``needed`` in its project."""
    return _require_record(
        request,
        experiment_id,
        needed,
        what="experiment",
        field="experiment_id",
        load=lambda c, i: c.metadata.get_experiment(i),
    )


def require_experiment_project(request: Request, experiment_id: str, needed: Role) -> str:
    """The id of the project of experiment ``experiment_id``, if the caller has ``needed``.

    :func:`require_experiment` without reading the experiment: its project is cached (an
    experiment never moves), so a search authorizes without a query.
    """
    context = get_context(request)
    return _require_cached_project(
        request, experiment_id, needed, "experiment", context.project_of_experiment
    )


def require_run(request: Request, run_id: str, needed: Role) -> str:
    """The id of the project of run ``run_id``, if the caller has ``needed`` there."""
    context = get_context(request)
    return _require_cached_project(request, run_id, needed, "run", context.project_of_run)


def _require_cached_project(
    request: Request,
    record_id: str,
    needed: Role,
    what: str,
    project_of: Callable[[str], str],
) -> str:
    """The project id ``project_of`` gives for a record, if the caller has ``needed`` there.

    The same 404 for an unknown record and one in a project the caller has no role in.
    """
    field = f"{what}_id"
    check_id(record_id, field=field)
    try:
        project_id = project_of(record_id)
        _authorize(get_context(request), _principal_of(request), project_id, needed)
    except NotFoundError:
        raise NotFoundError(f"{what} {record_id!r} not found", field=field) from None
    return project_id


def require_dataset(request: Request, dataset_id: str, needed: Role) -> Dataset:
    """The dataset with this id, if the caller has ``needed`` in its project."""
    return _require_record(
        request,
        dataset_id,
        needed,
        what="dataset",
        field="dataset_id",
        load=lambda c, i: c.metadata.get_dataset(i),
    )


def require_dataset_version(request: Request, version_id: str, needed: Role) -> DatasetVersion:
    """The dataset version with this id, if the caller has ``needed`` in its project."""
    return _require_record(
        request,
        version_id,
        needed,
        what="dataset version",
        field="dataset_version_id",
        load=lambda c, i: c.metadata.get_dataset_version(i),
    )


def require_model(request: Request, model_id: str, needed: Role) -> RegisteredModel:
    """The registered model with this id, if the caller has ``needed`` in its project."""
    return _require_record(
        request,
        model_id,
        needed,
        what="model",
        field="model_id",
        load=lambda c, i: c.metadata.get_registered_model(i),
    )


def require_approval(request: Request, request_id: str, needed: Role) -> ApprovalRequest:
    """The approval request with this id, if the caller has ``needed`` in its project."""
    return _require_record(
        request,
        request_id,
        needed,
        what="approval request",
        field="request_id",
        load=lambda c, i: c.metadata.get_approval_request(i),
    )


def _find_project(context: ServerContext, name_or_id: str) -> Project:
    if ID_PATTERN.fullmatch(name_or_id):
        try:
            return context.metadata.get_project(name_or_id)
        except NotFoundError:
            pass
    return context.metadata.get_project_by_name(name_or_id)


def _authorize(context: ServerContext, principal: Principal, project_id: str, needed: Role) -> None:
    if not context.config.auth_required:
        return
    context.auth.authorize(principal, project_id, needed)
