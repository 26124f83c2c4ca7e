"""The audit log's records and the hash that chains them.

Every registry change appends an :class:`AuditEvent` (who, when, what, the state before
and after). Each event stores the digest of the one before it and its own digest over
both, so editing or deleting any stored event breaks every digest after it:
:func:`event_digest` is the one definition the store (when appending) and the verifier
(``loopml audit verify``) share.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["GENESIS_HASH", "AuditEvent", "event_digest"]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One appended change.

    Attributes:
        seq: Position in the log, from 1, without gaps.
        time_ms: Milliseconds since the epoch (what the digest covers).
        action: ``model.create``, ``version.create``, ``alias.set``, ``approval.approve`` ...
        before: The changed record's fields before the change (None for a creation).
        after: The fields after the change (None for a deletion).
    """

    seq: int
    project_id: str
    time_ms: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    entity_name: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    prev_hash: str
    hash: str

    @property
    def time(self) -> datetime:
        from loopml.core.clock import from_ms

        return from_ms(self.time_ms)

    def expected_hash(self) -> str:
        """The digest this event should carry given its fields and ``prev_hash``."""
        return event_digest(
            self.prev_hash,
            seq=self.seq,
            project_id=self.project_id,
            time_ms=self.time_ms,
            actor=self.actor,
            action=self.action,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            entity_name=self.entity_name,
            before=self.before,
            after=self.after,
        )


def event_digest(prev_hash: str, **fields: Any) -> str:
    """SHA-256 hex over ``prev_hash`` and the canonical JSON of the event's fields.

    >>> a = event_digest(GENESIS_HASH, seq=1, action="model.create", before=None)
    >>> a == event_digest(GENESIS_HASH, action="model.create", before=None, seq=1)
    True
    >>> a == event_digest(GENESIS_HASH, seq=1, action="model.delete", before=None)
    False
    """
    canonical = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
