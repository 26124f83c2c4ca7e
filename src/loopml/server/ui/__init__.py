"""The web UI: server-rendered pages (Jinja2 + HTMX) over the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
