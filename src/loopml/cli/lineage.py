"""``loopml lineage``: where a dataset version or run came from, and what came of it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.tree import Tree

from loopml.cli.context import client
from loopml.cli.render import console, print_json
from loopml.core.errors import ValidationError
from loopml.datasets.lineage import LineageNode, lineage_trees

__all__ = ["lineage"]


def _tree(node: LineageNode, title: str) -> Tree:
    tree = Tree(f"[bold]{title}[/bold]: {node.label}")

    def add(branch: Tree, children: tuple[LineageNode, ...]) -> None:
        for child in children:
            role = f" [dim]({child.role})[/dim]" if child.role else ""
            add(branch.add(f"{child.label}{role}"), child.children)

    add(tree, node.children)
    if not node.children:
        tree.add("[dim]nothing recorded[/dim]")
    return tree


def lineage(
    entity: Annotated[
        str, typer.Argument(help="A dataset version (churn@3, churn) or a run id or prefix.")
    ],
    depth: Annotated[int, typer.Option(min=1, max=10, help="Levels to follow.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the upstream and downstream lineage of a dataset version or a run."""
    c = client()
    if "@" in entity or not all(ch in "0123456789abcdef" for ch in entity):
        kind, entity_id = "dataset_version", c.data.get_version(entity).id
    else:
        try:
            kind, entity_id = "run", c.tracking.resolve_run_id(entity)
        except ValidationError:
            kind, entity_id = "dataset_version", c.data.get_version(entity).id
    upstream, downstream = lineage_trees(c.metadata, kind, entity_id, depth=depth)  # type: ignore[arg-type]
    if as_json:
        print_json({"upstream": upstream.to_dict(), "downstream": downstream.to_dict()})
        return
    console.print(_tree(upstream, "upstream of"))
    console.print(_tree(downstream, "downstream of"))
