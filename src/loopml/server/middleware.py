"""Pure ASGI middlewares: request ids and access logs, and the guards at the door.

Outermost first, as :func:`loopml.server.app.create_app` stacks them:

1. :class:`AccessLogMiddleware` — gives every request an ``X-Request-ID`` (kept from the
   client when well-formed), logs one JSON line per request, adds the security headers
   (CSP, nosniff, frame and referrer policies) to every response, and sets a CSRF cookie
   that a page asked for.
2. :class:`HostGuardMiddleware` — refuses an unknown ``Host`` header (400), which stops
   DNS rebinding against a server on loopback.
3. :class:`RequestGuardMiddleware` — for state-changing methods: refuses a foreign
   ``Origin``/``Referer`` (403) and a body that is not JSON (or octet-stream for file
   uploads, or a form for the UI) (415); for every request, refuses a body over the limit
   (413), up front from ``Content-Length`` and while streaming, without buffering it.

They are plain ASGI callables (not ``BaseHTTPMiddleware``) to keep a request's overhead
to a few microseconds.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopml.server.config import ServerConfig
from loopml.server.errors import error_body
from loopml.server.session import NEW_CSRF_STATE_KEY, csrf_cookie_header

__all__ = [
    "SECURITY_HEADERS",
    "AccessLogMiddleware",
    "HostGuardMiddleware",
    "RequestGuardMiddleware",
]

access_log = structlog.get_logger("loopml.access")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._\-]{1,128}")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UPLOAD_PATH = re.compile(r"/api/v1/projects/[^/]+/files/.+")
_HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
_API_TYPES: tuple[bytes, ...] = (b"application/json",)
_UPLOAD_TYPES: tuple[bytes, ...] = (b"application/octet-stream",)
_FORM_TYPES: tuple[bytes, ...] = (
    b"application/json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data",
)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def _send_error(
    send: Send, status: int, code: str, message: str, *, close: bool = False
) -> None:
    body = error_body(code, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessLogMiddleware:
    """Request id, one JSON access-log line per request, and security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = (
            incoming.decode() if incoming and _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.extend(SECURITY_HEADERS)
                headers.append((b"x-request-id", request_id.encode()))
                new_csrf = state.get(NEW_CSRF_STATE_KEY)
                if isinstance(new_csrf, str):
                    secure = scope.get("scheme") == "https"
                    headers.append((b"set-cookie", csrf_cookie_header(new_csrf, secure=secure)))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                request_id=request_id,
                client=scope["client"][0] if scope.get("client") else None,
            )


class HostGuardMiddleware:
    """Refuse requests whose ``Host`` is not an allowed name (400)."""

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.allowed = config.effective_allowed_hosts
        self.any_host = "*" in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.any_host or scope["path"] in _HEALTH_PATHS:
            await self.app(scope, receive, send)
            return
        raw = _header(scope, b"host")
        if raw is None or host_name(raw.decode("latin-1")) not in self.allowed:
            await _send_error(
                send,
                400,
                "bad_request",
                "unknown Host header: add the server's name with --allowed-host",
            )
            return
        await self.app(scope, receive, send)


def host_name(host: str) -> str:
    """The name of a ``Host`` header value, without port, lowercase.

    >>> host_name("Example.org:8080"), host_name("[::1]:80"), host_name("127.0.0.1")
    ('example.org', '::1', '127.0.0.1')
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _netloc(url: bytes) -> bytes | None:
    """``host[:port]`` of an absolute http(s) URL, lowercase; None if not one."""
    scheme, sep, rest = url.partition(b"://")
    if not sep or scheme.lower() not in (b"http", b"https"):
        return None
    return rest.split(b"/", 1)[0].lower()


class RequestGuardMiddleware:
    """Same-origin and media-type checks of writes, and the body size limit."""

    def __init__(self, app: ASGIApp, config: ServerConfig) -> None:
        self.app = app
        self.max_body = config.max_body_bytes
        self.max_upload = config.max_upload_bytes
        self.public_netloc = _netloc(config.public_url.encode()) if config.public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        is_upload = method == "PUT" and _UPLOAD_PATH.fullmatch(path) is not None
        if method in _UNSAFE_METHODS:
            refusal = self._refuse_write(scope, path, is_upload)
            if refusal is not None:
                await _send_error(send, *refusal)
                return
        limit = self.max_upload if is_upload else self.max_body
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                await _send_error(send, 400, "bad_request", "Content-Length is not a number")
                return
            if int(length) > limit:
                await _send_error(send, *_too_large(limit), close=True)
                return
        await self._limited(scope, receive, send, limit)

    def _refuse_write(
        self, scope: Scope, path: str, is_upload: bool
    ) -> tuple[int, str, str] | None:
        host = (_header(scope, b"host") or b"").lower()
        origin = _header(scope, b"origin")
        source = origin if origin is not None else _header(scope, b"referer")
        if source is not None:
            netloc = _netloc(source)
            if netloc is None or (netloc != host and netloc != self.public_netloc):
                return 403, "forbidden", "cross-origin request refused"
        content_type = _header(scope, b"content-type")
        has_body = _header(scope, b"transfer-encoding") is not None or (
            _header(scope, b"content-length") not in (None, b"0")
        )
        if content_type is None:
            if has_body:
                return 415, "unsupported_media_type", _media_hint(path, is_upload)
            return None
        media = content_type.split(b";", 1)[0].strip().lower()
        if path.startswith("/api/"):
            allowed = _UPLOAD_TYPES if is_upload else _API_TYPES
        else:
            allowed = _FORM_TYPES
        if media not in allowed:
            return 415, "unsupported_media_type", _media_hint(path, is_upload)
        return None

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        refused = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not response_started:
                        await _send_error(send, *_too_large(limit), close=True)
                    # The app sees a client that went away: it stores nothing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return  # the 413 is already on its way
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


def _too_large(limit: int) -> tuple[int, str, str]:
    return 413, "payload_too_large", f"request body is larger than the limit of {limit} bytes"


def _media_hint(path: str, is_upload: bool) -> str:
    if is_upload:
        return "file uploads must be sent as application/octet-stream"
    if path.startswith("/api/"):
        return "request bodies must be application/json"
    return "request bodies must be application/json or a form of the web UI"
