"""The project file store over HTTP: streamed upload and download, digests, ranges."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from loopml.artifacts.hashing import hash_bytes

if TYPE_CHECKING:
    from conftest import Server

URL = "/api/v1/projects/churn/files"
BINARY = {"Content-Type": "application/octet-stream"}


def _put(client: TestClient, path: str, data: bytes, **headers: str) -> object:
    return client.put(f"{URL}/{path}", content=data, headers={**BINARY, **headers})


def test_upload_then_download_with_length_and_digest(client: TestClient, server: Server) -> None:
    server.project("churn")
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = hash_bytes(data)
    created = client.put(
        f"{URL}/model/w.bin", content=data, headers={**BINARY, "X-Loopml-Digest": digest}
    )
    assert created.status_code == 201
    assert created.json() == {"path": "model/w.bin", "size": len(data), "digest": digest}
    got = client.get(f"{URL}/model/w.bin")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["X-Loopml-Digest"] == digest
    assert got.headers["Accept-Ranges"] == "bytes"
    assert got.headers["Content-Disposition"].startswith("attachment")
    head = client.head(f"{URL}/model/w.bin")
    assert (head.status_code, head.headers["Content-Length"], head.content) == (
        200,
        str(len(data)),
        b"",
    )
    assert client.get(URL, params={"prefix": "model"}).json()["files"] == [created.json()]


def test_streamed_chunked_upload(client: TestClient, server: Server) -> None:
    server.project("churn")
    chunks = [os.urandom(100_000) for _ in range(5)]
    response = client.put(f"{URL}/big.bin", content=iter(chunks), headers=BINARY)
    assert response.status_code == 201
    assert client.get(f"{URL}/big.bin").content == b"".join(chunks)


def test_digest_mismatch_stores_nothing(client: TestClient, server: Server) -> None:
    server.project("churn")
    response = client.put(
        f"{URL}/w.bin", content=b"abc", headers={**BINARY, "X-Loopml-Digest": hash_bytes(b"abd")}
    )
    assert (response.status_code, response.json()["error"]) == (409, "integrity_error")
    assert client.get(f"{URL}/w.bin").status_code == 404
    assert client.get(URL).json() == {"files": []}
    malformed = client.put(
        f"{URL}/w.bin", content=b"abc", headers={**BINARY, "X-Loopml-Digest": "md5:x"}
    )
    assert malformed.status_code == 422


def test_range_requests(client: TestClient, server: Server) -> None:
    server.project("churn")
    data = bytes(range(256)) * 40
    client.put(f"{URL}/r.bin", content=data, headers=BINARY)
    part = client.get(f"{URL}/r.bin", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["Content-Length"] == "100"
    tail = client.get(f"{URL}/r.bin", headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.content == data[-10:]
    suffix = client.get(f"{URL}/r.bin", headers={"Range": "bytes=-5"})
    assert suffix.content == data[-5:]
    beyond = client.get(f"{URL}/r.bin", headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    several = client.get(f"{URL}/r.bin", headers={"Range": "bytes=0-1,4-5"})
    assert (several.status_code, several.content) == (200, data)


def test_delete_and_clashes(client: TestClient, server: Server) -> None:
    server.project("churn")
    client.put(f"{URL}/a/b.txt", content=b"1", headers=BINARY)
    assert client.put(f"{URL}/a", content=b"2", headers=BINARY).status_code == 409
    assert client.put(f"{URL}/a/b.txt/c", content=b"2", headers=BINARY).status_code == 409
    assert client.delete(f"{URL}/a").status_code == 204
    assert client.get(f"{URL}/a/b.txt").status_code == 404
    assert client.get(f"{URL}/missing.txt").status_code == 404
