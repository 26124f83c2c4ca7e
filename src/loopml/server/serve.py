"""Run the server with uvicorn: stores prepared once, then one or several workers.

With one worker the app runs in this process and opens the stores itself. With several,
the parent opens the stores first (creating or upgrading the schema, creating the first
admin and printing its token once), so workers start on a ready store; uvicorn then
spawns them and each builds its app from the config passed as JSON in
``LOOPML_SERVER_CONFIG``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys

import orjson
import structlog

from loopml.server.config import ServerConfig

__all__ = ["LOG_LEVEL_ENV", "configure_logging", "prepare_stores", "serve"]

LOG_LEVEL_ENV = "LOOPML_SERVER_LOG_LEVEL"


def configure_logging(level: str = "info") -> None:
    """JSON log lines on stderr (one per request, with its request id)."""
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=lambda o, **_: orjson.dumps(o).decode()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            numeric if isinstance(numeric, int) else logging.INFO
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def prepare_stores(config: ServerConfig) -> None:
    """Create or upgrade the schema and bootstrap the first admin, once, in this process."""
    from loopml.server.app import print_admin_banner
    from loopml.server.context import ServerContext

    context = ServerContext.open(config)
    try:
        if config.auth_required:
            secret = context.auth.bootstrap_admin()
            if secret is not None:
                print_admin_banner(secret)
    finally:
        context.close()


def serve(config: ServerConfig, *, log_level: str = "info") -> None:
    """Serve until interrupted."""
    import uvicorn

    from loopml.server.app import CONFIG_ENV, app_from_env, create_app
    from loopml.server.protocol import best_protocol

    configure_logging(log_level)
    common = {
        "host": config.host,
        "port": config.port,
        "http": best_protocol(),
        "log_level": log_level,
        "access_log": False,  # our middleware logs each request as JSON
        "server_header": False,
        "proxy_headers": bool(config.trusted_proxies),
        "forwarded_allow_ips": list(config.trusted_proxies) or None,
        "timeout_graceful_shutdown": 10,
    }
    if config.workers == 1:
        # /healthz answers as soon as the socket is bound; the app (stores, migrations,
        # first admin) is built in a thread meanwhile. A store that cannot be opened
        # stops the server and is reported like any loopml error.
        from loopml.server.starting import StartingApp

        server: uvicorn.Server | None = None

        def stop(error: BaseException) -> None:
            if server is not None:
                server.should_exit = True

        starting = StartingApp(lambda: create_app(config), on_failure=stop)
        server = uvicorn.Server(uvicorn.Config(starting, lifespan="on", **common))  # type: ignore[arg-type]
        server.run()
        if starting.error is not None:
            raise starting.error
        if starting.app is not None:
            starting.app.state.context.close()  # type: ignore[attr-defined]
        return
    prepare_stores(config)  # once, before the workers start on a ready store
    os.environ[CONFIG_ENV] = orjson.dumps(dataclasses.asdict(config)).decode()
    os.environ[LOG_LEVEL_ENV] = log_level
    uvicorn.run(
        f"{app_from_env.__module__}:{app_from_env.__name__}",
        factory=True,
        workers=config.workers,
        **common,  # type: ignore[arg-type]
    )
