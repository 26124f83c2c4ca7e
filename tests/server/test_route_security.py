"""Every route of the app needs a token unless it is on the one allow-list.

The app is enumerated, not listed by hand: API routers, the web UI, the docs and the
OpenAPI schema, and mounted apps (static files). A new route that forgets nothing still
passes; a new mount, or a route that answers anonymous callers, fails here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from loopml.server.deps import PUBLIC_MOUNTS, PUBLIC_PATHS

if TYPE_CHECKING:
    from conftest import Server

EXPECTED_PUBLIC = {"/healthz", "/readyz", "/login", "/login/once"}
_PARAM = re.compile(r"\{([^}:]+)(:[^}]+)?\}")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _concrete(path: str) -> str:
    """A path with every parameter filled in with a plausible value."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("id"):
            return "0" * 32
        return "churn" if name in ("project", "project_name") else "x"

    return _PARAM.sub(fill, path)


def _routes(server: Server) -> list[tuple[str, set[str] | None, bool]]:
    found = []
    for context in iter_route_contexts(server.app.routes):
        route = context.original_route
        path = context.path or getattr(route, "path", "")
        found.append((path, context.methods, isinstance(route, Mount)))
    return found


def test_the_allow_list_is_exactly_what_the_docs_say() -> None:
    assert set(PUBLIC_PATHS) == EXPECTED_PUBLIC
    assert set(PUBLIC_MOUNTS) == {"/static"}


def test_every_route_needs_a_token_unless_allow_listed(server: Server) -> None:
    server.project("churn")
    routes = _routes(server)
    paths = {path for path, _, _ in routes}
    # The enumeration reaches every surface.
    assert {"/api/v1/openapi.json", "/api/v1/docs", "/healthz", "/login/once"} <= paths
    assert any(p.startswith("/api/v1/projects/{project}/files") for p in paths)
    assert "/" in paths, "the web UI's routes are enumerated"
    checked = 0
    for path, methods, is_mount in routes:
        if is_mount:
            assert path in PUBLIC_MOUNTS, f"mount {path} is not on the allow-list"
            continue
        for method in sorted(methods or ()):
            if method not in _METHODS:
                continue
            url = _concrete(path)
            kwargs: dict[str, object] = {}
            if method in ("POST", "PUT", "PATCH"):
                media = "application/octet-stream" if "/files/" in path else "application/json"
                kwargs = {"content": b"{}", "headers": {"Content-Type": media}}
            response = server.client.request(method, url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
            checked += 1
            if path in PUBLIC_PATHS:
                continue
            assert response.status_code == 401, (
                f"{method} {path} answered {response.status_code} without a token"
            )
            if method != "HEAD":
                assert response.json()["error"] == "unauthenticated"
    assert checked > 25


def test_pages_send_a_browser_without_a_session_to_the_login_page(server: Server) -> None:
    response = server.client.get(
        "/api/v1/docs", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 401  # the API answers 401 even to browsers
    page = server.client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert page.status_code in (302, 303)
    assert page.headers["Location"].startswith("/login?next=")


def test_static_files_are_public_but_confined(server: Server) -> None:
    response = server.client.get("/static/..%2f..%2fconfig.py")
    assert response.status_code == 404
    assert b"ServerConfig" not in response.content


def test_malformed_body_without_a_token_is_401_not_422(server: Server) -> None:
    response = server.client.post(
        "/api/v1/runs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
