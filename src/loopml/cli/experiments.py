"""``loopml experiments``: list and create experiments."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli.context import client
from loopml.cli.render import console, format_time, print_json, table

__all__ = ["app"]

app = typer.Typer(help="List and create experiments.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.command("list")
def list_experiments(as_json: JsonOption = False) -> None:
    """The project's experiments."""
    c = client()
    experiments = c.list_experiments()
    if as_json:
        print_json(
            [
                {
                    "id": e.id,
                    "name": e.name,
                    "description": e.description,
                    "created_at": e.created_at.isoformat(),
                    "tags": dict(e.tags),
                }
                for e in experiments
            ]
        )
        return
    if not experiments:
        console.print(f"No experiments in project {c.project.name!r} yet.")
        return
    console.print(
        table(
            f"Experiments of project {c.project.name}",
            ["name", "created", "description", "id"],
            [(e.name, format_time(e.created_at), e.description, e.id) for e in experiments],
        )
    )


@app.command("create")
def create_experiment(
    name: Annotated[str, typer.Argument(help="Experiment name, unique in the project.")],
    description: Annotated[str, typer.Option(help="What the experiment explores.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create an experiment."""
    experiment = client().create_experiment(name, description)
    if as_json:
        print_json({"id": experiment.id, "name": experiment.name})
    else:
        console.print(f"Created experiment [bold]{experiment.name}[/bold] ({experiment.id})")
