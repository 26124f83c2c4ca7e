"""Statements run on the driver's cursor fail like any other: as loopml store errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from loopml.core.errors import AlreadyExistsError, StoreError
from loopml.metadata.sql import SqlMetadataStore
from loopml.metadata.sql.driver import DriverStatement
from loopml.metadata.sql.schema import ProjectRow, table_of

projects = table_of(ProjectRow)
ROW = {"id": "a" * 32, "name": "p", "description": "", "created_at": 0}


def test_rows_are_written_in_the_callers_transaction(store: SqlMetadataStore) -> None:
    insert = DriverStatement(projects.insert(), store._db.engine.dialect, list(ROW))
    store._db.write(lambda c: insert.execute_many(c, [ROW, {**ROW, "id": "b" * 32, "name": "q"}]))
    assert sorted(p.name for p in store.list_projects()) == ["p", "q"]


def test_a_broken_constraint_is_the_callers_error(store: SqlMetadataStore) -> None:
    insert = DriverStatement(projects.insert(), store._db.engine.dialect, list(ROW))
    store._db.write(lambda c: insert.execute(c, ROW).close())
    with pytest.raises(AlreadyExistsError):
        store._db.write(
            lambda c: insert.execute(c, ROW), on_integrity=lambda: AlreadyExistsError("taken")
        )


def test_a_failing_statement_is_a_store_error_without_a_driver_traceback(
    store: SqlMetadataStore,
) -> None:
    broken = DriverStatement(sa.text("SELECT * FROM no_such_table"), store._db.engine.dialect)
    with pytest.raises(StoreError) as caught:
        store._db.read(lambda c: broken.execute(c, {}))
    assert caught.value.__cause__ is None
