"""Start a loopml or MLflow server on 127.0.0.1, watch it come up, measure it, stop it.

Used by the orchestrator only. Each server runs in its own session (process group) so
that stopping it reaches every process it spawned (uvicorn workers, MLflow's job runner):
SIGTERM to the group, then SIGKILL to whatever of the tree is still alive. The
orchestrator stops every server it started, also when a step fails.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tracking_bench.runner import MLFLOW_VENV, REPO_DIR, clean_environment

LOOPML_CLI = REPO_DIR / ".venv" / "bin" / "loopml"
MLFLOW_CLI = MLFLOW_VENV / "bin" / "mlflow"
POLL_INTERVAL_S = 0.02
TOKEN_PATTERN = re.compile(r"\blml_[0-9a-f]{32}_[A-Za-z0-9_-]+")


class ServerError(RuntimeError):
    """A server did not come up, or died; the message carries the end of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of ``GET path`` on a new connection, or None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def process_tree(root: int) -> list[int]:
    """``root`` and every live descendant, from the ``ppid`` fields of ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if Path(f"/proc/{pid}").exists():
            tree.append(pid)
            todo.extend(children.get(pid, []))
    return tree


def _cpu_seconds(stat: str) -> float:
    """User + system CPU seconds of one ``/proc/<pid>/stat`` line (fields 14 and 15)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by the live processes of ``root``'s tree."""
    total = 0.0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += _cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    return total


def command_cpu(command: str) -> float:
    """CPU seconds used so far by the live processes named ``command`` (e.g. postgres)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if stat.split("(", 1)[1].rsplit(")", 1)[0] == command:
                total += _cpu_seconds(stat)
    return total


def _kb_field(path: Path, field: str) -> int:
    """A ``Field:   123 kB`` value of a ``/proc`` file, in kB (0 when missing)."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int) -> dict[str, Any]:
    """Resident memory of ``root``'s process tree: RSS (the bar) and PSS, in MB.

    RSS counts pages shared between processes (forked workers, shared libraries) once per
    process; PSS splits each shared page between the processes sharing it, so its sum is
    the memory the tree really holds. Both are reported; the bar is judged on RSS.
    """
    processes = []
    for pid in process_tree(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        processes.append(
            {
                "pid": pid,
                "rss_mb": _kb_field(Path(f"/proc/{pid}/status"), "VmRSS") / 1024,
                "pss_mb": _kb_field(Path(f"/proc/{pid}/smaps_rollup"), "Pss") / 1024,
                "command": command.strip()[:160],
            }
        )
    return {
        "processes": len(processes),
        "rss_mb": sum(p["rss_mb"] for p in processes),
        "pss_mb": sum(p["pss_mb"] for p in processes),
        "tree": processes,
    }


class Server:
    """One server process (and its children), started in ``cwd`` with ``env``.

    Args:
        name: ``loopml`` or ``MLflow``, for messages.
        argv: The command line, without ``--host``/``--port`` (added here).
        cwd: Working directory (a fresh temporary folder).
        env: Extra environment on top of the benchmark's clean one.
        log_path: Where stdout and stderr go (the admin token is read from here).
        health_path: The liveness route polled at start.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        health_path: str,
        loopml_src: Path | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [*argv, "--host", "127.0.0.1", "--port", str(self.port)]
        self.cwd = cwd
        self.env = {**clean_environment(loopml_src), **env}
        self.log_path = log_path
        self.health_path = health_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.started_at = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def _check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise ServerError(
                f"{self.name} server exited with code {self.proc.returncode}; "
                f"log {self.log_path}:\n{self.log_tail()}"
            )

    def wait_for(self, path: str, timeout: float = 300.0, ok: int = 200) -> float:
        """Poll ``GET path`` every 20 ms until it answers ``ok``; seconds since start."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if _get_status(self.port, path) == ok:
                return time.perf_counter() - self.started_at
            self._check_alive()
            time.sleep(POLL_INTERVAL_S)
        raise ServerError(
            f"{self.name} server: {path} did not answer {ok} within {timeout:.0f} s; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def admin_token(self, timeout: float = 60.0) -> str:
        """The one-time admin token a loopml server prints on its first start."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            match = TOKEN_PATTERN.search(self.log_path.read_text(errors="replace"))
            if match:
                return match.group(0)
            self._check_alive()
            time.sleep(0.05)
        raise ServerError(f"{self.name} server printed no admin token; log {self.log_path}")

    def memory(self) -> dict[str, Any]:
        assert self.proc is not None
        return tree_memory(self.proc.pid)

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's process group, then SIGKILL to what is left of its tree."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        tree = process_tree(pgid)  # empty when the server is gone (its group may not be)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.perf_counter() + timeout
        while _group_alive(pgid) and time.perf_counter() < deadline:
            self.proc.poll()  # reap the server itself, so its group can empty
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for pid in tree:  # descendants that left the group
            with contextlib.suppress(ProcessLookupError):
                if Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Servers(contextlib.AbstractContextManager["Servers"]):
    """Starts servers and stops every one of them on exit, whatever happened."""

    def __init__(self, work: Path, loopml_src: Path | None = None) -> None:
        self.work = work
        self.loopml_src = loopml_src
        self.live: list[Server] = []
        self._count = 0

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        while self.live:
            self.live.pop().stop()

    def _start(self, server: Server) -> Server:
        self.live.append(server)
        server.start()
        return server

    def _log(self, name: str) -> Path:
        self._count += 1
        return self.work / "logs" / f"server-{self._count:02d}-{name}.log"

    def loopml(
        self,
        cwd: Path,
        *,
        workers: int | None = None,
        store_url: str | None = None,
        artifacts_url: str | None = None,
    ) -> Server:
        """``loopml server`` in ``cwd``; with no URLs, on the default ``cwd/.loopml`` store."""
        argv = [str(LOOPML_CLI), "server"]
        if workers is not None:
            argv += ["--workers", str(workers)]
        env = {}
        if store_url:
            env["LOOPML_STORE_URL"] = store_url
        if artifacts_url:
            env["LOOPML_ARTIFACTS_URL"] = artifacts_url
        if not store_url:
            (cwd / ".loopml").mkdir(parents=True, exist_ok=True)  # the store is here, not above
        name = f"loopml-w{workers or 'default'}"
        return self._start(
            Server("loopml", argv, cwd, env, self._log(name), "/healthz", self.loopml_src)
        )

    def mlflow(
        self, cwd: Path, *, workers: int | None = None, store_uri: str | None = None
    ) -> Server:
        """``mlflow server`` in ``cwd``; with no URI, on its default store there."""
        argv = [str(MLFLOW_CLI), "server"]
        if store_uri:
            argv += ["--backend-store-uri", store_uri]
        if workers is not None:
            argv += ["--workers", str(workers)]
        name = f"mlflow-w{workers or 'default'}"
        return self._start(Server("MLflow", argv, cwd, {}, self._log(name), "/health"))

    def stop(self, server: Server) -> None:
        server.stop()
        with contextlib.suppress(ValueError):
            self.live.remove(server)
