"""Browser sessions: the session cookie, the CSRF cookie and one-time login codes.

The session cookie holds the user's API token (``HttpOnly``, ``SameSite=Lax``), so a
browser session is exactly as powerful as the token it was opened with and ends when the
token is revoked. Writes made with the cookie need a CSRF token (double submit: the
``X-CSRF-Token`` header or the ``csrf_token`` form field must equal the ``loopml_csrf``
cookie); :func:`csrf_token_for` hands the current one to a page template, and the
response middleware sets the cookie when a new one was made.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FORM_FIELD",
    "CSRF_HEADER",
    "NEW_CSRF_STATE_KEY",
    "SESSION_COOKIE",
    "OneTimeLogins",
    "clear_session",
    "csrf_cookie_header",
    "csrf_token_for",
    "csrf_tokens_match",
    "set_session",
]

SESSION_COOKIE = "loopml_session"
CSRF_COOKIE = "loopml_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
# Key in the ASGI scope's state where csrf_token_for leaves a token still to be set.
NEW_CSRF_STATE_KEY = "loopml_new_csrf_token"
SESSION_MAX_AGE_S = 12 * 3600
_CSRF_PATTERN = re.compile(r"[A-Za-z0-9_\-]{32,64}")


def set_session(response: Response, raw_token: str, *, secure: bool = False) -> None:
    """Open a browser session with ``raw_token`` (and a fresh CSRF token)."""
    response.set_cookie(
        SESSION_COOKIE,
        raw_token,
        max_age=SESSION_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=SESSION_MAX_AGE_S,
        path="/",
        httponly=False,
        samesite="strict",
        secure=secure,
    )


def clear_session(response: Response) -> None:
    """End the browser session."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")


def csrf_token_for(request: Request) -> str:
    """The CSRF token a page embeds in its forms (and HTMX headers).

    The current ``loopml_csrf`` cookie if there is a well-formed one; otherwise a new
    token, which the response middleware sets as the cookie.
    """
    current = request.cookies.get(CSRF_COOKIE, "")
    if _CSRF_PATTERN.fullmatch(current):
        return current
    pending = request.scope.setdefault("state", {}).get(NEW_CSRF_STATE_KEY)
    if isinstance(pending, str):
        return pending
    token = secrets.token_urlsafe(32)
    request.scope["state"][NEW_CSRF_STATE_KEY] = token
    return token


def csrf_cookie_header(token: str, *, secure: bool = False) -> bytes:
    """The ``Set-Cookie`` value for a new CSRF token."""
    flags = f"; Max-Age={SESSION_MAX_AGE_S}; Path=/; SameSite=Strict"
    return f"{CSRF_COOKIE}={token}{flags}{'; Secure' if secure else ''}".encode("latin-1")


def csrf_tokens_match(cookie: str | None, submitted: str | None) -> bool:
    """Whether a submitted CSRF token equals the cookie (constant-time)."""
    if not cookie or not submitted or not _CSRF_PATTERN.fullmatch(cookie):
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


class OneTimeLogins:
    """Short-lived, single-use login codes for ``loopml ui`` links.

    Codes live in the memory of one server process (``loopml ui`` runs one); a code is
    gone after its first redemption or its time to live.
    """

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, raw_token: str, ttl_s: float = 300) -> str:
        """A new code that logs in with ``raw_token`` once within ``ttl_s`` seconds."""
        code = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._codes = {c: v for c, v in self._codes.items() if v[1] > now}
            self._codes[code] = (raw_token, now + ttl_s)
        return code

    def redeem(self, code: str) -> str | None:
        """The token of ``code``, or None if unknown, used or expired."""
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]
