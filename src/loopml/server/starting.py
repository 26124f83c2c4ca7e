"""A fast start: answer ``/healthz`` at once while the app is built in a thread.

Building the app opens the stores (and creates or upgrades their schema), which takes a
second or more of imports and SQL. :class:`StartingApp` is the ASGI app uvicorn serves
meanwhile: as soon as the socket is bound it answers ``/healthz`` (the process is up),
and every other request with 503 and ``Retry-After`` until the real app is ready; then it
hands every request to the real app. ``/readyz`` is the real app's: it answers 200 only
once the stores do. If building fails, ``on_failure`` is called (``loopml server`` stops
and reports the error).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["StartingApp"]

ASGIApp = Callable[..., Any]
_HEALTHY = b'{"status":"ok"}'
_STARTING = (
    b'{"error":"store_unavailable","message":"the server is starting: retry in a moment",'
    b'"field":null}'
)


class StartingApp:
    """ASGI app that serves ``build()``'s app once it is built, and ``/healthz`` before.

    Args:
        build: Makes the real ASGI app; called once, in a thread, at lifespan startup.
        on_failure: Called (in that thread) with the error if ``build`` raises.
    """

    def __init__(
        self, build: Callable[[], ASGIApp], on_failure: Callable[[BaseException], None]
    ) -> None:
        self._build = build
        self._on_failure = on_failure
        self.app: ASGIApp | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def _run_build(self) -> None:
        try:
            self.app = self._build()
        except BaseException as error:  # handed to on_failure, which reports it
            self.error = error
            self._on_failure(error)
        finally:
            self.ready.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        app = self.app
        if app is not None:
            await app(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await _send(send, 200, _HEALTHY)
        else:
            await _send(send, 503, _STARTING, retry_after=True)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                threading.Thread(
                    target=self._run_build, name="loopml-build-app", daemon=True
                ).start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _send(send: Any, status: int, body: bytes, *, retry_after: bool = False) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]
    if retry_after:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
