"""Lineage as trees: what an entity came from (upstream) and what came of it (downstream).

Edges are the records of :class:`~loopml.core.datasets.LineageEdge`: a run *reads* a
dataset version (input) or *writes* one (output). Walking downstream from a version
visits the runs that read it, then the versions those runs wrote, and so on; upstream
goes the other way. Later aggregates (models, deployments) hang below runs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from loopml.core.datasets import LineageDirection
from loopml.core.errors import NotFoundError
from loopml.metadata.base import BaseMetadataStore

__all__ = ["LineageNode", "lineage_trees"]

Kind = Literal["dataset_version", "run"]


@dataclass(frozen=True)
class LineageNode:
    """One entity in a lineage tree; ``role`` is the edge's role towards its parent."""

    kind: Kind
    id: str
    label: str
    role: str = ""
    children: tuple[LineageNode, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "children": [child.to_dict() for child in self.children],
        }


class _Walker:
    def __init__(self, metadata: BaseMetadataStore, depth: int) -> None:
        self.metadata = metadata
        self.depth = depth

    def label(self, kind: Kind, entity_id: str) -> str:
        try:
            if kind == "run":
                run = self.metadata.get_run(entity_id)
                return f"run {run.name} ({entity_id[:8]})"
            return f"dataset {self.metadata.get_dataset_version(entity_id).ref}"
        except NotFoundError:
            return f"{kind} {entity_id[:8]} (deleted)"

    def walk(self, kind: Kind, entity_id: str, role: str, level: int, down: bool) -> LineageNode:
        children: list[LineageNode] = []
        if level < self.depth:
            if kind == "dataset_version":
                # downstream: runs that read it; upstream: runs that wrote it
                wanted = LineageDirection.INPUT if down else LineageDirection.OUTPUT
                edges = self.metadata.list_lineage(dataset_version_id=entity_id)
                children = [
                    self.walk("run", e.run_id, e.role, level + 1, down)
                    for e in edges
                    if e.direction is wanted
                ]
            else:
                wanted = LineageDirection.OUTPUT if down else LineageDirection.INPUT
                edges = self.metadata.list_lineage(run_id=entity_id)
                children = [
                    self.walk("dataset_version", e.dataset_version_id, e.role, level + 1, down)
                    for e in edges
                    if e.direction is wanted
                ]
        return LineageNode(kind, entity_id, self.label(kind, entity_id), role, tuple(children))


def lineage_trees(
    metadata: BaseMetadataStore, kind: Kind, entity_id: str, *, depth: int = 4
) -> tuple[LineageNode, LineageNode]:
    """The upstream and the downstream tree of a run or dataset version, ``depth`` deep."""
    walker = _Walker(metadata, depth)
    return walker.walk(kind, entity_id, "", 0, False), walker.walk(kind, entity_id, "", 0, True)
