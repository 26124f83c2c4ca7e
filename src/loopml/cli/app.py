"""The ``loopml`` command: a Typer app whose commands live in one module per resource.

User errors exit with code 2 and one line on stderr; other loopml errors exit with 1.
No traceback reaches the user unless ``LOOPML_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys

import typer

from loopml.cli import audit, data, db, demo, experiments, init, models, runs, tokens, users
from loopml.cli import lineage as lineage_command
from loopml.cli import server as server_command
from loopml.cli import ui as ui_command
from loopml.cli.render import err_console
from loopml.core.errors import (
    AlreadyExistsError,
    ConflictError,
    LoopmlError,
    NotFoundError,
    PermissionDeniedError,
    SchemaVersionError,
    StoreUnavailableError,
    ValidationError,
)

__all__ = ["app", "main"]

USER_ERRORS = (
    AlreadyExistsError,
    PermissionDeniedError,
    ConflictError,
    NotFoundError,
    SchemaVersionError,
    StoreUnavailableError,
    ValidationError,
)

app = typer.Typer(
    name="loopml",
    help="loopml: experiment tracking and the rest of the MLOps loop, on your own machines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(init.init)
app.command("demo")(demo.demo)
app.command("ui")(ui_command.ui)
app.command("server")(server_command.server)
app.command("lineage")(lineage_command.lineage)
app.add_typer(data.app, name="data")
app.add_typer(models.app, name="models")
app.add_typer(audit.app, name="audit")
app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning loopml errors into one line and an exit code."""
    try:
        app(args=argv, prog_name="loopml", standalone_mode=True)
    except LoopmlError as exc:
        if os.environ.get("LOOPML_DEBUG"):
            raise
        message = str(exc).splitlines()
        err_console.print(f"[red]error:[/red] {message[0]}", markup=True, soft_wrap=True)
        for line in message[1:]:
            err_console.print(line, markup=False, soft_wrap=True)
        sys.exit(2 if isinstance(exc, USER_ERRORS) else 1)
