"""Routers of the REST API, one module per resource; health checks outside ``/api/v1``."""
