"""``/healthz`` (the process answers) and ``/readyz`` (its stores answer); no token needed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from loopml.core.errors import StoreError
from loopml.server.deps import ContextDep
from loopml.server.errors import error_response

__all__ = ["router"]

router = APIRouter(tags=["health"])

_OK = b'{"status":"ok"}'


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return Response(_OK, media_type="application/json")


@router.get("/readyz", summary="The metadata and artifact stores answer")
async def readyz(context: ContextDep) -> Response:
    try:
        await run_in_threadpool(context.ping)
    except StoreError as error:
        return error_response(503, "store_unavailable", error.message)
    return Response(b'{"status":"ready"}', media_type="application/json")
