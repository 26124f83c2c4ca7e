"""``loopml users``: the people and service accounts of a team server."""

from __future__ import annotations

from typing import Annotated

import typer

from loopml.cli.operator import auth_service, user_to_dict
from loopml.cli.render import console, format_time, print_json, table

__all__ = ["app"]

app = typer.Typer(
    help="Manage the users of a team server (run where its database is reachable).",
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NameArgument = Annotated[str, typer.Argument(help="User name, e.g. ana or ci@example.com.")]


@app.command("create")
def create_user(
    name: NameArgument,
    admin: Annotated[
        bool, typer.Option("--admin", help="A server admin: every project, every role.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user; give them a token with `loopml tokens create`."""
    with auth_service() as auth:
        user = auth.create_user(name, is_admin=admin)
    if as_json:
        print_json(user_to_dict(user))
        return
    kind = "server admin" if user.is_admin else "user"
    console.print(f"created {kind} [bold]{user.name}[/bold] ({user.id})")
    scope = "--role admin --all-projects" if user.is_admin else "--role editor --project <project>"
    console.print(
        f"[dim]give them a token: loopml tokens create --user {user.name} {scope}[/dim]",
        soft_wrap=True,
    )


@app.command("list")
def list_users(as_json: JsonOption = False) -> None:
    """All users, by name."""
    with auth_service() as auth:
        users = auth.list_users()
    if as_json:
        print_json([user_to_dict(u) for u in users])
        return
    if not users:
        console.print("No users yet: the server creates `admin` at its first start.")
        return
    rows = [
        [
            u.name,
            u.id,
            "yes" if u.is_admin else "",
            "[red]disabled[/red]" if u.disabled else "active",
            format_time(u.created_at),
        ]
        for u in users
    ]
    listing = table(None, ["name", "id", "server admin", "status", "created"], rows)
    listing.columns[1].no_wrap = True
    console.print(listing)


@app.command("disable")
def disable_user(name: NameArgument) -> None:
    """Disable a user: all their tokens stop working on the next request."""
    with auth_service() as auth:
        user = auth.disable_user(name)
    console.print(f"disabled user [bold]{user.name}[/bold]; their tokens no longer work")


@app.command("enable")
def enable_user(name: NameArgument) -> None:
    """Enable a disabled user again."""
    with auth_service() as auth:
        user = auth.enable_user(name)
    console.print(f"enabled user [bold]{user.name}[/bold]")
