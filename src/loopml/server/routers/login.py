"""Browser sessions: ``POST /login``, ``GET /login/once`` and ``POST /logout``.

The login page itself (``GET /login``) belongs to the web UI; its form posts ``token``,
``next`` and ``csrf_token`` (from :func:`loopml.server.session.csrf_token_for`) here.
Failed logins are throttled per client address (``X-Forwarded-For`` is believed only
from the configured trusted proxies).
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loopml.auth.ratelimit import client_address
from loopml.core.errors import AuthenticationError, PermissionDeniedError
from loopml.server.deps import ContextDep, get_principal
from loopml.server.session import (
    CSRF_COOKIE,
    CSRF_FORM_FIELD,
    clear_session,
    csrf_tokens_match,
    set_session,
)

__all__ = ["local_path", "router"]

router = APIRouter(include_in_schema=False)

# One leading slash and no second slash or backslash that a browser would read as a host.
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]*")


def local_path(target: object) -> str:
    """``target`` if it is a path on this server, else ``/`` (no open redirect).

    >>> local_path("/p/demo?x=1"), local_path("//evil.example"), local_path("https://x")
    ('/p/demo?x=1', '/', '/')
    """
    if isinstance(target, str) and _LOCAL_PATH.fullmatch(target):
        return target
    return "/"


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post("/login")
async def login(request: Request, context: ContextDep) -> Response:
    peer = request.client.host if request.client else ""
    address = client_address(
        peer, request.headers.get("x-forwarded-for"), context.config.trusted_proxies
    )
    context.login_limiter.check(address)
    form = await request.form()
    submitted = form.get(CSRF_FORM_FIELD)
    if not csrf_tokens_match(
        request.cookies.get(CSRF_COOKIE), submitted if isinstance(submitted, str) else None
    ):
        raise PermissionDeniedError(
            "missing or wrong CSRF token: reload the login page and try again",
            field="csrf_token",
        )
    token = form.get("token")
    raw = token.strip() if isinstance(token, str) else ""
    try:
        await run_in_threadpool(context.auth.authenticate, raw)
    except AuthenticationError:
        context.login_limiter.record_failure(address)
        return RedirectResponse("/login?error=1", status_code=303)
    response = RedirectResponse(local_path(form.get("next")), status_code=303)
    set_session(response, raw, secure=_is_https(request))
    return response


@router.get("/login/once")
async def login_once(request: Request, context: ContextDep, code: str = Query("")) -> Response:
    """Redeem a one-time code of a ``loopml ui`` link; it opens a session once."""
    raw = context.logins.redeem(code) if code else None
    if raw is None:
        return RedirectResponse("/login?error=expired", status_code=303)
    try:
        await run_in_threadpool(context.auth.authenticate, raw)
    except AuthenticationError:
        return RedirectResponse("/login?error=1", status_code=303)
    response = RedirectResponse("/", status_code=303)
    set_session(response, raw, secure=_is_https(request))
    return response


@router.post("/logout", dependencies=[Depends(get_principal)])
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    clear_session(response)
    return response
