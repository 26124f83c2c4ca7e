"""httpx transports that sit between a REST store and the real test server and misbehave
on purpose: they lose answers after the server acted, and break downloads mid-way."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

Match = Callable[[httpx.Request], bool]


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to the network, keeping each request for the test to inspect."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def matching(self, method: str, path_end: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.endswith(path_end)]


class LosingTransport(RecordingTransport):
    """Lets the first ``times`` matching requests reach the server, then drops the answer,
    as a connection reset after the server applied a write does."""

    def __init__(self, match: Match, times: int = 1) -> None:
        super().__init__()
        self.match = match
        self.times = times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.times and self.match(request):
            self.times -= 1
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("server disconnected without sending a response")
        return response


class _BreakingStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.inner:
            if sent + len(chunk) >= self.limit:
                yield chunk[: self.limit - sent]
                # A dropped connection ends the server's side too: its file is closed now,
                # not whenever the garbage collector gets to it.
                self.inner.close()
                raise httpx.ReadError("connection reset by peer")
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


class BreakingTransport(RecordingTransport):
    """Breaks the body of the first ``times`` matching responses after ``limit`` bytes."""

    def __init__(self, match: Match, limit: int, times: int = 1) -> None:
        super().__init__()
        self.match = match
        self.limit = limit
        self.times = times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not (self.times and self.match(request)):
            return response
        self.times -= 1
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_BreakingStream(response.stream, self.limit),
            extensions=response.extensions,
        )
