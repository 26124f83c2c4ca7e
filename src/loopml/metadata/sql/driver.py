"""Statements compiled once and run on the driver's own cursor (the hottest paths only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["DriverStatement"]


class DriverStatement:
    """A statement compiled once for a dialect and run on the driver's own cursor.

    For the few statements of the hottest write (a one-point ``log_batch``): the full
    SQLAlchemy execution path costs more than SQLite's work for them, and on a busy
    server (cold CPU caches) about three times more than in a loop. It runs inside a
    transaction that :class:`Database` opened as usual; driver errors are raised as
    SQLAlchemy's, so retries and error mapping apply unchanged. Parameters go to the
    driver as they are: use it for values the driver takes natively (str, int, float,
    bytes, None).

    Args:
        statement: A Core statement with named bind parameters.
        dialect: The dialect of the connections it will run on.
        columns: For a plain ``insert()``, the columns its rows give (the others keep
            their defaults).
    """

    def __init__(
        self, statement: Any, dialect: sa.Dialect, columns: Sequence[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        self.sql = str(compiled)
        self._names = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._error = dialect.loaded_dbapi.Error

    def _arguments(self, values: dict[str, Any]) -> Any:
        return values if self._names is None else tuple(values[name] for name in self._names)

    def execute(self, connection: Connection, values: dict[str, Any]) -> Any:
        """Run with one set of values; the driver's cursor (to fetch RETURNING rows)."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        arguments = self._arguments(values)
        try:
            cursor.execute(self.sql, arguments)
        except self._error as exc:
            raise sa.exc.DBAPIError.instance(self.sql, arguments, exc, self._error) from exc
        return cursor

    def execute_many(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Run once per set of values."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        arguments = [self._arguments(values) for values in rows]
        try:
            cursor.executemany(self.sql, arguments)
        except self._error as exc:
            raise sa.exc.DBAPIError.instance(self.sql, arguments, exc, self._error) from exc
        finally:
            cursor.close()
