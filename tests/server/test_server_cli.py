"""``loopml server`` as users start it: worker processes, the first admin, loopback rules."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopml.cli.app import app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer /healthz")


@pytest.mark.slow
def test_workers_keep_tcp_nodelay_so_keepalive_requests_do_not_stall(tmp_path: Path) -> None:
    """Guards the TCP_NODELAY fix: uvicorn workers get sockets without it (fromfd).

    Without the option, Nagle's algorithm and the client's delayed ACK hold every
    response on a reused connection for ~40 ms. This is a correctness check of that
    stall, not a benchmark: a healthy request takes about a millisecond. The stall hits
    every request, so the median tells the two apart even on a busy machine, where a few
    requests are slow for other reasons.
    """
    port = _free_port()
    stderr = tmp_path / "stderr.log"
    env = {**os.environ, "LOOPML_HOME": str(tmp_path / ".loopml")}
    command = [sys.executable, "-m", "loopml", "server", "--workers", "2", "--port", str(port)]
    with stderr.open("wb") as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        _wait_healthy(port, process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(3):  # warm up the worker that holds this connection
            connection.request("GET", "/healthz")
            connection.getresponse().read()
        durations = []
        for _ in range(20):
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            durations.append(time.perf_counter() - started)
            assert response.status == 200
        connection.close()
        median = sorted(durations)[len(durations) // 2]
        assert median < 0.020, [round(d * 1000, 1) for d in durations]
    finally:
        process.terminate()
        process.wait(30)
    # Stores were prepared once, in the parent: one first-admin banner for all workers.
    assert stderr.read_text().count("Its token is shown ONCE") == 1


def test_no_auth_refuses_a_public_address() -> None:
    result = CliRunner().invoke(app, ["server", "--no-auth", "--host", "0.0.0.0"])  # noqa: S104
    assert result.exit_code == 2
    assert "refusing to serve without authentication" in result.output
