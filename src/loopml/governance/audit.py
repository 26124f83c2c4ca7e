"""Verifying the audit log: every event's digest, and the chain that links them.

An edited event no longer matches its own digest; a deleted one leaves a gap in the
sequence and a ``prev_hash`` that names a digest which is not the one before it. Either
way :func:`verify_chain` names the first event at fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loopml.core.audit import GENESIS_HASH, AuditEvent

__all__ = ["ChainProblem", "verify_chain"]


@dataclass(frozen=True)
class ChainProblem:
    """What is wrong at event ``seq``."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.problem}"


def verify_chain(events: Iterable[AuditEvent]) -> list[ChainProblem]:
    """Every problem in a log read in order from its first event (empty: intact).

    >>> verify_chain([])
    []
    """
    problems: list[ChainProblem] = []
    expected_seq, previous = 1, GENESIS_HASH
    for event in events:
        if event.seq != expected_seq:
            problems.append(
                ChainProblem(
                    event.seq,
                    f"expected event {expected_seq} here: events {expected_seq}.."
                    f"{event.seq - 1} are missing (deleted)",
                )
            )
        if event.prev_hash != previous:
            problems.append(ChainProblem(event.seq, "its link to the event before does not match"))
        if event.hash != event.expected_hash():
            problems.append(
                ChainProblem(
                    event.seq,
                    f"its content does not match its digest: the {event.action} event by "
                    f"{event.actor} was edited",
                )
            )
        expected_seq, previous = event.seq + 1, event.hash
    return problems
