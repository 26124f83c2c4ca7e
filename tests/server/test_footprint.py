"""Footprint: big files stream through the server, and its import path stays light."""

from __future__ import annotations

import http.client
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Server

MIB = 1024 * 1024


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_big_files_stream_both_ways_without_holding_them_in_memory(
    server: Server, live: tuple[str, int]
) -> None:
    """256 MiB up and down through a real uvicorn: the peak memory grows far less."""
    server.project("churn")
    size = 256 * MIB
    chunk = bytes(range(256)) * 4096  # 1 MiB
    peak_before = _peak_rss_bytes()

    def body() -> Iterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk

    headers = {
        "Authorization": f"Bearer {server.admin_token}",
        "Content-Type": "application/octet-stream",
        "Host": "127.0.0.1",
    }
    connection = http.client.HTTPConnection(*live, timeout=120)
    connection.request("PUT", "/api/v1/projects/churn/files/big.bin", body=body(), headers=headers)
    response = connection.getresponse()
    assert response.status == 201, response.read()
    response.read()
    connection.request("GET", "/api/v1/projects/churn/files/big.bin", headers=headers)
    response = connection.getresponse()
    assert response.getheader("Content-Length") == str(size)
    received = 0
    while block := response.read(MIB):
        received += len(block)
    connection.close()
    assert received == size
    assert _peak_rss_bytes() - peak_before < size // 4


def test_server_import_path_loads_no_pandas_sklearn_or_scipy(tmp_path: Path) -> None:
    script = f"""
import sys
from loopml.server.app import create_app
from loopml.server.config import ServerConfig
import loopml.cli.app, loopml.server.serve
app = create_app(ServerConfig(store_url="sqlite:///{tmp_path}/l.db", artifacts_url="{tmp_path}/a"))
print(sorted({{m.split(".")[0] for m in sys.modules}} & {{"pandas", "sklearn", "scipy"}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
