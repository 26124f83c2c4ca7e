"""``loopml demo``: the whole loop, end to end, on generated data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loopml.cli.render import console

__all__ = ["demo"]


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder of the demo project (created if missing).")
    ] = Path("loopml-demo"),
    rows: Annotated[
        int, typer.Option(help="Customers in the generated training data.", min=500)
    ] = 6000,
) -> None:
    """Run the demo: train and track candidates on generated churn data, then compare them."""
    from loopml.demo import run_demo

    console.print(f"[bold]loopml demo[/bold] in {directory.resolve()}")
    run_demo(directory, console, n_rows=rows)
