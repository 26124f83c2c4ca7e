"""``loopml audit``: the registry's append-only, hash-chained log."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli.context import client
from loopml.cli.render import console, format_time, print_json, table

__all__ = ["app"]

app = typer.Typer(help="The audit log: list events, verify the chain.", no_args_is_help=True)


@app.command("list")
def list_events(
    entity: Annotated[str | None, typer.Option(help="Only events of this model.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The project's audit events, oldest first."""
    events = client().registry.audit_events(entity, limit)
    if as_json:
        print_json(
            [
                {
                    "seq": e.seq,
                    "time": e.time.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "entity": e.entity_name,
                    "entity_type": e.entity_type,
                    "before": e.before,
                    "after": e.after,
                    "hash": e.hash,
                }
                for e in events
            ]
        )
        return
    console.print(
        table(
            "Audit log",
            ["seq", "time", "actor", "action", "entity", "change"],
            [
                (
                    e.seq,
                    format_time(e.time),
                    e.actor,
                    e.action,
                    e.entity_name,
                    f"{_short(e.before)} → {_short(e.after)}",
                )
                for e in events
            ],
        )
    )


def _short(value: object) -> str:
    if not value:
        return "-"
    assert isinstance(value, dict)
    return ", ".join(f"{k}={v}" for k, v in value.items())[:60]


@app.command("verify")
def verify() -> None:
    """Recompute every event's digest and the chain; exit 1 naming any event at fault."""
    n_events, problems = client().registry.verify_audit()
    if not problems:
        console.print(f"[green]audit log intact[/green]: {n_events} events, chain verified")
        return
    for problem in problems:
        console.print(f"[red]✗[/red] {problem}")
    console.print(
        f"[red]audit log tampered with[/red]: {len(problems)} problem(s) in {n_events} events"
    )
    raise typer.Exit(1)
