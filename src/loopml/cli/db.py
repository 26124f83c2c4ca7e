"""``loopml db``: schema maintenance of the metadata store."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli.render import console
from loopml.core.config import load_settings

__all__ = ["app"]

app = typer.Typer(help="Maintain the metadata store's schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    store_url: Annotated[
        str | None, typer.Option(help="Store to upgrade (default: this project's).")
    ] = None,
) -> None:
    """Migrate the metadata store to this loopml's schema."""
    from loopml.metadata.sql.migrate import upgrade_store

    url = store_url or load_settings().store_url
    upgrade_store(url)
    console.print("metadata store is up to date")
