"""The audit log of the SQL store: events appended inside the changing transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.core.audit import GENESIS_HASH, AuditEvent, event_digest
from loopml.core.clock import now_ms
from loopml.metadata.sql.engine import Database
from loopml.metadata.sql.model_schema import AuditEventRow
from loopml.metadata.sql.schema import table_of

__all__ = ["append_event", "list_audit_events"]

events = table_of(AuditEventRow)
# pg_advisory_xact_lock key for appending: "audit" in ASCII. SQLite writers are serial.
_LOCK_KEY = 0x6175646974


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The value as JSON will store it, so the digest covers exactly what is stored."""
    if value is None:
        return None
    plain: dict[str, Any] = json.loads(json.dumps(dict(value), default=str))
    return plain


def append_event(
    connection: Connection,
    *,
    project_id: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    entity_name: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append one event, chained to the last one, in the caller's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = connection.execute(
        sa.select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    fields: dict[str, Any] = {
        "seq": seq,
        "project_id": project_id,
        "time_ms": now_ms(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "entity_name": entity_name,
        "before": _plain(before),
        "after": _plain(after),
    }
    digest = event_digest(prev_hash, **fields)
    connection.execute(events.insert(), {**fields, "prev_hash": prev_hash, "hash": digest})


def list_audit_events(
    db: Database,
    *,
    project_id: str | None,
    entity_name: str | None,
    after_seq: int,
    limit: int,
) -> list[AuditEvent]:
    query = sa.select(events).where(events.c.seq > after_seq)
    if project_id is not None:
        query = query.where(events.c.project_id == project_id)
    if entity_name is not None:
        query = query.where(events.c.entity_name == entity_name)
    query = query.order_by(events.c.seq).limit(max(1, min(limit, 100_000)))
    rows = db.read(lambda c: c.execute(query).all())
    return [
        AuditEvent(
            seq=row.seq,
            project_id=row.project_id,
            time_ms=row.time_ms,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            entity_name=row.entity_name,
            before=row.before,
            after=row.after,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
        for row in rows
    ]
