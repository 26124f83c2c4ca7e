"""Records of projects, experiments and runs: one interface, SQL (and later REST) stores.

Open a store from a URL with :func:`open_metadata_store`; services receive a
:class:`BaseMetadataStore` and never see SQLAlchemy.
"""

from __future__ import annotations

from loopml.metadata.base import (
    BaseExperimentStore,
    BaseMetadataStore,
    BaseProjectStore,
    BaseRunStore,
    RunCreate,
    RunUpdate,
)
from loopml.metadata.factory import open_metadata_store

__all__ = [
    "BaseExperimentStore",
    "BaseMetadataStore",
    "BaseProjectStore",
    "BaseRunStore",
    "RunCreate",
    "RunUpdate",
    "open_metadata_store",
]
