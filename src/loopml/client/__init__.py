"""The SDK's client side: the explicit :class:`Client` (and, later, the REST store)."""

from __future__ import annotations

from loopml.client.client import Client

__all__ = ["Client"]
