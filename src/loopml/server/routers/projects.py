"""``/projects``: list, create (server admins) and read projects."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from loopml.core.auth import Role
from loopml.server.deps import ContextDep, PrincipalDep, require_project, require_server_admin
from loopml.server.schemas.projects import ProjectCreate, ProjectList, ProjectRead

__all__ = ["router"]

router = APIRouter(tags=["projects"])


@router.get("/projects", response_model=ProjectList, summary="Projects the caller may see")
def list_projects(
    principal: PrincipalDep,
    context: ContextDep,
) -> ProjectList:
    visible = [p for p in context.metadata.list_projects() if principal.role_in(p.id) is not None]
    return ProjectList(projects=[ProjectRead.model_validate(p) for p in visible])


@router.post("/projects", response_model=ProjectRead, status_code=201, summary="Create a project")
def create_project(body: ProjectCreate, request: Request, context: ContextDep) -> ProjectRead:
    require_server_admin(request)
    return ProjectRead.model_validate(context.metadata.create_project(body.name, body.description))


@router.get("/projects/{project}", response_model=ProjectRead, summary="A project by name or id")
def get_project(project: str, request: Request) -> ProjectRead:
    return ProjectRead.model_validate(require_project(request, project, Role.VIEWER))
