"""A fresh PostgreSQL database for the search workload, dropped again at the end.

Used by the orchestrator only. It reuses the PostgreSQL server of ``scripts/services.sh``
(127.0.0.1:55432, user ``loopml``) when one answers; otherwise it starts a throwaway
cluster of its own in the benchmark's temporary folder, with the same settings as
``services.sh`` (``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package), and stops
it at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from server_bench.servers import free_port

DEFAULT_SERVER = "postgresql://loopml@127.0.0.1:55432/postgres"
DATABASE = "loopml_bench"
# The settings of scripts/services.sh: a benchmark and test server, not a durable one.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
)


INITDB_OPTIONS = ("-U", "loopml", "--auth=trust", "-E", "UTF8")
START = ("-w", "-t", "60", "start")
STOP = ("-m", "fast", "stop")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL answers and none is installed to start."""


def _with_database(url: str, database: str, driver: str = "postgresql") -> str:
    parts = urlsplit(url)
    return urlunsplit((driver, parts.netloc, f"/{database}", parts.query, ""))


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


class BenchDatabase(contextlib.AbstractContextManager["BenchDatabase"]):
    """Create ``loopml_bench`` on a server (reused or started here) and drop it on exit."""

    def __init__(self, work: Path, server_url: str = DEFAULT_SERVER, keep: bool = False) -> None:
        self.work = work
        self.server_url = server_url
        self.keep = keep
        self.cluster: Path | None = None
        self.bin: Path | None = None
        self.description = ""

    def __enter__(self) -> BenchDatabase:
        if _answers(self.server_url):
            self.description = f"reused {urlsplit(self.server_url).netloc}"
        else:
            self._start_cluster()
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
            )
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            version = admin.execute("SHOW server_version").fetchone()
        self.version = version[0] if version else "?"
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.keep:
                with psycopg.connect(self.server_url, autocommit=True) as admin:
                    admin.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(DATABASE)
                        )
                    )
        finally:
            self._stop_cluster()

    @property
    def dsn(self) -> str:
        """For psycopg."""
        return _with_database(self.server_url, DATABASE)

    @property
    def store_url(self) -> str:
        """For loopml (SQLAlchemy with psycopg 3)."""
        return _with_database(self.server_url, DATABASE, "postgresql+psycopg")

    def _run_as(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _start_cluster(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise PostgresUnavailable(
                f"no PostgreSQL answers at {self.server_url} and none is installed: "
                "run `scripts/services.sh start` (or `make services-start`) first"
            )
        self.bin = found[-1].parent
        # Its own folder under /tmp: the benchmark's folder is private (0700), and as root
        # the cluster runs as the postgres user, who must own and reach it.
        self.cluster = Path(tempfile.mkdtemp(prefix="loopml-bench-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.cluster, "postgres")
        run_as = self._run_as()
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {self.cluster} {SERVER_OPTIONS}"
        self.log = self.cluster / "server.log"  # the cluster's owner must be able to write it
        data = self.cluster / "data"
        pg_ctl = [*run_as, str(self.bin / "pg_ctl"), "-D", str(data)]
        try:
            for command in (
                [*run_as, str(self.bin / "initdb"), "-D", str(data), *INITDB_OPTIONS],
                [*pg_ctl, "-o", options, "-l", str(self.log), *START],
            ):
                subprocess.run(command, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            self._stop_cluster()
            raise PostgresUnavailable(
                f"no PostgreSQL answers at {self.server_url}, and starting one failed: "
                f"{' '.join(exc.cmd[:6])}: {(exc.stderr or exc.stdout or '').strip()[-500:]}"
            ) from None
        self.server_url = f"postgresql://loopml@127.0.0.1:{port}/postgres"
        self.description = f"dedicated cluster on 127.0.0.1:{port}"

    def _stop_cluster(self) -> None:
        if self.cluster is None or self.bin is None:
            return
        data = self.cluster / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*self._run_as(), str(self.bin / "pg_ctl"), "-D", str(data), *STOP],
                check=False,
                capture_output=True,
            )
        if not self.keep:
            shutil.rmtree(self.cluster, ignore_errors=True)
        self.cluster = None
