"""Open the metadata store a URL names."""

from __future__ import annotations

from loopml.metadata.base import BaseMetadataStore

__all__ = ["open_metadata_store"]


def open_metadata_store(url: str) -> BaseMetadataStore:
    """Open (and, where safe, create or upgrade) the metadata store at ``url``.

    Args:
        url: ``sqlite:///path/to/loopml.db`` (the folder is created if missing) or
            ``postgresql://user:password@host:port/database``.

    Returns:
        The store; close it when done (it is a context manager).

    Raises:
        StoreUnavailableError: the store cannot be reached.
        SchemaVersionError: the store's schema needs ``loopml db upgrade`` or a newer loopml.
        StoreError: the URL is not a supported store URL.
    """
    from loopml.metadata.sql.store import SqlMetadataStore

    return SqlMetadataStore(url)
