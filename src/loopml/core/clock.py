"""The one place loopml reads the wall clock, so tests can reason about time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["from_ms", "now", "now_ms", "to_ms"]


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def now_ms() -> int:
    """Current time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def to_ms(value: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    """Aware UTC datetime from milliseconds since the epoch."""
    return datetime.fromtimestamp(value / 1000, tz=UTC)
