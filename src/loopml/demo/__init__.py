"""``loopml demo``: the whole loop on data the demo generates, one chapter per capability."""

from __future__ import annotations

from loopml.demo.runner import run_demo

__all__ = ["run_demo"]
