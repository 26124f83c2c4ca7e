"""``loopml ui``: the web UI over this project's own stores, one click from the terminal.

It serves the stores of the working directory's settings (the ``.loopml`` folder, or
``LOOPML_STORE_URL``) on 127.0.0.1 only, with authentication on as always: the command
makes sure this machine has a local admin user, creates a token for the session (revoked
when the command stops), and prints a one-time login link that opens a browser session
without typing the token. The browser opens by itself where there is one.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
import threading
import time
import webbrowser
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli.render import console, err_console
from loopml.core.config import Settings, load_settings
from loopml.core.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from loopml.server.context import ServerContext

__all__ = ["DEFAULT_PORT", "LOCAL_ADMIN", "LocalUi", "open_local_ui", "should_open_browser", "ui"]

DEFAULT_PORT = 5050
LOCAL_ADMIN = "local-admin"
HOST = "127.0.0.1"
# The token lives as long as the command; the expiry only bounds a token left behind by
# a command that was killed before it could revoke it.
SESSION_EXPIRY = "1d"
LINK_TTL_S = 15 * 60


@dataclass
class LocalUi:
    """A UI app over the local stores, with its session token and one-time login link."""

    app: FastAPI
    context: ServerContext
    token_id: str
    sock: socket.socket
    url: str
    login_url: str

    def close(self) -> None:
        """Revoke the session token and release the stores and the socket."""
        try:
            self.context.auth.revoke_token(self.token_id)
        finally:
            self.sock.close()
            self.context.close()


def _bind(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1; the default port, or any free one if it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, DEFAULT_PORT if port is None else port))
    except OSError:
        if port is not None:
            sock.close()
            raise ValidationError(
                f"port {port} on {HOST} is in use: pick another with --port, or --port 0 "
                "for any free one",
                field="port",
            ) from None
        sock.bind((HOST, 0))
    sock.listen(128)
    return sock


def _ensure_local_admin(context: ServerContext) -> str:
    """The local admin user's name, creating the user on first use."""
    try:
        user = context.auth.store.get_user_by_name(LOCAL_ADMIN)
    except NotFoundError:
        user = context.auth.create_user(LOCAL_ADMIN, is_admin=True)
    if user.disabled:
        context.auth.enable_user(LOCAL_ADMIN)
    return user.name


def open_local_ui(settings: Settings, port: int | None = None) -> LocalUi:
    """Open the stores of ``settings`` and build the UI app with a fresh login link.

    Args:
        settings: The local project's settings.
        port: TCP port on 127.0.0.1; 0 for any free port; None for :data:`DEFAULT_PORT`
            or, if that is taken, any free port.
    """
    from loopml.server.app import create_app
    from loopml.server.config import ServerConfig
    from loopml.server.context import ServerContext

    if settings.store_url.startswith("sqlite") or "://" not in settings.artifacts_url:
        settings.home.mkdir(parents=True, exist_ok=True)
    sock = _bind(port)
    actual_port = int(sock.getsockname()[1])
    config = ServerConfig.from_settings(settings, host=HOST, port=actual_port)
    try:
        context = ServerContext.open(config)
    except BaseException:
        sock.close()
        raise
    try:
        description = settings.project_file.project.description if settings.project_file else ""
        context.metadata.ensure_project(settings.project, description)
        # The local admin exists before the app starts, so no first-start admin banner.
        user = _ensure_local_admin(context)
        token, raw = context.auth.create_token(
            user,
            "admin",
            None,
            expires=SESSION_EXPIRY,
            name=f"loopml ui by {getpass.getuser()} on {socket.gethostname()}"[:200],
        )
        app = create_app(config, context=context)
    except BaseException:
        sock.close()
        context.close()
        raise
    url = f"http://{HOST}:{actual_port}"
    code = context.logins.issue(raw, ttl_s=LINK_TTL_S)
    return LocalUi(app, context, token.id, sock, url, f"{url}/login/once?code={code}")


def should_open_browser(no_browser: bool, environ: dict[str, str] | None = None) -> bool:
    """Whether to open a browser: not when asked not to, in CI, or without a display.

    >>> should_open_browser(False, {"CI": "true", "DISPLAY": ":0"})
    False
    """
    env = dict(os.environ) if environ is None else environ
    if no_browser or env.get("CI"):
        return False
    if sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return True


def _open_when_ready(server: object, url: str) -> None:
    deadline = time.monotonic() + 30
    while not getattr(server, "started", False):
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)
    try:
        webbrowser.open(url)
    except webbrowser.Error as exc:
        err_console.print(f"could not open a browser ({exc}); open the link above yourself")


def ui(
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help=f"Port on 127.0.0.1 (default {DEFAULT_PORT}; 0 for any free port).",
            min=0,
            max=65535,
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the login link without opening a browser.")
    ] = False,
) -> None:
    """Open the web UI over this project's runs (on 127.0.0.1, with a one-time login link)."""
    import uvicorn

    from loopml.server.protocol import best_protocol
    from loopml.server.serve import configure_logging

    settings = load_settings()
    # One log line per request is for operators of a team server, not for this terminal.
    configure_logging("warning")
    local = open_local_ui(settings, port)
    server = uvicorn.Server(
        uvicorn.Config(
            local.app,
            http=best_protocol(),
            log_level="warning",
            access_log=False,
            server_header=False,
            lifespan="off",
        )
    )
    console.print(
        f"[bold]loopml ui[/bold]: project [bold]{settings.project}[/bold] from "
        f"{settings.home} at {local.url}",
        soft_wrap=True,
    )
    console.print(f"Log in with this link (once, within {LINK_TTL_S // 60} minutes):")
    print(local.login_url)  # plain, so that the link copies as one piece
    sys.stdout.flush()
    console.print("Press Ctrl+C to stop; the session's token is revoked then.")
    if should_open_browser(no_browser):
        threading.Thread(
            target=_open_when_ready, args=(server, local.login_url), daemon=True
        ).start()
    try:
        server.run(sockets=[local.sock])
    finally:
        local.close()
