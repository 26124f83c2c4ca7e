"""Settings of the team server: where it listens, what it accepts, where its stores live.

A :class:`ServerConfig` is built once (by the CLI or a test) and passed to
:func:`loopml.server.app.create_app`; nothing reads the environment behind its back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from loopml.core.config import Settings

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "LOOPBACK_HOSTS",
    "ServerConfig",
    "is_loopback",
]

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the server needs; immutable once the app is built.

    Attributes:
        store_url: Metadata store (``sqlite:///...`` or ``postgresql://...``).
        artifacts_url: Artifact store root (a folder, ``file://...`` or ``s3://...``);
            each project's files live below ``projects/<project id>``.
        s3_endpoint_url: Endpoint of an S3-compatible server, or None for AWS.
        host: Address to bind; loopback unless told otherwise.
        port: TCP port.
        workers: uvicorn worker processes.
        allowed_hosts: ``Host`` header values accepted (without port); empty means the
            loopback names plus ``host``. ``*`` accepts any (only behind a proxy that
            checks it).
        trusted_proxies: Addresses of reverse proxies whose ``X-Forwarded-For`` is
            believed (for the login rate limit and logs).
        max_body_bytes: Largest request body of every route but file uploads.
        max_upload_bytes: Largest file upload (``PUT .../files/...``); streamed.
        auth_required: False serves one local admin without tokens, loopback only.
        public_url: The server's external origin (``https://ml.example.com``) when it
            sits behind a proxy; used for same-origin checks of the UI's forms.
    """

    store_url: str
    artifacts_url: str
    s3_endpoint_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    auth_required: bool = True
    public_url: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError for a configuration the server must refuse."""
        if not self.auth_required and not is_loopback(self.host):
            raise ValueError(
                f"refusing to serve without authentication on {self.host!r}: without "
                "tokens the server binds only to 127.0.0.1, ::1 or localhost; drop "
                "--no-auth to serve a team"
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port (0-65535)")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.max_body_bytes < 1 or self.max_upload_bytes < 1:
            raise ValueError("body size limits must be positive")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {proxy!r} is not an IP address or network"
                ) from None

    @property
    def effective_allowed_hosts(self) -> frozenset[str]:
        """Accepted ``Host`` names (lowercase, without port)."""
        if self.allowed_hosts:
            return frozenset(h.lower().strip("[]") for h in self.allowed_hosts)
        names = {*LOOPBACK_HOSTS, self.host.lower().strip("[]")}
        names.discard("0.0.0.0")  # noqa: S104 - a bind-all address is never a Host name
        names.discard("::")
        return frozenset(names)

    @classmethod
    def from_settings(cls, settings: Settings, **changes: object) -> ServerConfig:
        """A config serving the stores of client ``settings`` (the local ``.loopml``)."""
        base = cls(
            store_url=settings.store_url,
            artifacts_url=settings.artifacts_url,
            s3_endpoint_url=settings.s3_endpoint_url,
        )
        return replace(base, **changes)  # type: ignore[arg-type]
