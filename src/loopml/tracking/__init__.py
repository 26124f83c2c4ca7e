"""Experiment tracking: experiments, runs, params, metrics, tags, artifacts and search."""

from __future__ import annotations

from loopml.tracking.active_run import ActiveRun
from loopml.tracking.service import TrackingService

__all__ = ["ActiveRun", "TrackingService"]
