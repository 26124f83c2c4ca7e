"""Attacks at the door: path traversal, foreign origins, oversized bodies, unknown hosts,
missing CSRF tokens. Raw paths go through a real uvicorn so that nothing normalises them."""

from __future__ import annotations

import http.client
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from loopml.server.session import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE

if TYPE_CHECKING:
    from conftest import Server

FILES = "/api/v1/projects/churn/files/"
ATTACKS = [
    "../outside.txt",
    "../../outside.txt",
    "..%2foutside.txt",
    "..%2Foutside.txt",
    "%2e%2e%2foutside.txt",
    "%2e%2e/outside.txt",
    ".%2e/outside.txt",
    "%252e%252e%252foutside.txt",
    "..%5coutside.txt",
    "..\\outside.txt",
    "a/../../outside.txt",
    "a/%2e%2e/%2e%2e/outside.txt",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "C:%5cWindows%5cwin.ini",
    "C:/Windows/win.ini",
    "c:outside.txt",
    "a%00.txt",
    "a%00/../../outside.txt",
    "..;/outside.txt",
    "a;/../outside.txt",
    "a%3b/outside.txt",
    "a%3f/../outside.txt",
    "a%23/../outside.txt",
    "..",
    ".",
    "a/./b",
    "a//b",
    "~/outside.txt",
]


def _snapshot(folder: Path, skip: Path) -> dict[str, bytes]:
    """Every file under ``folder`` except those under ``skip``, with its content."""
    found = {}
    for path in folder.rglob("*"):
        if (
            path.is_file()
            and skip not in path.parents
            and path.suffix not in (".db", ".db-wal", ".db-shm")
        ):
            found[str(path)] = path.read_bytes()
    return found


def _request(
    address: tuple[str, int], method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("attack", ATTACKS)
def test_path_attacks_are_refused_and_touch_nothing_outside_the_root(
    server: Server, live: tuple[str, int], attack: str
) -> None:
    project = server.project("churn")
    project_root = server.root / "artifacts" / "projects" / project.id
    project_root.mkdir(parents=True)
    (server.root / "outside.txt").write_bytes(b"secret")
    before = _snapshot(server.root, project_root)
    auth = {"Authorization": f"Bearer {server.admin_token}", "Host": "127.0.0.1"}
    statuses = []
    for method, body in (("PUT", b"pwned"), ("GET", None), ("HEAD", None), ("DELETE", None)):
        headers = {**auth, "Content-Type": "application/octet-stream"} if body else auth
        status, content = _request(live, method, FILES + attack, body, **headers)
        statuses.append(status)
        assert b"secret" not in content
    assert _snapshot(server.root, project_root) == before
    # Refused outright; a path the router cannot match at all answers 404 or 405.
    assert all(status in (400, 404, 405) for status in statuses), statuses
    if "%" in attack or ".." in attack or "\\" in attack:
        assert statuses[0] in (400, 404), statuses


def test_symlink_inside_the_store_pointing_outside_is_refused(
    client: TestClient, server: Server
) -> None:
    project = server.project("churn")
    root = server.root / "artifacts" / "projects" / project.id
    root.mkdir(parents=True)
    outside = server.root / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside, root / "link")
    binary = {"Content-Type": "application/octet-stream"}
    read = client.get(FILES + "link/secret.txt")
    assert read.status_code == 400
    assert b"secret" not in read.content.replace(b"secret.txt", b"")
    assert client.put(FILES + "link/new.txt", content=b"x", headers=binary).status_code == 400
    assert client.delete(FILES + "link/secret.txt").status_code == 400
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_ids_in_paths_are_validated(client: TestClient) -> None:
    for url in ("/api/v1/runs/not-an-id", "/api/v1/experiments/ABCDEF", "/api/v1/runs/..%2f"):
        response = client.get(url)
        assert response.status_code in (404, 422), url
        assert response.json()["error"] in ("validation_error", "not_found")


def test_text_plain_post_from_a_foreign_origin_is_refused(server: Server) -> None:
    server.project("churn")
    body = '{"name": "pwned"}'
    foreign = server.client.post(
        "/api/v1/projects/churn/experiments",
        content=body,
        headers={
            **server.headers(),
            "Content-Type": "text/plain",
            "Origin": "https://evil.example",
        },
    )
    assert foreign.status_code == 403
    same_site = server.client.post(
        "/api/v1/projects/churn/experiments",
        content=body,
        headers={**server.headers(), "Content-Type": "text/plain"},
    )
    assert (same_site.status_code, same_site.json()["error"]) == (415, "unsupported_media_type")
    form = server.client.post(
        "/api/v1/projects/churn/experiments",
        data={"name": "pwned"},
        headers=server.headers(),
    )
    assert form.status_code == 415
    listed = server.client.get("/api/v1/projects/churn/experiments", headers=server.headers())
    assert listed.json() == {"experiments": []}


def test_body_over_the_limit_is_413_up_front(server: Server) -> None:
    limit = server.context.config.max_body_bytes
    response = server.client.post(
        "/api/v1/projects",
        content=b"{" + b" " * limit + b"}",
        headers={**server.headers(), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error"]) == (413, "payload_too_large")


def test_streamed_body_over_the_limit_is_413_without_reading_it_all(
    server: Server, live: tuple[str, int]
) -> None:
    """Chunked body, no Content-Length: the server answers 413 mid-stream and stops."""
    limit = server.context.config.max_body_bytes
    chunk = b" " * (1024 * 1024)
    with socket.create_connection(live, timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {server.admin_token}\r\n".encode()
            + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        sock.settimeout(0.05)
        reply = b""
        while sent <= limit * 4:  # a server that buffered would wait for the end forever
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
            try:
                reply = sock.recv(65536)
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                break
            if reply:
                break
        sock.settimeout(10)
        while b"\r\n\r\n" not in reply:
            more = sock.recv(65536)
            if not more:
                break
            reply += more
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert limit < sent <= limit + 4 * len(chunk) + 1024 * 1024


def test_unknown_host_is_400(server: Server) -> None:
    response = server.client.get(
        "/api/v1/projects", headers={**server.headers(), "Host": "evil.example"}
    )
    assert response.status_code == 400
    assert server.client.get("/healthz", headers={"Host": "10.0.0.7:8080"}).status_code == 200


def test_security_headers_on_every_response(server: Server) -> None:
    for url in ("/healthz", "/api/v1/projects", "/api/v1/nowhere", "/login"):
        headers = server.client.get(url).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert len(headers["X-Request-ID"]) >= 8
    kept = server.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["X-Request-ID"] == "abc-123"


def test_cookie_session_writes_need_the_csrf_token(server: Server) -> None:
    server.project("churn")
    client = server.client
    client.cookies.set(SESSION_COOKIE, server.admin_token)
    client.cookies.set(CSRF_COOKIE, "c" * 43)
    assert client.get("/api/v1/projects/churn").status_code == 200
    url = "/api/v1/projects/churn/experiments"
    refused = client.post(url, json={"name": "e"})
    assert (refused.status_code, refused.json()["field"]) == (403, "csrf_token")
    wrong = client.post(url, json={"name": "e"}, headers={CSRF_HEADER: "d" * 43})
    assert wrong.status_code == 403
    accepted = client.post(url, json={"name": "e"}, headers={CSRF_HEADER: "c" * 43})
    assert accepted.status_code == 201


def test_login_form_opens_a_session_and_redirects_only_locally(server: Server) -> None:
    client = server.client
    page = client.get("/login")
    csrf = client.cookies.get(CSRF_COOKIE) or page.headers.get("set-cookie", "")
    assert csrf, "the login page sets a CSRF cookie"
    form = {"token": server.admin_token, "next": "//evil.example/x", "csrf_token": csrf}
    no_csrf = client.post("/login", data={**form, "csrf_token": ""}, follow_redirects=False)
    assert no_csrf.status_code == 403
    done = client.post("/login", data=form, follow_redirects=False)
    assert (done.status_code, done.headers["Location"]) == (303, "/")
    assert client.cookies.get(SESSION_COOKIE) == server.admin_token
    rotated = client.cookies.get(CSRF_COOKIE)
    assert rotated != csrf
    bad = client.post(
        "/login", data={**form, "token": "nope", "csrf_token": rotated}, follow_redirects=False
    )
    assert bad.headers["Location"] == "/login?error=1"


def test_one_time_login_code_works_once(server: Server) -> None:
    code = server.context.logins.issue(server.admin_token)
    first = server.client.get(f"/login/once?code={code}", follow_redirects=False)
    assert (first.status_code, first.headers["Location"]) == (303, "/")
    assert SESSION_COOKIE in first.headers["set-cookie"]
    again = server.client.get(f"/login/once?code={code}", follow_redirects=False)
    assert again.headers["Location"].startswith("/login?error")


def test_failed_logins_are_rate_limited(server: Server) -> None:
    client = server.client
    client.get("/login")
    csrf = client.cookies.get(CSRF_COOKIE) or ""
    statuses = [
        client.post(
            "/login", data={"token": "nope", "csrf_token": csrf}, follow_redirects=False
        ).status_code
        for _ in range(server.context.login_limiter.max_failures + 1)
    ]
    assert statuses[-1] == 429
    assert statuses[0] == 303
