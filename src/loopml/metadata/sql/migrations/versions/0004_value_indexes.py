"""PostgreSQL: index the values of params and tags; statistics on keys with their values.

Migration 0002 stopped the PostgreSQL indexes of params and tags at the key, because a
btree cannot hold their longest values. An equality filter such as ``tags.commit = 'abc'``
then read every row of the key. Here those two indexes become ``(key, left(value, 200),
run_id)``: the search compiler writes such a filter as a condition on the same
expression (exact for values shorter than the prefix; longer ones also compare the whole
value), so the database finds the runs with one narrow index range.

Statistics objects over ``(key, left(value, 200))`` (PostgreSQL 14 and later) let the
planner see that ``params.model = 'rf'`` matches a quarter of the runs, not a quarter of
the rows of every key; without them it misjudges how selective a filter is and picks
hash joins over whole tables where walking an ordered index would stop after one page.

SQLite is unchanged: its indexes have held the whole value since 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Characters of a value the index holds; loopml.metadata.sql.search.INDEXED_PREFIX.
PREFIX = 200
_TABLES = ("params", "tags")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in _TABLES:
        name = f"ix_{table}_key_value_run_id"
        op.drop_index(name, table)
        op.execute(f"CREATE INDEX {name} ON {table} (key, left(value, {PREFIX}), run_id)")
        if (bind.dialect.server_version_info or (0,)) >= (14,):
            op.execute(
                f"CREATE STATISTICS st_{table}_key_value (mcv) "
                f"ON key, left(value, {PREFIX}) FROM {table}"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        name = f"ix_{table}_key_value_run_id"
        op.execute(f"DROP STATISTICS IF EXISTS st_{table}_key_value")
        op.drop_index(name, table)
        op.create_index(name, table, ["key", "run_id"])
