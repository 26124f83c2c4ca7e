"""Alembic migrations of the SQL metadata store, run by :mod:`loopml.metadata.sql.migrate`."""
