"""``loopml runs``: list, show, compare, delete and restore runs."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from loopml.cli.context import client
from loopml.cli.render import (
    console,
    format_time,
    format_value,
    print_json,
    run_to_dict,
    short_id,
    table,
)
from loopml.core.entities import Run
from loopml.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(help="List, inspect, compare and delete runs.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
STATUS_STYLE = {"running": "cyan", "finished": "green", "failed": "red", "killed": "yellow"}


@app.command("list")
def list_runs(
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="Experiment (repeatable).")
    ] = None,
    filter: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="e.g. \"metrics.acc > 0.9 and params.model = 'rf'\""),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", "-o", help="e.g. 'metrics.acc desc' (repeatable)."),
    ] = None,
    max_results: Annotated[
        int, typer.Option("--max-results", "-n", help="At most this many runs.")
    ] = 50,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated extra columns, e.g. params.model,metrics.acc "
            "(default: the first metrics)."
        ),
    ] = None,
    include_deleted: Annotated[bool, typer.Option(help="Include deleted runs.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Runs of the project, filtered and ordered, newest first by default."""
    c = client()
    runs = c.search_run_records(experiment, filter, order_by, max_results, include_deleted)
    if as_json:
        print_json([run_to_dict(r) for r in runs])
        return
    if not runs:
        console.print("No runs match.")
        return
    extra = _columns(runs, columns)
    names = {e.id: e.name for e in c.tracking.list_experiments(include_deleted=True)}
    rows = []
    for run in runs:
        rows.append(
            [
                short_id(run.id),
                run.name,
                names.get(run.experiment_id, ""),
                f"[{STATUS_STYLE[run.status.value]}]{run.status.value}[/]",
                format_time(run.start_time),
                _duration(run),
                *(_cell(run, column) for column in extra),
            ]
        )
    console.print(
        table(None, ["id", "name", "experiment", "status", "started", "duration", *extra], rows)
    )
    console.print(f"[dim]{len(runs)} run(s); show one with `loopml runs show <id>`[/dim]")


def _columns(runs: list[Run], columns: str | None) -> list[str]:
    if columns:
        chosen = [c.strip() for c in columns.split(",") if c.strip()]
        for column in chosen:
            if not column.startswith(("params.", "metrics.", "tags.")):
                raise ValidationError(
                    f"--columns: {column!r} must start with params., metrics. or tags.",
                    field="columns",
                )
        return chosen
    keys = sorted({k for r in runs for k in r.metrics})
    return [f"metrics.{k}" for k in keys[:6]]


def _cell(run: Run, column: str) -> Any:
    kind, _, key = column.partition(".")
    if kind == "metrics":
        metric = run.metrics.get(key)
        return metric.value if metric else None
    if kind == "params":
        return run.params.get(key)
    return run.tags.get(key)


def _duration(run: Run) -> str:
    seconds = run.duration_s
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


@app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix of it.")],
    as_json: JsonOption = False,
) -> None:
    """Everything about one run: params, latest metrics, tags, environment, artifacts."""
    c = client()
    run = c.get_run(c.tracking.resolve_run_id(run_id))
    artifacts = c.list_artifacts(run.id)
    if as_json:
        data = run_to_dict(run)
        data["artifacts"] = [
            {"path": a.path, "size": a.size, "digest": a.digest} for a in artifacts
        ]
        print_json(data)
        return
    experiment = c.tracking.metadata.get_experiment(run.experiment_id)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("id", run.id)
    head.add_row("experiment", experiment.name)
    head.add_row("status", f"[{STATUS_STYLE[run.status.value]}]{run.status.value}[/]")
    head.add_row("started", format_time(run.start_time))
    head.add_row("duration", _duration(run))
    if run.parent_run_id:
        head.add_row("parent", run.parent_run_id)
    if run.user:
        head.add_row("user", run.user)
    git = run.environment.get("git") or {}
    if git:
        head.add_row("git", f"{git.get('commit', '')[:12]}{' (dirty)' if git.get('dirty') else ''}")
    seeds = run.environment.get("seeds") or {}
    if seeds:
        head.add_row("seed", str(seeds.get("seed")))
    if run.note:
        head.add_row("note", run.note)
    if run.error:
        head.add_row("error", f"[red]{run.error.splitlines()[-1]}[/red]")
    if run.deleted:
        head.add_row("deleted", "yes (restore with `loopml runs restore`)")
    console.print(Panel(head, title=f"run {run.name}", title_align="left"))
    if run.params:
        console.print(table("Params", ["name", "value"], sorted(run.params.items())))
    if run.metrics:
        console.print(
            table(
                "Metrics (latest)",
                ["name", "value", "step"],
                [(k, m.value, m.step) for k, m in sorted(run.metrics.items())],
            )
        )
    if run.tags:
        console.print(table("Tags", ["name", "value"], sorted(run.tags.items())))
    if artifacts:
        console.print(table("Artifacts", ["path", "bytes"], [(a.path, a.size) for a in artifacts]))


@app.command("compare")
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Two to ten run ids (or prefixes).")],
    all_rows: Annotated[bool, typer.Option("--all", help="Show identical params too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Params and metrics of 2-10 runs side by side; differing params are highlighted."""
    if not 2 <= len(run_ids) <= 10:
        raise ValidationError("compare takes 2 to 10 run ids", field="run_ids")
    c = client()
    runs = [c.get_run(c.tracking.resolve_run_id(r)) for r in run_ids]
    if as_json:
        print_json([run_to_dict(r) for r in runs])
        return
    result = Table(header_style="bold", title="Run comparison", title_justify="left")
    result.add_column("", style="bold")
    for run in runs:
        result.add_column(f"{run.name}\n{short_id(run.id)}", justify="right")
    result.add_row("status", *(r.status.value for r in runs))
    for key in sorted({k for r in runs for k in r.params}):
        values = [r.params.get(key) for r in runs]
        if len(set(values)) == 1 and not all_rows:
            continue
        style = "yellow" if len(set(values)) > 1 else ""
        result.add_row(
            f"params.{key}",
            *(f"[{style}]{v}[/]" if style and v is not None else format_value(v) for v in values),
        )
    for key in sorted({k for r in runs for k in r.metrics}):
        numbers = [r.metrics[key].value if key in r.metrics else None for r in runs]
        finite = [v for v in numbers if v is not None and math.isfinite(v)]
        best = max(finite) if finite else None
        result.add_row(
            f"metrics.{key}",
            *(
                f"[bold]{format_value(v)}[/bold]"
                if v is not None and v == best and len(finite) > 1
                else format_value(v)
                for v in numbers
            ),
        )
    console.print(result)
    console.print("[dim]yellow: params that differ; bold: highest value of each metric[/dim]")


@app.command("delete")
def delete_run(run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")]) -> None:
    """Delete a run: it leaves lists and searches; `loopml runs restore` brings it back."""
    c = client()
    full = c.tracking.resolve_run_id(run_id)
    c.delete_run(full)
    console.print(f"Deleted run {full}")


@app.command("restore")
def restore_run(run_id: Annotated[str, typer.Argument(help="Run id or a unique prefix.")]) -> None:
    """Bring back a deleted run."""
    c = client()
    full = c.tracking.resolve_run_id(run_id)
    c.tracking.restore_run(full)
    console.print(f"Restored run {full}")
