"""The team server: REST API under ``/api/v1`` and the web UI at ``/``, one FastAPI app."""
