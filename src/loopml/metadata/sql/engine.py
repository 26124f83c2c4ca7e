"""Engines and transactions for the SQL store: SQLite tuning, retries, error mapping.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write transactions
start with ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade, and a
"database is locked" that outlasts the busy timeout is retried (tenacity) rather than
shown to the user. No SQLAlchemy or driver exception leaves this package.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
import tenacity
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from loopml.core.errors import LoopmlError, StoreError, StoreUnavailableError

__all__ = ["Database", "display_url", "normalize_url"]

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# Pooled connections kept open per process. A server runs up to 40 requests at once in
# its thread pool; SQLAlchemy's default of 5 (plus 10 that are closed again on return)
# made a busy server open and close a connection for most transactions (on PostgreSQL a
# new backend process each time). Connections are opened only when needed.
POOL_SIZE = 20
POOL_OVERFLOW = 5
_WRITE_OPTION = "loopml_write"


def normalize_url(url: str) -> URL:
    """Parse a store URL; ``postgresql://`` and ``postgres://`` use psycopg 3.

    Raises:
        StoreError: the URL does not parse or names an unsupported database.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(
            f"metadata store URL {url!r} is not valid: use sqlite:///path/to/loopml.db or "
            "postgresql://user:password@host:port/database",
            field="store_url",
        ) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(
            f"metadata store URL {display_url(parsed)}: {parsed.drivername!r} is not supported; "
            "use sqlite:///... or postgresql://...",
            field="store_url",
        )
    return parsed


def display_url(url: URL | str) -> str:
    """The URL with its password hidden, for messages."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sa.exc.OperationalError):
        return False
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("database is locked", "busy", "deadlock detected", "could not serialize")
    )


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not memory:
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"metadata store {display_url(url)} is unavailable: cannot create folder "
                f"{str(folder)!r} ({exc.strerror}); point LOOPML_STORE_URL at a writable folder",
                field="store_url",
            ) from None
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool
    else:
        kwargs.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_use_lifo=True)
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # SQLAlchemy, not pysqlite, decides when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
                # Checkpoint every ~40 MB rather than ~4 MB: metric batches rewrite the same
                # index pages, and a checkpoint copies only their last version.
                cursor.execute("PRAGMA wal_autocheckpoint = 10000")
            cursor.execute("PRAGMA foreign_keys = ON")
            # LIKE is case-sensitive, as on PostgreSQL; ILIKE compiles to lower() LIKE lower().
            cursor.execute("PRAGMA case_sensitive_like = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        statement = (
            "BEGIN IMMEDIATE" if connection.get_execution_options().get(_WRITE_OPTION) else "BEGIN"
        )
        # Straight to the driver (every transaction starts here; SQLAlchemy's statement
        # machinery cost more than the BEGIN), with its error wrapped as SQLAlchemy would.
        try:
            connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.OperationalError as exc:
            raise sa.exc.OperationalError(statement, None, exc) from exc

    return engine


# Session settings of every PostgreSQL connection. The store answers many small queries
# at once (a server's requests): a parallel plan takes cores from the other requests and,
# for a LIMIT-ed walk down an ordered index, does several times the work; JIT spends tens
# of milliseconds compiling to save microseconds; and a generic plan of a prepared
# statement (psycopg prepares one after five executions) cannot see how selective a
# search's values are. Memoize caches inner lookups by the outer row's key; the store's
# joins probe by run id, each run once, so it only ever misses (about 15% of a filtered
# search's time on 100,000 runs).
_POSTGRES_SESSION = (
    "SET max_parallel_workers_per_gather = 0",
    "SET jit = off",
    "SET plan_cache_mode = force_custom_plan",
    "SET enable_memoize = off",
)
# A pooled connection idle longer than this is pinged before use (a restarted or
# restarting server, a firewall that dropped the connection); one in steady use is not,
# which saves a round trip per transaction.
PING_AFTER_IDLE_S = 10.0


def _postgres_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    engine = sa.create_engine(
        url, connect_args=connect_args, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            for statement in _POSTGRES_SESSION:
                cursor.execute(statement)
        dbapi_connection.commit()  # a rollback would undo the settings
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: object) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            # The pool discards this connection and checks out (or opens) another.
            raise sa.exc.DisconnectionError("the connection was closed while idle")

    return engine


class Database:
    """One engine plus the transaction helpers every store module uses.

    Args:
        url: A store URL (``sqlite:///...`` or ``postgresql://...``).
    """

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self.display_url = display_url(self.url)
        if self.url.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(self.url)
        else:
            self.engine = _postgres_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_busy),
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=2.0),
            stop=tenacity.stop_after_delay(300),
            reraise=True,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def write(
        self,
        work: Callable[[Connection], T],
        *,
        on_integrity: Callable[[], LoopmlError] | None = None,
    ) -> T:
        """Run ``work`` in one write transaction, retried while the database is busy.

        Args:
            work: Called with the connection; its return value is returned.
            on_integrity: Builds the error to raise when the database refuses the write
                for a broken constraint (a concurrent writer won a race).
        """
        return self._run(work, write=True, on_integrity=on_integrity)

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one read transaction.

        On SQLite the transaction is a consistent snapshot. On PostgreSQL a read runs in
        autocommit mode, which under its READ COMMITTED isolation sees exactly what the
        same statements in a transaction would (each statement its own snapshot) without
        the round trips of BEGIN and COMMIT.
        """
        return self._run(work, write=False)

    def _run(
        self,
        work: Callable[[Connection], T],
        *,
        write: bool,
        on_integrity: Callable[[], LoopmlError] | None = None,
    ) -> T:
        with self.translate_errors(on_integrity):
            try:
                return self._once(work, write=write)
            except sa.exc.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            for attempt in self._retrying.copy():  # busy: back off and try again
                with attempt:
                    return self._once(work, write=write)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, work: Callable[[Connection], T], *, write: bool) -> T:
        with self.engine.connect() as connection:
            if write:
                connection.execution_options(**{_WRITE_OPTION: True})
            elif not self.is_sqlite:
                connection.execution_options(isolation_level="AUTOCOMMIT")
            with connection.begin():
                return work(connection)

    @contextmanager
    def connect(self, *, write: bool) -> Iterator[Connection]:
        """A raw connection for migrations; writes begin ``IMMEDIATE`` on SQLite."""
        with self.translate_errors(), self.engine.connect() as connection:
            if write:
                connection.execution_options(**{_WRITE_OPTION: True})
            yield connection

    @contextmanager
    def translate_errors(
        self, on_integrity: Callable[[], LoopmlError] | None = None
    ) -> Iterator[None]:
        """Turn SQLAlchemy and driver errors into loopml store errors."""
        try:
            yield
        except LoopmlError:
            raise
        except sa.exc.IntegrityError as exc:
            if on_integrity is not None:
                raise on_integrity() from None
            # Store modules map the integrity errors they expect; one that gets here is a bug
            # in the caller's data (e.g. a dangling reference).
            raise StoreError(
                f"metadata store {self.display_url}: the write broke a constraint "
                f"({_first_line(exc.orig)})"
            ) from None
        except sa.exc.OperationalError as exc:
            if exc.connection_invalidated or _is_connect_error(exc):
                raise self.unavailable(exc) from None
            raise StoreError(
                f"metadata store {self.display_url}: {_first_line(exc.orig)}"
            ) from None
        except sa.exc.InterfaceError as exc:
            raise self.unavailable(exc) from None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"metadata store {self.display_url}: {_first_line(exc)}") from None

    def unavailable(self, exc: BaseException) -> StoreUnavailableError:
        """The one-line error for a store that cannot be reached."""
        cause = _first_line(getattr(exc, "orig", None) or exc)
        if self.is_sqlite:
            fix = "check that the folder exists and is writable, or set LOOPML_STORE_URL"
        else:
            fix = "check that the server is running and the URL is right (LOOPML_STORE_URL)"
        return StoreUnavailableError(
            f"metadata store {self.display_url} is unavailable ({cause}): {fix}",
            field="store_url",
        )

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()


def _is_connect_error(exc: sa.exc.OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in (
            "unable to open database file",
            "connection refused",
            "could not connect",
            "connection failed",
            "timeout expired",
            "could not translate host name",
            "does not exist",
            "authentication failed",
            "server closed the connection",
            "readonly database",
            "read-only file system",
            "disk i/o error",
        )
    )


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
