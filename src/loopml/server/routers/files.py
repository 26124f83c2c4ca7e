"""``/projects/{project}/files``: the project's file store, streamed both ways.

Uploads are copied from the request body into the artifact store chunk by chunk (no
temporary copy of the whole file in memory), hashed on the way and refused with nothing
stored when ``X-Loopml-Digest`` does not match. Downloads stream with ``Content-Length``,
the recorded digest, and single ``Range`` requests for resuming. Every path is checked
against the allow-list before the store is touched, and the store proves it inside the
project's root.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, BinaryIO, cast

import anyio.from_thread
from fastapi import APIRouter, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from loopml.artifacts.base import BaseArtifactStore
from loopml.artifacts.hashing import check_digest
from loopml.artifacts.paths import check_prefix, check_relpath
from loopml.core.auth import Role
from loopml.core.errors import ConflictError
from loopml.server.context import ServerContext
from loopml.server.deps import ContextDep, require_project
from loopml.server.errors import error_response
from loopml.server.schemas.artifacts import ArtifactRead, FileList

__all__ = ["parse_range", "router"]

router = APIRouter(tags=["files"])

DIGEST_HEADER = "X-Loopml-Digest"
CHUNK_SIZE = 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    },
    206: {"description": "The requested byte range"},
    416: {"description": "The range starts beyond the end of the file"},
}


@router.get("/projects/{project}/files", response_model=FileList, summary="Stored files")
def list_files(
    project: str,
    request: Request,
    context: ContextDep,
    prefix: str = Query(""),
) -> FileList:
    found = require_project(request, project, Role.VIEWER)
    store = context.artifacts_for(found)
    return FileList(
        files=[ArtifactRead.model_validate(i) for i in store.list(check_prefix(prefix))]
    )


@router.put(
    "/projects/{project}/files/{path:path}",
    response_model=ArtifactRead,
    status_code=201,
    summary="Store a file (streamed; X-Loopml-Digest verified when sent)",
    openapi_extra=_BINARY_BODY,
)
async def put_file(
    project: str,
    path: str,
    request: Request,
    context: ContextDep,
    digest: str | None = Header(None, alias=DIGEST_HEADER),
) -> ArtifactRead:
    found = await run_in_threadpool(require_project, request, project, Role.EDITOR)
    check_relpath(path)
    expected = check_digest(digest, field=DIGEST_HEADER) if digest is not None else None
    store = await run_in_threadpool(context.artifacts_for, found)
    await run_in_threadpool(_check_no_clash, store, path)
    reader = _RequestBodyReader(request.stream())
    info = await run_in_threadpool(
        lambda: store.put_stream(cast(BinaryIO, reader), path, expected_digest=expected)
    )
    return ArtifactRead.model_validate(info)


@router.get(
    "/projects/{project}/files/{path:path}",
    response_class=StreamingResponse,
    responses=_FILE_RESPONSES,
    summary="Read a file (streamed; Range supported)",
)
def get_file(
    project: str,
    path: str,
    request: Request,
    context: ContextDep,
    range_header: str | None = Header(None, alias="Range"),
) -> Response:
    store = _store(request, context, project, path)
    info = store.info(path)
    handle = store.open_read(path)
    try:
        size = handle.seek(0, io.SEEK_END)
        span = parse_range(range_header, size) if range_header else None
        headers = _file_headers(path, info.digest)
        if span == "unsatisfiable":
            handle.close()
            return error_response(
                416,
                "range_not_satisfiable",
                f"range {range_header!r} starts beyond the end of the {size}-byte file",
                "Range",
                {"Content-Range": f"bytes */{size}"},
            )
        start, end = span if isinstance(span, tuple) else (0, size - 1)
        headers["Content-Length"] = str(max(0, end - start + 1))
        status = 200
        if isinstance(span, tuple):
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        handle.seek(start)
    except BaseException:
        handle.close()
        raise
    return StreamingResponse(
        _chunks(handle, end - start + 1),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )


@router.head("/projects/{project}/files/{path:path}", summary="Size and digest of a file, no body")
def head_file(project: str, path: str, request: Request, context: ContextDep) -> Response:
    store = _store(request, context, project, path)
    info = store.info(path)
    headers = _file_headers(path, info.digest)
    headers["Content-Length"] = str(info.size)
    return Response(status_code=200, headers=headers, media_type="application/octet-stream")


@router.delete(
    "/projects/{project}/files/{path:path}",
    status_code=204,
    response_class=Response,
    summary="Remove a file, or every file under a folder",
)
def delete_file(project: str, path: str, request: Request, context: ContextDep) -> Response:
    found = require_project(request, project, Role.ADMIN)
    context.artifacts_for(found).delete(check_relpath(path))
    return Response(status_code=204)


def _store(request: Request, context: ServerContext, project: str, path: str) -> BaseArtifactStore:
    found = require_project(request, project, Role.VIEWER)
    check_relpath(path)
    return context.artifacts_for(found)


def _file_headers(path: str, digest: str) -> dict[str, str]:
    name = path.rsplit("/", 1)[-1]  # allow-listed characters only: safe inside quotes
    return {
        "Accept-Ranges": "bytes",
        DIGEST_HEADER: digest,
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-cache",
    }


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """The byte span ``(start, end)`` (inclusive) a single-range header asks for.

    Returns None for a header to ignore (malformed or several ranges: the whole file is
    sent) and ``"unsatisfiable"`` for a range that starts beyond the end.

    >>> parse_range("bytes=0-99", 1000), parse_range("bytes=900-", 1000)
    ((0, 99), (900, 999))
    >>> parse_range("bytes=-10", 1000), parse_range("bytes=2000-", 1000)
    ((990, 999), 'unsatisfiable')
    >>> parse_range("bytes=0-1,5-6", 1000) is None
    True
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end


def _chunks(handle: BinaryIO, remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _check_no_clash(store: BaseArtifactStore, path: str) -> None:
    """A file cannot be stored where a folder is, nor below a file."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        if store.exists(parent):
            raise ConflictError(f"cannot store {path!r}: {parent!r} is a file", field="path")
    if not store.exists(path) and store.list(path):
        raise ConflictError(f"cannot store {path!r}: it is a folder of files", field="path")


class _RequestBodyReader(io.RawIOBase):
    """A blocking, readable file over the request body, for a worker thread.

    Each ``readinto`` pulls the next chunk from the event loop, so the body streams from
    the socket into the store without being held in memory.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next(self) -> bytes:
        return await self._chunks.__anext__()

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            try:
                self._pending = memoryview(anyio.from_thread.run(self._next))
            except StopAsyncIteration:
                self._done = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
