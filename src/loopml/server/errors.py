"""The one place that maps loopml errors to HTTP: status, code and a JSON body.

Every error response has the body ``{"error": code, "message": text, "field": name}``:

==========================================  ======  ===========================
error                                       status  code
==========================================  ======  ===========================
UnsafePathError                             400     ``validation_error``
ValidationError, request validation         422     ``validation_error``
AuthenticationError                         401     ``unauthenticated``
RateLimitedError                            429     ``rate_limited``
PermissionDeniedError                       403     ``forbidden``
NotFoundError                               404     ``not_found``
AlreadyExistsError                          409     ``already_exists``
ConflictError                               409     ``conflict``
IntegrityError                              409     ``integrity_error``
StoreUnavailableError                       503     ``store_unavailable``
SchemaVersionError                          503     ``schema_version``
anything else                               500     ``internal_error`` (logged)
==========================================  ======  ===========================

A browser asking for a page without a valid session is redirected to ``/login`` instead
of receiving a 401 body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson
import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from loopml.core.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    IntegrityError,
    LoopmlError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    SchemaVersionError,
    StoreUnavailableError,
    UnsafePathError,
    ValidationError,
)

__all__ = ["error_body", "error_response", "install_error_handlers", "status_of"]

log = structlog.get_logger("loopml.server")

# Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[LoopmlError], int, str], ...] = (
    (UnsafePathError, 400, "validation_error"),
    (ValidationError, 422, "validation_error"),
    (RateLimitedError, 429, "rate_limited"),
    (AuthenticationError, 401, "unauthenticated"),
    (PermissionDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (AlreadyExistsError, 409, "already_exists"),
    (ConflictError, 409, "conflict"),
    (IntegrityError, 409, "integrity_error"),
    (StoreUnavailableError, 503, "store_unavailable"),
    (SchemaVersionError, 503, "schema_version"),
)
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "rate_limited",
}
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def status_of(error: LoopmlError) -> tuple[int, str]:
    """HTTP status and error code of a loopml error.

    >>> status_of(NotFoundError("run 'x' not found"))
    (404, 'not_found')
    """
    for kind, status, code in _STATUS:
        if isinstance(error, kind):
            return status, code
    return 500, "internal_error"


def error_body(code: str, message: str, field: str | None = None) -> bytes:
    """The JSON body of an error response."""
    return orjson.dumps({"error": code, "message": message, "field": field})


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error response with the JSON body every error shares."""
    return Response(
        error_body(code, message, field),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _wants_login_page(request: Request) -> bool:
    """A browser navigating to a page (not the API) gets the login page, not a 401 body."""
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _loopml_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoopmlError)
    status, code = status_of(exc)
    if status == 401 and _wants_login_page(request):
        return _login_redirect(request)
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))}
    elif status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="loopml"'}
    if status >= 500:
        log.warning("store_error", error=type(exc).__name__, message=exc.message)
    return error_response(status, code, exc.message, exc.field, headers)


def _first_error_field(errors: list[dict[str, Any]]) -> tuple[str | None, str]:
    if not errors:
        return None, "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        return "body", f"malformed JSON: {first.get('ctx', {}).get('error', 'does not parse')}"
    if len(loc) > 1 and loc[0] in _LOCATIONS:
        loc = loc[1:]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid value"))
    return field, f"{field}: {message}" if field else message


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # The body is parsed before dependencies run: answer 401, not 422, to a caller that
    # is not authenticated, so an anonymous caller learns nothing about a route's input.
    from loopml.server.deps import ensure_authenticated

    try:
        await ensure_authenticated(request)
    except LoopmlError as auth_error:
        return await _loopml_error(request, auth_error)
    field, message = _first_error_field(list(exc.errors()))
    return error_response(422, "validation_error", message, field)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, code, message, None, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error(
        "unhandled_error",
        method=request.method,
        path=request.url.path,
        error=type(exc).__name__,
        exc_info=exc,
    )
    return error_response(500, "internal_error", "internal server error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(LoopmlError, _loopml_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
