"""Artifacts of a run in the browser: a safe preview and the file itself.

What may be shown is decided by an allow-list of file extensions, never by sniffing
content: text, Markdown, JSON and YAML are shown escaped in ``<pre>``; CSV and TSV as an
escaped HTML table of the first rows; PNG, JPEG, GIF and WebP through ``<img>``, served
with their image type and ``X-Content-Type-Options: nosniff``. Everything else (HTML and
SVG included) is only ever served as an ``attachment`` of type
``application/octet-stream``, so the browser downloads it instead of rendering it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from loopml.artifacts.paths import check_relpath, join_relpath
from loopml.core.auth import Role
from loopml.core.entities import ArtifactInfo
from loopml.core.errors import NotFoundError
from loopml.core.ids import check_id
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, is_partial, render, url_path
from loopml.tracking.service import TrackingService, artifact_root

__all__ = [
    "IMAGE_TYPES",
    "MAX_PREVIEW_BYTES",
    "PREVIEW_ROWS",
    "preview_kind",
    "router",
]

router = APIRouter(include_in_schema=False)

PreviewKind = Literal["text", "json", "table", "image", "none"]
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
_TEXT = frozenset({".txt", ".log", ".md", ".markdown", ".yaml", ".yml", ".toml", ".ini", ".cfg"})
_JSON = frozenset({".json", ".jsonl"})
_TABLE = {".csv": ",", ".tsv": "\t"}
MAX_PREVIEW_BYTES = 2 * 1024 * 1024
PREVIEW_ROWS = 50
_CHUNK = 1024 * 1024


def preview_kind(path: str) -> PreviewKind:
    """How an artifact may be previewed, from its extension alone.

    >>> preview_kind("model/report.md"), preview_kind("x.CSV"), preview_kind("page.html")
    ('text', 'table', 'none')
    """
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_TYPES:
        return "image"
    if suffix in _TEXT:
        return "text"
    if suffix in _JSON:
        return "json"
    if suffix in _TABLE:
        return "table"
    return "none"


def _content_disposition(kind: str, path: str) -> str:
    name = PurePosixPath(path).name
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _find(tracking: TrackingService, run_id: str, path: str) -> ArtifactInfo:
    check_relpath(path, field="path")
    for info in tracking.list_artifacts(run_id, path):
        if info.path == path:
            return info
    raise NotFoundError(f"run {run_id} has no artifact {path!r}", field="path")


def _table_rows(text: str, delimiter: str) -> tuple[list[list[str]], bool]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            if len(rows) > PREVIEW_ROWS:  # the header plus PREVIEW_ROWS rows
                return rows, True
            rows.append(row)
    except csv.Error:
        return rows, True
    return rows, False


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@router.get("/p/{project}/r/{run_id}/artifacts/preview")
@html_errors
def artifact_preview(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    run_id: str,
    path: Annotated[str, Query(max_length=1024)],
) -> Response:
    """A preview of one artifact (an HTML fragment for HTMX, else a page)."""
    record = require_project(request, project, Role.VIEWER)
    tracking = ctx.tracking_for(record)
    run = tracking.get_run(check_id(run_id, field="run_id"))
    info = _find(tracking, run.id, path)
    kind = preview_kind(path)
    too_large = kind not in ("image", "none") and info.size > MAX_PREVIEW_BYTES
    context: dict[str, object] = {
        "title": path,
        "project": record,
        "run": run,
        "artifact": info,
        "kind": "none" if too_large else kind,
        "too_large": too_large,
        "file_url": url_path(
            "p", record.name, "r", run.id, "artifacts", "file", query={"path": path}
        ),
        "breadcrumbs": [
            ("Projects", "/projects"),
            (record.name, url_path("p", record.name)),
            (run.name, url_path("p", record.name, "r", run.id)),
            (path, None),
        ],
    }
    if context["kind"] in ("text", "json", "table"):
        text = tracking.open_artifact(run.id, path).decode("utf-8", errors="replace")
        if kind == "json":
            context["text"] = _pretty_json(text)
        elif kind == "table":
            rows, truncated = _table_rows(text, _TABLE[PurePosixPath(path).suffix.lower()])
            context.update(header=rows[0] if rows else [], rows=rows[1:], truncated=truncated)
        else:
            context["text"] = text
    template = "_artifact_preview.html" if is_partial(request) else "artifact.html"
    return render(request, template, context, principal=principal)


@router.get("/p/{project}/r/{run_id}/artifacts/file")
@html_errors
def artifact_file(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    run_id: str,
    path: Annotated[str, Query(max_length=1024)],
    download: bool = False,
) -> Response:
    """The artifact's bytes: images inline (typed, nosniff), everything else an attachment."""
    record = require_project(request, project, Role.VIEWER)
    tracking = ctx.tracking_for(record)
    run = tracking.get_run(check_id(run_id, field="run_id"))
    info = _find(tracking, run.id, path)
    image_type = IMAGE_TYPES.get(PurePosixPath(path).suffix.lower())
    inline = image_type is not None and not download
    # X-Content-Type-Options: nosniff comes with every response (the server's middleware).
    headers = {
        "Content-Disposition": _content_disposition("inline" if inline else "attachment", path),
        "Content-Length": str(info.size),
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    stream = tracking.artifacts.open_read(join_relpath(artifact_root(run.id), path))

    def chunks() -> Iterator[bytes]:
        with stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    media_type = image_type if inline and image_type else "application/octet-stream"
    return StreamingResponse(chunks(), media_type=media_type, headers=headers)
