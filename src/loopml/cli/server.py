"""``loopml server``: the team server (REST API and web UI) over this project's stores."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli.render import err_console

__all__ = ["server"]


def server(
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless told.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="No tokens: one local admin, loopback only.")
    ] = False,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Host header the server answers to (repeat); default: loopback."),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(help="Reverse proxy address or network whose X-Forwarded-For is believed."),
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="External origin behind a proxy (https://ml.example.com).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the REST API and the web UI; stores from LOOPML_STORE_URL / LOOPML_ARTIFACTS_URL."""
    from loopml.core.config import load_settings
    from loopml.server.config import ServerConfig
    from loopml.server.serve import serve

    settings = load_settings()
    try:
        config = ServerConfig.from_settings(
            settings,
            host=host,
            port=port,
            workers=workers,
            auth_required=not no_auth,
            allowed_hosts=tuple(allowed_host or ()),
            trusted_proxies=tuple(trusted_proxy or ()),
            public_url=public_url,
        )
    except ValueError as error:
        err_console.print(f"[red]error:[/red] {error}", markup=True, soft_wrap=True)
        raise typer.Exit(2) from None
    if "://" not in settings.artifacts_url:
        settings.home.mkdir(parents=True, exist_ok=True)
    serve(config, log_level=log_level)
