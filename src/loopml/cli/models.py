"""``loopml models``: the registry and its release workflow from the terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from loopml.cli.context import client
from loopml.cli.render import console, format_time, print_json, table
from loopml.core.errors import ValidationError
from loopml.core.models import ApprovalRequest, ApprovalStatus, ModelVersion

__all__ = ["app"]

app = typer.Typer(help="Registered models, versions, aliases and approvals.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
VersionArgument = Annotated[
    str, typer.Argument(help="A version: churn/3, churn@champion or models:/churn/3.")
]


def version_to_dict(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "ref": version.ref,
        "model": version.model_name,
        "version": version.version,
        "flavor": version.flavor,
        "status": version.status.value,
        "aliases": list(version.aliases),
        "run_id": version.run_id,
        "metrics": dict(version.metrics),
        "dataset_version_ids": list(version.dataset_version_ids),
        "digest": version.digest,
        "size": version.size,
        "created_by": version.created_by,
        "created_at": version.created_at.isoformat(),
        "evaluation": version.evaluation,
    }


def request_to_dict(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "model": request.model_name,
        "version": request.version,
        "alias": request.alias,
        "status": request.status.value,
        "requested_by": request.requested_by,
        "created_at": request.created_at.isoformat(),
        "gates_passed": request.gates_passed,
        "gate_results": [dict(g) for g in request.gate_results],
        "required_approvals": request.required_approvals,
        "decisions": [
            {"reviewer": d.reviewer, "decision": d.decision.value, "reason": d.reason}
            for d in request.decisions
        ],
        "override_justification": request.override_justification,
    }


def _print_request(request: ApprovalRequest) -> None:
    console.print(
        f"Request [bold]{request.id[:12]}[/bold]: {request.model_name}/{request.version} as "
        f"{request.alias!r} — {request.status.value} "
        f"({request.n_approvals}/{request.required_approvals} approvals)"
    )
    for gate in request.gate_results:
        mark = "[green]✓[/green]" if gate.get("passed") else "[red]✗[/red]"
        console.print(f"  {mark} {gate.get('expression')}  [dim]{gate.get('observed', '')}[/dim]")


@app.command("list")
def list_models(as_json: JsonOption = False) -> None:
    """The project's registered models and their aliases."""
    c = client()
    models = c.registry.list_models()
    if as_json:
        print_json(
            [
                {
                    "name": m.name,
                    "n_versions": m.n_versions,
                    "aliases": dict(m.aliases),
                    "owner": m.owner,
                    "description": m.description,
                }
                for m in models
            ]
        )
        return
    if not models:
        console.print(f"No registered models in project {c.project.name!r} yet.")
        return
    console.print(
        table(
            f"Models of project {c.project.name}",
            ["name", "versions", "aliases", "owner", "description"],
            [
                (
                    m.name,
                    m.n_versions,
                    ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())),
                    m.owner,
                    m.description,
                )
                for m in models
            ],
        )
    )


@app.command("register")
def register(
    source: Annotated[str, typer.Argument(help="The logged model: runs:/<run id>/<path>.")],
    name: Annotated[str, typer.Argument(help="The registered model's name, e.g. churn.")],
    description: Annotated[str, typer.Option(help="What this version is.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Register a run's logged model as the next version of NAME."""
    version = client().registry.register(source, name, description=description)
    if as_json:
        print_json(version_to_dict(version))
    else:
        console.print(
            f"Registered [bold]{version.ref}[/bold] ({version.flavor}, run {version.run_id})"
        )


@app.command("versions")
def list_versions(
    name: Annotated[str, typer.Argument(help="Model name.")], as_json: JsonOption = False
) -> None:
    """A model's versions, newest first."""
    c = client()
    versions = c.metadata.list_model_versions(c.registry.get_model(name).id)
    if as_json:
        print_json([version_to_dict(v) for v in versions])
        return
    metric_keys = sorted({k for v in versions for k in v.metrics})[:4]
    console.print(
        table(
            f"Versions of {name}",
            ["version", "aliases", "status", "flavor", *metric_keys, "created", "by"],
            [
                (
                    v.version,
                    ", ".join(v.aliases),
                    v.status.value,
                    v.flavor,
                    *(v.metrics.get(k) for k in metric_keys),
                    format_time(v.created_at),
                    v.created_by,
                )
                for v in versions
            ],
        )
    )


@app.command("show")
def show(ref: VersionArgument, as_json: JsonOption = False) -> None:
    """A version: flavor, metrics, lineage, aliases and evaluation."""
    version = client().registry.resolve(ref)
    if as_json:
        print_json(version_to_dict(version))
        return
    console.print(f"[bold]{version.ref}[/bold] {version.flavor} — {version.status.value}")
    console.print(f"  aliases: {', '.join(version.aliases) or '-'}   run: {version.run_id or '-'}")
    console.print(f"  digest: {version.digest}   size: {version.size:,} bytes")
    for key, value in sorted(version.metrics.items()):
        console.print(f"  {key} = {value:.4g}")


@app.command("aliases")
def aliases(
    name: Annotated[str, typer.Argument(help="Model name.")],
    at: Annotated[
        str | None,
        typer.Option(
            help="Which version each alias held at this ISO time, e.g. 2026-11-01T12:00Z."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every move of the model's aliases, or what they pointed at a given time."""
    c = client()
    model = c.registry.get_model(name)
    history = c.metadata.alias_history(model.id)
    if at is not None:
        moment = _parse_time(at)
        held = {
            a: c.metadata.version_at(model.id, a, moment)
            for a in sorted({h.alias for h in history})
        }
        if as_json:
            print_json({"at": moment.isoformat(), "aliases": held})
        else:
            for alias, version in held.items():
                console.print(f"{alias}: {'-' if version is None else f'{name}/{version}'} at {at}")
        return
    if as_json:
        print_json(
            [
                {
                    "alias": h.alias,
                    "version": h.version,
                    "previous_version": h.previous_version,
                    "changed_at": h.changed_at.isoformat(),
                    "changed_by": h.changed_by,
                }
                for h in history
            ]
        )
        return
    console.print(
        table(
            f"Alias moves of {name}",
            ["time", "alias", "from", "to", "by"],
            [
                (format_time(h.changed_at), h.alias, h.previous_version, h.version, h.changed_by)
                for h in history
            ],
        )
    )


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"--at: {text!r} is not an ISO time such as 2026-11-01T12:00:00Z", field="at"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("policy")
def policy(
    name: Annotated[str, typer.Argument(help="Model name.")],
    gate: Annotated[
        list[str] | None, typer.Option("--gate", help="A gate, e.g. 'metrics.f1 >= 0.85'.")
    ] = None,
    required_approvals: Annotated[int, typer.Option(min=1, max=10)] = 1,
) -> None:
    """Show the release policy, or set it with --gate (repeat for several)."""
    c = client()
    if gate:
        model = c.registry.set_policy(name, gate, required_approvals)
    else:
        model = c.registry.get_model(name)
    print_json(dict(model.release_policy))


@app.command("request-approval")
def request_approval(
    ref: VersionArgument,
    alias: Annotated[str, typer.Option(help="The alias to move, e.g. champion.")] = "champion",
    comment: Annotated[str, typer.Option(help="A note for the reviewers.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Evaluate the release gates and open a request to move ALIAS to the version."""
    request = client().registry.request_approval(ref, alias, comment)
    if as_json:
        print_json(request_to_dict(request))
        return
    _print_request(request)
    if not request.gates_passed:
        console.print("[red]Gates failed:[/red] reviewers cannot approve; an admin may override.")


@app.command("approvals")
def approvals(
    status: Annotated[
        ApprovalStatus | None, typer.Option(help="Only requests in this state.")
    ] = ApprovalStatus.OPEN,
    show_all: Annotated[bool, typer.Option("--all", help="Every request.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The approval inbox (open requests by default)."""
    requests = client().registry.list_requests(None if show_all else status)
    if as_json:
        print_json([request_to_dict(r) for r in requests])
        return
    console.print(
        table(
            "Approval requests",
            ["id", "model", "alias", "status", "gates", "approvals", "by", "opened"],
            [
                (
                    r.id[:12],
                    f"{r.model_name}/{r.version}",
                    r.alias,
                    r.status.value,
                    "passed" if r.gates_passed else "FAILED",
                    f"{r.n_approvals}/{r.required_approvals}",
                    r.requested_by,
                    format_time(r.created_at),
                )
                for r in requests
            ],
        )
    )


@app.command("approve")
def approve(
    request: Annotated[str, typer.Argument(help="Request id (or a unique prefix).")],
    reason: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Approve a request (not your own); the last needed approval moves the alias."""
    _print_request(client().registry.approve(request, reason))


@app.command("reject")
def reject(
    request: Annotated[str, typer.Argument(help="Request id (or a unique prefix).")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
) -> None:
    """Reject a request, saying why."""
    _print_request(client().registry.reject(request, reason))


@app.command("override")
def override(
    request: Annotated[str, typer.Argument(help="Request id (or a unique prefix).")],
    justification: Annotated[str, typer.Option(help="Why the gates may be skipped.")],
) -> None:
    """Approve despite failed gates (admins); the justification is audited."""
    _print_request(client().registry.override(request, justification))


@app.command("archive")
def archive(
    ref: VersionArgument,
    restore: Annotated[bool, typer.Option("--restore", help="Undo an archive.")] = False,
) -> None:
    """Archive a version (it keeps its records but can hold no alias)."""
    version = client().registry.archive(ref, restore=restore)
    console.print(f"{version.ref} is now {version.status.value}")


@app.command("card")
def card(
    ref: VersionArgument,
    output_format: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here.")] = None,
) -> None:
    """Render the version's model card from the records."""
    from loopml.governance.model_card import gather_model_card, render_model_card

    c = client()
    version = c.registry.resolve(ref)
    data = gather_model_card(
        c.metadata,
        version.model_name,
        version.version,
        project_file=c.settings.project_file,
        project_id=c.project.id,
    )
    if output_format not in ("md", "html"):
        raise ValidationError(f"--format: use md or html, got {output_format!r}", field="format")
    text = render_model_card(data, format="md" if output_format == "md" else "html")
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote the model card of {version.ref} to {output}")
