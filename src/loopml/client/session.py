"""One HTTP session to a loopml server: pooled connections, token, retries, error mapping.

Both REST stores send through a :class:`RestSession`. Requests are retried with
exponential backoff (tenacity) when the connection fails or the server answers 502, 503
or 504, but only when a retry cannot apply a write twice: a request that never reached the
server is always safe; one that may have reached it is retried only when the caller marks
it ``idempotent`` (reads, and writes the stores made idempotent with a client-chosen id or
an idempotency key). Error responses ``{"error", "message", "field"}`` become the loopml
error of that code, so code written against a local store catches the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import tenacity

from loopml.client import wire
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
    StoreError,
    StoreUnavailableError,
    UnsafePathError,
    ValidationError,
)

__all__ = ["API_PREFIX", "Content", "RestSession", "RetryPolicy", "error_from_response"]

API_PREFIX = "/api/v1"
RETRY_STATUSES = frozenset({502, 503, 504})
# Failures before a byte of the request left: retrying them can never apply a write twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_ERRORS: dict[str, type[LoopmlError]] = {
    "validation_error": ValidationError,
    "unsafe_path": UnsafePathError,
    "unauthenticated": AuthenticationError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "already_exists": AlreadyExistsError,
    "conflict": ConflictError,
    "integrity_error": IntegrityError,
    "payload_too_large": ValidationError,
    "unsupported_media_type": ValidationError,
    "store_unavailable": StoreUnavailableError,
    "schema_version": SchemaVersionError,
}
_BY_STATUS: dict[int, type[LoopmlError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: ValidationError,
    415: ValidationError,
    422: ValidationError,
    502: StoreUnavailableError,
    503: StoreUnavailableError,
    504: StoreUnavailableError,
}

Content = bytes | Callable[[], Iterator[bytes]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    Attributes:
        attempts: Tries in all, the first included.
        initial_s: Wait before the first retry; it doubles (with jitter) up to ``max_s``.
        max_s: Longest wait between two tries.
    """

    attempts: int = 5
    initial_s: float = 0.2
    max_s: float = 5.0


class _Transient(Exception):
    """A 502/503/504 answer worth another try."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def error_from_response(response: httpx.Response) -> LoopmlError:
    """The loopml error an error response stands for."""
    code, message, field = _error_body(response)
    status = response.status_code
    if status == 400 and code == "validation_error":
        error_class: type[LoopmlError] = UnsafePathError  # 400 is kept for unsafe paths
    elif code == "rate_limited" or status == 429:
        retry_after = _retry_after(response)
        return RateLimitedError(message, retry_after_s=retry_after)
    elif code in _ERRORS:
        error_class = _ERRORS[code]
    elif status in _BY_STATUS:
        error_class = _BY_STATUS[status]
    else:
        error_class = StoreError
    return error_class(message, field=field)


def _error_body(response: httpx.Response) -> tuple[str, str, str | None]:
    where = f"{response.request.method} {response.request.url.path}"
    fallback = f"HTTP {response.status_code} from the server for {where}"
    try:
        body = orjson.loads(response.read())
    except orjson.JSONDecodeError:
        text = response.text.strip()[:300]
        return "", f"{fallback}: {text}" if text else fallback, None
    if not isinstance(body, dict):
        return "", fallback, None
    if "error" in body:
        field = body.get("field")
        message = str(body.get("message") or fallback)
        return str(body["error"]), message, field if isinstance(field, str) else None
    detail = body.get("detail")  # a framework answer that is not loopml's error shape
    return "", f"{fallback}: {detail}" if detail else fallback, None


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


class RestSession:
    """A pooled keep-alive HTTP/1.1 connection set to one server, shared by threads.

    Args:
        url: The server's base URL (``http://host:8080``), without ``/api/v1``.
        token: An API token (``lml_...``), sent as ``Authorization: Bearer``; None for a
            server without authentication.
        transport: An httpx transport to use instead of the network (tests).
        timeout: Seconds to wait for a connection and for each read.
        retry: How failed requests are retried.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValidationError(
                f"server URL {url!r} must start with http:// or https://", field="server_url"
            )
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        headers = {"User-Agent": "loopml-sdk", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            http2=False,
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:  # never shows the token
        return f"RestSession({self.url!r})"

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, Any] | None = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send a request, retrying as the policy allows; raise the loopml error of a 4xx/5xx."""
        response, _ = self.send(
            method, path, json=json, params=params, content=content, headers=headers,
            idempotent=idempotent,
        )  # fmt: skip
        if response.is_error:
            raise error_from_response(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body."""
        return self.decode(self.request(method, path, **kwargs))

    @staticmethod
    def decode(response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise StoreError(
                f"the server sent malformed JSON for {response.request.url.path}: {exc}"
            ) from None

    def send(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, Any] | None = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> tuple[httpx.Response, int]:
        """Send with retries; returns the final response (any status) and the tries it took."""
        all_headers = dict(headers or {})
        body: bytes | None = None
        if json is not None:
            try:
                body = wire.dumps(json)
            except TypeError as exc:  # orjson names the value it cannot encode
                raise ValidationError(f"request body cannot be sent as JSON: {exc}") from None
            all_headers["Content-Type"] = "application/json"

        def once() -> httpx.Response:
            payload = content() if callable(content) else content
            response = self._http.request(
                method, path, content=body if body is not None else payload,
                params=params, headers=all_headers,
            )  # fmt: skip
            if response.status_code in RETRY_STATUSES and _transient(response):
                raise _Transient(response)
            return response

        tries = 0
        try:
            for attempt in self._retrying(idempotent):
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    return once(), tries
        except _Transient as exc:
            return exc.response, tries
        except httpx.TransportError as exc:
            raise self._unreachable(exc, tries) from exc
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    @contextmanager
    def stream(
        self, method: str, path: str, *, headers: Mapping[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """A response whose body is read as it arrives; opening it is retried like a GET."""
        tries = 0
        response: httpx.Response | None = None
        try:
            for attempt in self._retrying(idempotent=True):
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    request = self._http.build_request(method, path, headers=dict(headers or {}))
                    response = self._http.send(request, stream=True)
                    if response.status_code in RETRY_STATUSES and _transient(response):
                        response.read()
                        response.close()
                        raise _Transient(response)
        except _Transient as exc:
            raise error_from_response(exc.response) from None
        except httpx.TransportError as exc:
            raise self._unreachable(exc, tries) from exc
        assert response is not None
        try:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            yield response
        finally:
            response.close()

    def _retrying(self, idempotent: bool) -> tenacity.Retrying:
        def should_retry(exc: BaseException) -> bool:
            if isinstance(exc, _NOT_SENT):
                return True
            return idempotent and isinstance(exc, _Transient | httpx.TransportError)

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(should_retry),
            stop=tenacity.stop_after_attempt(self.retry.attempts),
            wait=tenacity.wait_exponential(multiplier=self.retry.initial_s, max=self.retry.max_s)
            + tenacity.wait_random(0, self.retry.initial_s),
            reraise=True,
        )

    def _unreachable(self, exc: httpx.TransportError, tries: int) -> StoreUnavailableError:
        what = "tries" if tries != 1 else "try"
        return StoreUnavailableError(
            f"cannot reach the loopml server at {self.url} ({type(exc).__name__}: {exc}; "
            f"{tries} {what}); check the URL (LOOPML_SERVER_URL) and that `loopml server` "
            "is running"
        )


def _transient(response: httpx.Response) -> bool:
    """A 502/503/504 worth retrying: not a schema mismatch, which no retry can fix."""
    if response.status_code != 503:
        return True
    response.read()
    code, _, _ = _error_body(response)
    return code != "schema_version"
