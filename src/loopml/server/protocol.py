"""uvicorn's HTTP protocol with ``TCP_NODELAY`` set on every connection.

asyncio sets ``TCP_NODELAY`` only on sockets whose protocol number is ``IPPROTO_TCP``;
uvicorn's worker processes receive the listening socket through ``socket.fromfd``, which
reports protocol 0, so accepted connections keep Nagle's algorithm. A response written
in two pieces (headers, then body) then waits for the client's delayed ACK: about 40 ms
per request on a reused connection. Setting the option ourselves when a connection is
made removes the stall whatever the worker count.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol", "NoDelayHttpToolsProtocol", "best_protocol", "set_nodelay"]


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle's algorithm off for the transport's TCP socket (no-op for others)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's pure-Python HTTP/1.1 protocol, with ``TCP_NODELAY``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    NoDelayHttpToolsProtocol: type[asyncio.Protocol] | None = None
else:

    class _NoDelayHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools (C parser) protocol, with ``TCP_NODELAY``."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            set_nodelay(transport)
            super().connection_made(transport)

    NoDelayHttpToolsProtocol = _NoDelayHttpToolsProtocol


def best_protocol() -> type[asyncio.Protocol]:
    """The fastest available protocol class with ``TCP_NODELAY``."""
    return NoDelayHttpToolsProtocol or NoDelayH11Protocol
