"""AI quality: the accounts' network in the rolling statistics, sanctions lists

Revision ID: 0013
Revises: 0012

- risk_account_stats: counterparty tags beside the movement rings, distinct payers and payees
  ever, the most payments to one payee within the card-testing window (all kept O(1) by the
  postings; a row written before has no tags and fills them as it moves).
- sanctions_lists / sanctions_entries: the lists the bank imports (`ledgerbank sanctions
  import FILE`), one row per listed name with its aliases, date of birth and country.
- risk_alerts: a sanctions match found when a customer registers or adds a payee has no
  transaction: `transaction_id` may be NULL, `user_id` names the customer concerned.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import create_view, drop_view

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@contextlib.contextmanager
def _quiet_reflection() -> Iterator[None]:
    """SQLite's batch mode reflects the tables around; expression indexes it cannot read are
    copied by Alembic as they are, and SQLAlchemy's warning about them is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def _views_on_alerts() -> dict[str, str]:
    """The views that read risk_alerts, as their latest migrations define them."""
    ledgergpt = importlib.import_module("ledgerbank.migrations.versions.0004_ledgergpt")
    proof = importlib.import_module("ledgerbank.migrations.versions.0010_proof")
    return {
        "vw_alerts": ledgergpt.views()["vw_alerts"],
        "vw_flagged_transactions": proof.views()["vw_flagged_transactions"],
    }


def upgrade() -> None:
    op.add_column("risk_account_stats", sa.Column("recent_out_peers", sa.LargeBinary(256)))
    op.add_column("risk_account_stats", sa.Column("recent_in_peers", sa.LargeBinary(256)))
    for counter in ("senders", "receivers", "peak_repeat"):
        op.add_column(
            "risk_account_stats",
            sa.Column(counter, sa.Integer, nullable=False, server_default="0"),
        )
    op.create_table(
        "sanctions_lists",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("imported_by", BigId, nullable=True),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions_lists")),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name=op.f("fk_sanctions_lists_imported_by_users")
        ),
    )
    op.create_table(
        "sanctions_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("list_id", BigId, nullable=False),
        sa.Column("reference", sa.String(80), nullable=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("aliases", sa.Text, nullable=True),  # JSON list of other names
        sa.Column("date_of_birth", sa.String(10), nullable=True),  # YYYY, YYYY-MM or YYYY-MM-DD
        sa.Column("country", sa.String(80), nullable=True),
        sa.Column("programme", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanctions_entries")),
        sa.ForeignKeyConstraint(
            ["list_id"], ["sanctions_lists.id"], name=op.f("fk_sanctions_entries_list_id")
        ),
    )
    op.create_index(op.f("ix_sanctions_entries_list_id"), "sanctions_entries", ["list_id"])
    views = _views_on_alerts()
    for name in views:
        drop_view(name)
    with _quiet_reflection(), op.batch_alter_table("risk_alerts") as batch:
        batch.alter_column("transaction_id", existing_type=BigId, nullable=True)
        batch.add_column(sa.Column("user_id", BigId, nullable=True))
        batch.create_foreign_key(op.f("fk_risk_alerts_user_id_users"), "users", ["user_id"], ["id"])
    for name, select_sql in views.items():
        create_view(name, select_sql)


def downgrade() -> None:
    views = _views_on_alerts()
    for name in views:
        drop_view(name)
    with _quiet_reflection(), op.batch_alter_table("risk_alerts") as batch:
        batch.drop_constraint(op.f("fk_risk_alerts_user_id_users"), type_="foreignkey")
        batch.drop_column("user_id")
        batch.alter_column("transaction_id", existing_type=BigId, nullable=False)
    for name, select_sql in views.items():
        create_view(name, select_sql)
    op.drop_table("sanctions_entries")  # with its index (MySQL refuses to drop an FK's index)
    op.drop_table("sanctions_lists")
    with _quiet_reflection(), op.batch_alter_table("risk_account_stats") as batch:
        for column in (
            "peak_repeat",
            "receivers",
            "senders",
            "recent_in_peers",
            "recent_out_peers",
        ):
            batch.drop_column(column)
