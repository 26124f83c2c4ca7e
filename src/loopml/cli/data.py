"""``loopml data``: register, list, show, diff, validate and profile dataset versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from loopml.cli.context import client
from loopml.cli.profile_view import profile_table, version_summary
from loopml.cli.render import console, format_time, print_json, table
from loopml.core.datasets import DatasetVersion
from loopml.core.errors import DataValidationError
from loopml.core.validation_report import ValidationReport

__all__ = ["app"]

app = typer.Typer(
    help="Dataset versions: register, inspect, compare, validate.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
RefArgument = Annotated[str, typer.Argument(help="A version: churn@3, churn@latest or churn.")]


def version_to_dict(version: DatasetVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "ref": version.ref,
        "dataset": version.dataset_name,
        "version": version.version,
        "content_hash": version.content_hash,
        "n_rows": version.n_rows,
        "n_bytes": version.n_bytes,
        "schema": [dict(c) for c in version.arrow_schema],
        "source_uri": version.source_uri,
        "description": version.description,
        "created_by": version.created_by,
        "created_at": version.created_at.isoformat(),
        "validation": version.validation,
    }


@app.command("register")
def register(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. churn.")],
    path: Annotated[Path, typer.Argument(help="A Parquet or CSV file, or a folder of them.")],
    description: Annotated[str, typer.Option(help="What this version is.")] = "",
    schema: Annotated[
        Path | None, typer.Option(help="A schema YAML file to validate against.")
    ] = None,
    require_valid: Annotated[
        bool, typer.Option("--require-valid", help="Refuse data that fails --schema.")
    ] = False,
    no_profile: Annotated[
        bool, typer.Option("--no-profile", help="Skip the profile (compute it later).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Register a file or folder as the next version of a dataset."""
    c = client()
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("staging", total=None)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total or None)

        try:
            version = c.data.register(
                name,
                path,
                description=description,
                schema=schema,
                require_valid=require_valid,
                profile=not no_profile,
                progress=report,
            )
        except DataValidationError as exc:
            progress.stop()
            if isinstance(exc.report, ValidationReport) and as_json:
                print_json(exc.report.to_dict())
            raise
    if as_json:
        print_json(version_to_dict(version))
        return
    console.print(
        f"Registered [bold]{version.ref}[/bold]: {version.n_rows:,} rows, "
        f"{len(version.arrow_schema)} columns, {version.n_bytes:,} bytes "
        f"({version.content_hash[:19]})"
    )
    if version.validation is not None:
        report_ = ValidationReport.from_dict(version.validation)
        console.print(report_.summary(), markup=False)


@app.command("list")
def list_datasets(as_json: JsonOption = False) -> None:
    """The project's datasets."""
    c = client()
    datasets = c.data.list_datasets()
    if as_json:
        print_json(
            [
                {
                    "id": d.id,
                    "name": d.name,
                    "n_versions": d.n_versions,
                    "description": d.description,
                    "created_by": d.created_by,
                    "created_at": d.created_at.isoformat(),
                }
                for d in datasets
            ]
        )
        return
    if not datasets:
        console.print(f"No datasets in project {c.project.name!r} yet: see `loopml data register`.")
        return
    console.print(
        table(
            f"Datasets of project {c.project.name}",
            ["name", "versions", "created", "by", "description"],
            [
                (d.name, d.n_versions, format_time(d.created_at), d.created_by, d.description)
                for d in datasets
            ],
        )
    )


@app.command("versions")
def list_versions(
    name: Annotated[str, typer.Argument(help="Dataset name.")], as_json: JsonOption = False
) -> None:
    """A dataset's versions, newest first."""
    versions = client().data.list_versions(name)
    if as_json:
        print_json([version_to_dict(v) for v in versions])
        return
    console.print(
        table(
            f"Versions of {name}",
            ["version", "rows", "columns", "created", "by", "valid", "hash"],
            [
                (
                    v.version,
                    f"{v.n_rows:,}",
                    len(v.arrow_schema),
                    format_time(v.created_at),
                    v.created_by,
                    _valid(v),
                    v.content_hash[7:19],
                )
                for v in versions
            ],
        )
    )


def _valid(version: DatasetVersion) -> str:
    if version.validation is None:
        return "-"
    return "passed" if version.validation.get("passed") else "FAILED"


@app.command("show")
def show(ref: RefArgument, as_json: JsonOption = False) -> None:
    """A version: schema, profile summary and validation result."""
    c = client()
    version = c.data.get_version(ref)
    if as_json:
        print_json({**version_to_dict(version), "profile": version.profile})
        return
    console.print(version_summary(version))
    if version.profile is not None:
        console.print(profile_table(version.profile))
    if version.validation is not None:
        console.print(ValidationReport.from_dict(version.validation).summary(), markup=False)


@app.command("profile")
def profile(
    ref: RefArgument,
    refresh: Annotated[bool, typer.Option("--refresh", help="Compute it again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A version's column profile (computed and stored if missing)."""
    c = client()
    with console.status("profiling", spinner="dots"):
        document = c.data.profile(ref, refresh=refresh)
    if as_json:
        print_json(document)
    else:
        console.print(profile_table(document))


@app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="The reference version, e.g. churn@3.")],
    new: Annotated[str, typer.Argument(help="The version compared with it, e.g. churn@4.")],
    as_json: JsonOption = False,
) -> None:
    """Schema changes, row counts and per-column drift between two versions."""
    from loopml.cli.profile_view import diff_view

    result = client().data.diff(old, new)
    if as_json:
        print_json(result.to_dict())
    else:
        for renderable in diff_view(result):
            console.print(renderable)


@app.command("validate")
def validate(
    target: Annotated[str, typer.Argument(help="A version (churn@3) or a data file path.")],
    schema: Annotated[Path, typer.Option(help="The schema YAML file.")],
    as_json: JsonOption = False,
) -> None:
    """Validate a version or a file against a schema; exit 1 when a check fails."""
    report = client().data.validate(target, schema)
    if as_json:
        print_json(report.to_dict())
    else:
        style = "green" if report.passed else "red"
        console.print(f"[{style}]{report.summary()}[/{style}]")
    if not report.passed:
        raise typer.Exit(1)


@app.command("infer-schema")
def infer_schema(
    ref: RefArgument,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the YAML here.")
    ] = None,
) -> None:
    """Propose a schema from a version's data, as YAML to keep in the repository."""
    from loopml.datasets.schema_file import dump_schema, save_schema

    proposed = client().data.infer_schema(ref)
    if output is None:
        typer.echo(dump_schema(proposed), nl=False)
        return
    save_schema(proposed, output)
    console.print(f"Wrote the proposed schema of {ref} to {output}")
