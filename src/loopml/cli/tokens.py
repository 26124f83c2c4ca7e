"""``loopml tokens``: API tokens for the team server; a secret is shown once, at creation."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer

from loopml.cli.operator import auth_service, token_to_dict
from loopml.cli.render import console, err_console, format_time, print_json, table
from loopml.core.auth import ApiToken
from loopml.core.clock import now
from loopml.core.errors import ValidationError

__all__ = ["app"]

app = typer.Typer(
    help="Create, list and revoke API tokens (run where the server's database is reachable).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SHOWN_ONCE = (
    "this is the only time the token is shown: store it now (a secret manager, or "
    "LOOPML_TOKEN in the client's environment); loopml keeps only its hash"
)


@app.command("create")
def create_token(
    user: Annotated[str, typer.Option("--user", "-u", help="The token's owner.")],
    role: Annotated[str, typer.Option("--role", "-r", help="viewer, editor or admin.")],
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="The project the token is for.")
    ] = None,
    all_projects: Annotated[
        bool,
        typer.Option("--all-projects", help="Every project instead (server admins, admin role)."),
    ] = False,
    expires: Annotated[
        str, typer.Option("--expires", help="Lifetime: 30m, 12h, 90d, 1y or never.")
    ] = "90d",
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a token and print it once."""
    if (project is None) == (not all_projects):
        raise ValidationError(
            "--project: name the project the token is for, or pass --all-projects (not both)",
            field="project",
        )
    with auth_service() as auth:
        token, raw = auth.create_token(user, role, project, expires=expires, name=name)
    if as_json:
        print_json({"token": raw, **token_to_dict(token, user, project)})
        err_console.print(f"[yellow]warning:[/yellow] {SHOWN_ONCE}")
        return
    scope = f"in project {project}" if project else "in every project"
    until = f"until {format_time(token.expires_at)}" if token.expires_at else "with no expiry"
    console.print(f"created token {token.id} for {user}: {token.role.value} {scope}, {until}")
    # Plain print: no wrapping or markup, so the token copies as one piece.
    print(raw)
    sys.stdout.flush()
    err_console.print(f"[yellow]warning:[/yellow] {SHOWN_ONCE}")


@app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Tokens, oldest first. Secrets are never shown: they are not stored."""
    with auth_service() as auth:
        tokens = auth.list_tokens(user_name=user, project_name=project)
        users = {u.id: u.name for u in auth.list_users()}
        projects = {p.id: p.name for p in auth.metadata.list_projects()}
    records = [
        token_to_dict(t, users.get(t.user_id, t.user_id), projects.get(t.project_id or ""))
        for t in tokens
    ]
    if as_json:
        print_json(records)
        return
    if not tokens:
        console.print("No tokens match.")
        return
    moment = now()
    rows = [
        [
            t.id,
            t.name,
            record["user"],
            t.role.value,
            record["project"] or "*",
            format_time(t.created_at),
            format_time(t.expires_at) or "never",
            format_time(t.last_used_at),
            _status(t, moment),
        ]
        for t, record in zip(tokens, records, strict=True)
    ]
    columns = ["id", "name", "user", "role", "project", "created", "expires", "last used", "status"]
    listing = table(None, columns, rows)
    listing.columns[0].no_wrap = True  # the id is what `tokens revoke` takes: keep it whole
    console.print(listing)
    console.print(f"[dim]{len(tokens)} token(s); revoke one with `loopml tokens revoke <id>`[/dim]")


def _status(token: ApiToken, moment: datetime) -> str:
    if token.revoked_at is not None:
        return "[red]revoked[/red]"
    if not token.is_active(moment):
        return "[yellow]expired[/yellow]"
    return "[green]active[/green]"


@app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (from `loopml tokens list`).")],
) -> None:
    """Revoke a token; the server refuses it from the next request on."""
    with auth_service() as auth:
        token = auth.revoke_token(token_id)
    console.print(f"revoked token {token.id} (at {format_time(token.revoked_at)})")
