"""The lineage graph of a model version: training data → source run → the version.

Laid out on the server as three columns of boxes joined by arrows; the template
``models_lineage.html`` writes it as inline SVG (autoescaped, no script, no inline style).
Each box links to its page: a dataset version's, the run's. Records of projects the user
has no role in are counted but not shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopml.core.auth import Principal
from loopml.core.errors import NotFoundError
from loopml.core.models import ModelVersion
from loopml.server.context import ServerContext
from loopml.server.ui.base import url_path
from loopml.server.ui.dataset_charts import shorten
from loopml.server.ui.dataset_views import version_href

__all__ = ["LineageEdge", "LineageGraph", "LineageNode", "lineage_graph"]

NODE_WIDTH = 230
NODE_HEIGHT = 54
COLUMN_GAP = 90
ROW_GAP = 14
_PAD = 6
_LABEL_CHARS = 28


@dataclass(frozen=True, slots=True)
class LineageNode:
    """One box: what it is, its two lines of text, its link and its place."""

    kind: str  # dataset, run, version, missing
    label: str
    detail: str
    href: str | None
    x: float
    y: float
    title: str

    @property
    def short_label(self) -> str:
        return shorten(self.label, _LABEL_CHARS)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """An arrow from the right side of one box to the left side of the next."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def path(self) -> str:
        middle = (self.x1 + self.x2) / 2
        return (
            f"M{self.x1:.1f},{self.y1:.1f} C{middle:.1f},{self.y1:.1f} "
            f"{middle:.1f},{self.y2:.1f} {self.x2:.1f},{self.y2:.1f}"
        )


@dataclass(frozen=True, slots=True)
class LineageGraph:
    width: int
    height: int
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]
    n_hidden: int
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def _readable(ctx: ServerContext, principal: Principal, project_id: str) -> bool:
    return not ctx.config.auth_required or principal.role_in(project_id) is not None


def _project_name(ctx: ServerContext, project_id: str, names: dict[str, str]) -> str:
    if project_id not in names:
        names[project_id] = ctx.metadata.get_project(project_id).name
    return names[project_id]


def _inputs(
    ctx: ServerContext, principal: Principal, version: ModelVersion, names: dict[str, str]
) -> tuple[list[tuple[str, str, str | None, str]], int]:
    """(label, detail, href, kind) of each readable training dataset version; hidden count."""
    found: list[tuple[str, str, str | None, str]] = []
    hidden = 0
    for dataset_version_id in version.dataset_version_ids:
        try:
            data = ctx.metadata.get_dataset_version(dataset_version_id)
        except NotFoundError:
            found.append(("(deleted)", dataset_version_id[:12], None, "missing"))
            continue
        if not _readable(ctx, principal, data.project_id):
            hidden += 1
            continue
        href = version_href(_project_name(ctx, data.project_id, names), data)
        found.append((data.ref, f"{data.n_rows:,} rows · training data", href, "dataset"))
    return found, hidden


def _source(
    ctx: ServerContext, principal: Principal, version: ModelVersion, names: dict[str, str]
) -> tuple[str, str, str | None, str]:
    if version.run_id is None:
        return ("no source run", "registered without a run", None, "missing")
    try:
        project_id = ctx.project_of_run(version.run_id)
        if not _readable(ctx, principal, project_id):
            return ("a run you cannot see", "in another project", None, "missing")
        run = ctx.metadata.get_run(version.run_id)
    except NotFoundError:
        return ("(deleted run)", version.run_id[:12], None, "missing")
    href = url_path("p", _project_name(ctx, project_id, names), "r", run.id)
    return (run.name, f"run · {run.status}", href, "run")


def lineage_graph(
    ctx: ServerContext, principal: Principal, project_name: str, version: ModelVersion
) -> LineageGraph:
    """Data → run → version for one model version, laid out left to right."""
    names: dict[str, str] = {}
    inputs, hidden = _inputs(ctx, principal, version, names)
    if not inputs and hidden:
        label = f"{hidden} dataset version{'' if hidden == 1 else 's'}"
        inputs = [(label, "in projects you cannot see", None, "missing")]
    elif not inputs:
        inputs = [("no training data", "none recorded with the run", None, "missing")]
    run = _source(ctx, principal, version, names)
    step = NODE_HEIGHT + ROW_GAP
    height = _PAD * 2 + step * len(inputs) - ROW_GAP
    middle = height / 2 - NODE_HEIGHT / 2
    columns = [_PAD + i * (NODE_WIDTH + COLUMN_GAP) for i in range(3)]
    nodes = [
        LineageNode(kind, label, detail, href, columns[0], _PAD + i * step, f"{label}: {detail}")
        for i, (label, detail, href, kind) in enumerate(inputs)
    ]
    run_label, run_detail, run_href, run_kind = run
    nodes.append(
        LineageNode(
            run_kind,
            run_label,
            run_detail,
            run_href,
            columns[1],
            middle,
            f"{run_label}: {run_detail}",
        )
    )
    this = f"{version.model_name} version {version.version}"
    nodes.append(LineageNode("version", this, version.flavor, None, columns[2], middle, this))
    edges = [
        LineageEdge(
            n.x + NODE_WIDTH,
            n.y + NODE_HEIGHT / 2,
            columns[1] - 2,
            middle + NODE_HEIGHT / 2,
        )
        for n in nodes[:-2]
    ]
    edges.append(
        LineageEdge(
            columns[1] + NODE_WIDTH,
            middle + NODE_HEIGHT / 2,
            columns[2] - 2,
            middle + NODE_HEIGHT / 2,
        )
    )
    width = columns[2] + NODE_WIDTH + _PAD
    return LineageGraph(int(width), int(height), tuple(nodes), tuple(edges), hidden)
