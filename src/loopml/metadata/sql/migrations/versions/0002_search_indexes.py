"""Search indexes: one per field kind, led by the key, and runs by experiment and time.

A filter or an ordering on one key then reads a narrow index range. SQLite also indexes
the text value of params and tags; PostgreSQL's btree cannot hold their longest values
(up to 8,000 characters), so there the index stops at the key.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text_value = ["value"] if op.get_bind().dialect.name == "sqlite" else []
    op.create_index(
        "ix_runs_experiment_id_deleted_start_time",
        "runs",
        ["experiment_id", "deleted", "start_time"],
    )
    op.create_index(
        "ix_latest_metrics_key_value_run_id", "latest_metrics", ["key", "value", "run_id"]
    )
    op.create_index("ix_params_key_value_run_id", "params", ["key", *text_value, "run_id"])
    op.create_index("ix_params_key_value_num_run_id", "params", ["key", "value_num", "run_id"])
    op.create_index("ix_tags_key_value_run_id", "tags", ["key", *text_value, "run_id"])


def downgrade() -> None:
    op.drop_index("ix_tags_key_value_run_id", "tags")
    op.drop_index("ix_params_key_value_num_run_id", "params")
    op.drop_index("ix_params_key_value_run_id", "params")
    op.drop_index("ix_latest_metrics_key_value_run_id", "latest_metrics")
    op.drop_index("ix_runs_experiment_id_deleted_start_time", "runs")
