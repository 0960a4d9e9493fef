"""analytics: reporting indexes

Revision ID: 0003
Revises: 0002

Reports aggregate in two steps (see `ledgerbank.analytics.cube`): first by day (or by account),
currency, type and status, then by what was asked. On SQLite, which groups by sorting unless an
index already yields the rows in group order, these two covering indexes let that first step
read an index in order and aggregate as it goes: a million transactions are summed without
sorting them and without touching the table. The expressions are spelled exactly as the cube
writes them, or SQLite would not match them. PostgreSQL and MySQL/MariaDB aggregate with hash
tables and read the table as fast as an index, so they get none (each index costs every
posting a little).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_INDEXES = {
    "ix_transactions_day_report": (
        "substr(created_at, 1, 10), currency, type, status, amount, created_at"
    ),
    "ix_transactions_account_report": (
        "coalesce(from_account_id, to_account_id), currency, type, status, "
        "substr(created_at, 1, 10), amount, created_at, from_account_id, to_account_id"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, columns in SQLITE_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON transactions ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
