"""``loopml init``: create ``.loopml/`` and the ``loopml.yaml`` project file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pydantic
import typer

from loopml.cli.render import console
from loopml.core.config import HOME_DIR_NAME, init_project
from loopml.core.errors import ValidationError
from loopml.core.project_file import (
    ProjectInfo,
)

__all__ = ["init"]


def _default_name(folder: Path) -> str:
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "-" for c in folder.resolve().name)
    return cleaned.strip("-.") or "default"


def init(
    name: Annotated[
        str | None, typer.Option(help="Project name (default: the folder's name).")
    ] = None,
    description: Annotated[str, typer.Option(help="What the project is for.")] = "",
    intended_use: Annotated[str, typer.Option(help="The intended use of its models.")] = "",
    owner: Annotated[list[str] | None, typer.Option(help="An owner (repeat for several).")] = None,
    stakeholder: Annotated[list[str] | None, typer.Option(help="A stakeholder (repeat).")] = None,
    directory: Annotated[Path, typer.Option("--dir", help="Project folder.")] = Path(),
) -> None:
    """Create a loopml project here: .loopml/ for the stores, loopml.yaml for the record."""
    project = name or _default_name(directory)
    try:
        ProjectInfo(name=project)
    except pydantic.ValidationError:
        raise ValidationError(
            f"--name {project!r}: use letters, digits and _ . - (starting with a letter or digit)",
            field="name",
        ) from None
    path = init_project(
        directory, project, description, intended_use, tuple(owner or ()), tuple(stakeholder or ())
    )
    console.print(f"Initialised loopml project [bold]{project}[/bold]")
    console.print(f"  project file  {path}")
    console.print(f"  stores        {directory.resolve() / HOME_DIR_NAME}")
    console.print(
        "Next: log a run with `loopml.start_run(...)`, list runs with `loopml runs list`."
    )
