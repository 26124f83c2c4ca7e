"""How CLI commands reach the SDK client: opened once per command, from the settings."""

from __future__ import annotations

import functools

from loopml.client.client import Client

__all__ = ["client"]


@functools.cache
def client() -> Client:
    """The client for this command's working directory and environment."""
    return Client()
