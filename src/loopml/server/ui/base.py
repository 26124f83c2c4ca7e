"""What every page shares: the template environment, page rendering and safe JSON for charts.

Templates are autoescaped (every ``{{ value }}`` is HTML-escaped) and never mark user data
``|safe``. Chart data reaches the browser's JavaScript only through
``<script type="application/json">`` blocks written by :func:`json_for_html`, which escapes
``<``, ``>`` and ``&`` so that no value can close the block; the page's scripts are static
files (the server's Content-Security-Policy forbids inline script and style).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec
from urllib.parse import quote, urlencode

import jinja2
import orjson
from fastapi import Depends
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from loopml.core.auth import Principal
from loopml.core.entities import Experiment, Project
from loopml.core.errors import LoopmlError, NotFoundError, PermissionDeniedError, ValidationError
from loopml.server.context import ServerContext
from loopml.server.deps import get_context, get_ui_principal
from loopml.server.session import csrf_token_for

__all__ = [
    "STATIC_DIR",
    "Context",
    "UiPrincipal",
    "experiment_ref",
    "html_errors",
    "is_partial",
    "json_for_html",
    "render",
    "url_path",
    "visible_projects",
]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_URL_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
# What page views declare: the logged-in user (else a redirect to /login) and the context.
UiPrincipal = Annotated[Principal, Depends(get_ui_principal)]
Context = Annotated[ServerContext, Depends(get_context)]
_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_html(value: Any) -> Markup:
    """``value`` as JSON that is safe inside ``<script type="application/json">``.

    >>> str(json_for_html({"name": "</script><img src=x>"}))
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x\\\\u003e"}'
    """
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return Markup(text.translate(_JSON_ESCAPES))  # noqa: S704 - escaped just above


def url_path(*segments: str, query: Mapping[str, Any] | None = None) -> str:
    """An absolute URL path from segments, each percent-encoded (``/`` included).

    >>> url_path("p", "my project", "e", "a/b", query={"filter": "x > 1"})
    '/p/my%20project/e/a%2Fb?filter=x+%3E+1'
    """
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    if query:
        pairs = [(k, v) for k, v in query.items() if v not in (None, "", [], ())]
        flat: list[tuple[str, str]] = []
        for key, value in pairs:
            if isinstance(value, list | tuple):
                flat.extend((key, str(v)) for v in value)
            else:
                flat.append((key, str(value)))
        if flat:
            path += "?" + urlencode(flat)
    return path


def experiment_ref(experiment: Experiment) -> str:
    """What an experiment's URL names it by: its name when URL-safe, else its id."""
    return experiment.name if _URL_SAFE_NAME.fullmatch(experiment.name) else experiment.id


def _format_time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _format_ms_time(value: int) -> str:
    return _format_time(datetime.fromtimestamp(value / 1000, UTC))


def _format_number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _format_size(n_bytes: int) -> str:
    size = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover - the loop always returns


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        json=json_for_html,
        time=_format_time,
        ms_time=_format_ms_time,
        number=_format_number,
        duration=_format_duration,
        size=_format_size,
    )
    env.globals.update(url=url_path, experiment_ref=experiment_ref)
    return env


def is_partial(request: Request) -> bool:
    """Whether HTMX asked for a fragment (not a history restore, which needs the page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """Render ``template`` with ``context`` plus the request, user and CSRF token."""
    values = {
        "request": request,
        "principal": principal,
        "csrf_token": csrf_token_for(request),
        "breadcrumbs": (),
        **context,
    }
    html = _environment().get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers["Cache-Control"] = "no-store"
    return response


def visible_projects(ctx: ServerContext, principal: Principal) -> list[Project]:
    """The projects ``principal`` has a role in, by name (as ``GET /api/v1/projects``)."""
    projects = [p for p in ctx.metadata.list_projects() if principal.role_in(p.id) is not None]
    return sorted(projects, key=lambda p: p.name)


_P = ParamSpec("_P")
_STATUS = ((NotFoundError, 404), (PermissionDeniedError, 403), (ValidationError, 400))


def html_errors(view: Callable[_P, Response]) -> Callable[_P, Response]:
    """Turn loopml errors raised by a page view into an HTML error page with their status."""

    @functools.wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except LoopmlError as exc:
            status = next((code for cls, code in _STATUS if isinstance(exc, cls)), None)
            if status is None:
                raise
            request = next(a for a in (*args, *kwargs.values()) if isinstance(a, Request))
            principal = next(
                (a for a in (*args, *kwargs.values()) if isinstance(a, Principal)), None
            )
            message = str(exc).splitlines()[0]
            return render(
                request,
                "error.html",
                {"status": status, "message": message},
                status_code=status,
                principal=principal,
            )

    return wrapper
