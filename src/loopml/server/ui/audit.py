"""The audit log: ``GET /p/{project}/audit``, the project's events and the chain's health.

The log is one hash chain across all projects (each event links to the one before it,
whatever its project), so a project's events alone cannot be verified: their sequence
has gaps and their links name other projects' events by design. The page therefore
verifies the whole chain (:func:`loopml.governance.audit.verify_chain` over every event,
read through the store) and tells every reader of the project whether it is intact; the
details of a problem are shown when it concerns this project's events, or to a server
admin, while a problem in another project's events is only counted, so nobody reads
another project's actors or actions here.

Events are shown newest first, :data:`PAGE_SIZE` at a time (``?before=<seq>`` pages back),
optionally of one entity (``?entity=churn``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from loopml.core.audit import AuditEvent
from loopml.core.auth import Role
from loopml.governance.audit import ChainProblem, verify_chain
from loopml.metadata.base import BaseMetadataStore
from loopml.server.deps import require_project
from loopml.server.ui.base import Context, UiPrincipal, html_errors, render, url_path

__all__ = ["PAGE_SIZE", "Change", "changes", "context_fields", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 200
_BATCH = 10_000
_VALUE_CHARS = 80
_CONTEXT = ("alias", "version")


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an event: its value before and after (``None``: absent), shortened;
    the ``*_full`` texts are the whole values (the tooltip)."""

    field: str
    before: str | None
    after: str | None
    before_full: str | None = None
    after_full: str | None = None


def _text(value: Any) -> str:
    """A value as shown: text as is (empty text as ``""``), anything else as JSON."""
    if isinstance(value, str):
        return value or '""'
    return orjson.dumps(value).decode()


def _short(text: str | None) -> str | None:
    if text is None or len(text) <= _VALUE_CHARS:
        return text
    return text[: _VALUE_CHARS - 1] + "…"


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
    """The fields an event changed: all of a creation's or deletion's, else those that differ.

    >>> old, new = {"status": "open", "alias": "a"}, {"status": "approved", "alias": "a"}
    >>> [(c.field, c.before, c.after) for c in changes(old, new)]
    [('status', 'open', 'approved')]
    >>> [c.after for c in changes(None, {"version": 2})]
    ['2']
    """
    old, new = before or {}, after or {}
    fields = list(old) + [k for k in new if k not in old]
    found = []
    for name in fields:
        if name in old and name in new and old[name] == new[name]:
            continue
        was = _text(old[name]) if name in old else None
        now = _text(new[name]) if name in new else None
        found.append(Change(name, _short(was), _short(now), was, now))
    return found


def context_fields(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """The identifying fields an update kept (which alias, which version), to say what
    the change was about.

    >>> context_fields({"alias": "champion", "version": 1}, {"alias": "champion", "version": 2})
    [('alias', 'champion')]
    """
    if before is None or after is None:
        return []
    return [
        (name, _text(after[name]))
        for name in _CONTEXT
        if name in before and name in after and before[name] == after[name]
    ]


def _all_events(metadata: BaseMetadataStore) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    while batch := metadata.list_audit_events(
        after_seq=events[-1].seq if events else 0, limit=_BATCH
    ):
        events.extend(batch)
    return events


@router.get("/p/{project}/audit")
@html_errors
def audit_page(
    request: Request,
    principal: UiPrincipal,
    ctx: Context,
    project: str,
    entity: Annotated[str, Query(max_length=256)] = "",
    before: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The project's audit events, newest first, under the chain's verification."""
    record = require_project(request, project, Role.VIEWER)
    everything = _all_events(ctx.metadata)
    problems = verify_chain(everything)
    ours = {e.seq for e in everything if e.project_id == record.id}
    is_admin = principal.user.is_admin or not ctx.config.auth_required
    shown_problems: list[ChainProblem] = [p for p in problems if is_admin or p.seq in ours]
    events = [
        e
        for e in reversed(everything)
        if e.project_id == record.id and (not entity or e.entity_name == entity)
    ]
    entities = sorted({e.entity_name for e in everything if e.project_id == record.id})
    if before:
        events = [e for e in events if e.seq < before]
    page, older = events[:PAGE_SIZE], events[PAGE_SIZE:]
    return render(
        request,
        "audit.html",
        {
            "title": f"Audit log · {record.name}",
            "project": record,
            "section": "audit",
            "events": [
                (e, changes(e.before, e.after), context_fields(e.before, e.after)) for e in page
            ],
            "n_events": len(ours),
            "n_chain": len(everything),
            "problems": shown_problems,
            "n_hidden_problems": len(problems) - len(shown_problems),
            "entity": entity,
            "entities": entities,
            "older": url_path(
                "p", record.name, "audit", query={"entity": entity, "before": page[-1].seq}
            )
            if older
            else None,
            "newest": url_path("p", record.name, "audit", query={"entity": entity})
            if before
            else None,
            "breadcrumbs": [
                ("Projects", "/projects"),
                (record.name, url_path("p", record.name)),
                ("Audit log", None),
            ],
        },
        principal=principal,
    )
