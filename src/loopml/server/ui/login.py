"""The login page and the front door: ``GET /login`` and ``GET /``.

The form posts the token to ``POST /login`` (the server's session routes), which opens
the browser session and sends the user on to ``next``; a wrong token comes back here
with ``?error=1``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loopml.server.routers.login import local_path
from loopml.server.ui.base import Context, UiPrincipal, render, url_path, visible_projects

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(
    request: Request, next_: Annotated[str, Query(alias="next")] = "/", error: str = ""
) -> Response:
    """The token form; ``?error=1`` after a refused token, ``?error=expired`` after a
    one-time link that was already used or is too old."""
    return render(
        request,
        "login.html",
        {"next": local_path(next_), "error": error, "title": "Log in"},
    )


@router.get("/")
def home(
    principal: UiPrincipal,
    ctx: Context,
) -> Response:
    """The only project when there is one, else the project list."""
    projects = visible_projects(ctx, principal)
    if len(projects) == 1:
        return RedirectResponse(url_path("p", projects[0].name), status_code=303)
    return RedirectResponse("/projects", status_code=303)
