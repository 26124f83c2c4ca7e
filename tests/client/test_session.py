"""The HTTP session under the REST stores: retries, error mapping, token handling.

These use httpx's ``MockTransport`` seam; the stores' behaviour against a real server is
in ``test_rest_contract.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import orjson
import pytest

from loopml.client.rest_store import RestMetadataStore
from loopml.client.session import RestSession, RetryPolicy
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

FAST = RetryPolicy(attempts=3, initial_s=0.0, max_s=0.0)
Handler = Callable[[httpx.Request], httpx.Response]


def _error(
    status: int, code: str, message: str = "nope", field: str | None = None
) -> httpx.Response:
    body = {"error": code, "message": message, "field": field}
    return httpx.Response(status, content=orjson.dumps(body))


def _session(handler: Handler, token: str | None = "lml_t") -> RestSession:  # noqa: S107
    return RestSession(
        "http://loopml.test", token, transport=httpx.MockTransport(handler), retry=FAST
    )


class Counter:
    """A handler that answers from a list of responses (or errors), counting the calls."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_requests_carry_the_bearer_token_and_go_below_api_v1() -> None:
    handler = Counter(httpx.Response(200, json={"projects": []}))
    with RestMetadataStore(
        "http://loopml.test/", "lml_secret", transport=httpx.MockTransport(handler)
    ) as store:
        assert store.list_projects() == []
    (request,) = handler.requests
    assert request.headers["Authorization"] == "Bearer lml_secret"
    assert request.url == "http://loopml.test/api/v1/projects"


def test_without_a_token_no_authorization_header_is_sent() -> None:
    handler = Counter(httpx.Response(200, json={"projects": []}))
    session = _session(handler, token=None)
    session.request("GET", "/projects")
    assert "Authorization" not in handler.requests[0].headers


def test_the_token_never_shows_in_repr() -> None:
    session = _session(Counter(httpx.Response(200)), token="lml_abc_secret")
    store = RestMetadataStore("http://x", session=session)
    assert "secret" not in repr(session) + repr(store)


def test_a_server_url_without_http_scheme_is_refused() -> None:
    with pytest.raises(ValidationError, match="http://"):
        RestSession("loopml.test:8080")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_until_success(status: int) -> None:
    handler = Counter(httpx.Response(status), httpx.Response(status), httpx.Response(200, json={}))
    assert _session(handler).json("GET", "/projects") == {}
    assert len(handler.requests) == 3


def test_retries_stop_after_the_policy_with_the_last_error() -> None:
    handler = Counter(_error(503, "store_unavailable", "database is down"))
    with pytest.raises(StoreUnavailableError, match="database is down"):
        _session(handler).request("GET", "/projects")
    assert len(handler.requests) == FAST.attempts


def test_a_schema_version_error_is_not_retried() -> None:
    handler = Counter(_error(503, "schema_version", "run `loopml db upgrade`"))
    with pytest.raises(SchemaVersionError, match="upgrade"):
        _session(handler).request("GET", "/projects")
    assert len(handler.requests) == 1


@pytest.mark.parametrize(
    "error", [httpx.ReadError("reset by peer"), httpx.RemoteProtocolError("closed early")]
)
def test_a_dropped_connection_is_retried_for_idempotent_requests(error: Exception) -> None:
    handler = Counter(error, httpx.Response(200, json={"ok": True}))
    assert _session(handler).json("POST", "/runs/search", json={}) == {"ok": True}
    assert len(handler.requests) == 2


def test_a_request_that_may_have_arrived_is_not_retried_unless_idempotent() -> None:
    handler = Counter(httpx.ReadError("reset by peer"), httpx.Response(200))
    with pytest.raises(StoreUnavailableError, match="1 try"):
        _session(handler).request("POST", "/thing", json={}, idempotent=False)
    assert len(handler.requests) == 1


def test_a_request_that_never_left_is_retried_even_when_not_idempotent() -> None:
    handler = Counter(httpx.ConnectError("refused"), httpx.Response(200))
    _session(handler).request("POST", "/thing", json={}, idempotent=False)
    assert len(handler.requests) == 2


def test_client_errors_are_not_retried() -> None:
    handler = Counter(_error(404, "not_found", "run 'x' not found"))
    with pytest.raises(NotFoundError):
        _session(handler).request("GET", "/runs/x")
    assert len(handler.requests) == 1


def test_connection_refused_raises_one_clear_error_naming_the_url() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    retry = RetryPolicy(attempts=2, initial_s=0.01, max_s=0.01)
    with (
        RestMetadataStore(url, "lml_t", retry=retry) as store,
        pytest.raises(StoreUnavailableError) as caught,
    ):
        store.list_projects()
    message = str(caught.value)
    assert url in message
    assert "2 tries" in message
    assert "LOOPML_SERVER_URL" in message


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "unauthenticated", AuthenticationError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (409, "already_exists", AlreadyExistsError),
        (409, "conflict", ConflictError),
        (409, "integrity_error", IntegrityError),
        (422, "validation_error", ValidationError),
        (400, "validation_error", UnsafePathError),
        (413, "payload_too_large", ValidationError),
        (500, "internal_error", StoreError),
    ],
)
def test_error_bodies_become_the_loopml_error_of_their_code(
    status: int, code: str, expected: type[LoopmlError]
) -> None:
    handler = Counter(_error(status, code, "the server's words", "params.lr"))
    with pytest.raises(expected) as caught:
        _session(handler).request("GET", "/x")
    assert type(caught.value) is expected
    assert (caught.value.message, caught.value.field) == ("the server's words", "params.lr")


def test_authentication_and_permission_errors_are_permission_errors() -> None:
    for status, code in ((401, "unauthenticated"), (403, "forbidden")):
        with pytest.raises(PermissionError):
            _session(Counter(_error(status, code))).request("GET", "/x")


def test_rate_limited_carries_the_retry_after_seconds() -> None:
    response = _error(429, "rate_limited", "slow down")
    response.headers["Retry-After"] = "7"
    with pytest.raises(RateLimitedError) as caught:
        _session(Counter(response)).request("GET", "/x")
    assert caught.value.retry_after_s == 7.0


def test_a_response_that_is_not_loopml_json_still_names_status_and_route() -> None:
    handler = Counter(httpx.Response(418, text="<html>teapot</html>"))
    with pytest.raises(StoreError, match=r"418.*GET /api/v1/x.*teapot"):
        _session(handler).request("GET", "/x")
