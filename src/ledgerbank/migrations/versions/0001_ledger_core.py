"""ledger core: users, accounts, transactions, entries, audit trail

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import allow_changes, create_view, drop_view, refuse_changes

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("role", sa.String(length=32), server_default="customer", nullable=False),
        sa.Column("kyc_status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("failed_pins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pin_locked_until", UTCDateTime(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kyc_status IN ('pending', 'verified', 'rejected')", name=op.f("ck_users_kyc_known")
        ),
        sa.CheckConstraint(
            "role IN ('customer', 'admin', 'auditor', 'fraud_analyst', 'financial_manager', 'compliance_officer')",
            name=op.f("ck_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("is_internal", sa.Integer(), server_default="0", nullable=False),
        sa.Column("internal_key", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("overdraft_limit", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=8), server_default="active", nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "account_type IN ('savings', 'checking', 'wallet', 'cash_vault', 'fee_income', 'equity')",
            name=op.f("ck_accounts_type_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'closed')", name=op.f("ck_accounts_status_known")
        ),
        sa.CheckConstraint(
            "(is_internal = 1 AND owner_id IS NULL) OR (is_internal = 0 AND owner_id IS NOT NULL)",
            name=op.f("ck_accounts_owner_matches_kind"),
        ),
        sa.CheckConstraint(
            "balance + overdraft_limit >= 0", name=op.f("ck_accounts_balance_not_below_limit")
        ),
        sa.CheckConstraint("overdraft_limit >= 0", name=op.f("ck_accounts_overdraft_not_negative")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_accounts_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("account_number", name=op.f("uq_accounts_account_number")),
        sa.UniqueConstraint("internal_key", name=op.f("uq_accounts_internal_key")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_actor", ["actor_id", "created_at"], unique=False)
        batch_op.create_index("ix_audit_log_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "audit_chain",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name=op.f("fk_audit_chain_audit_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_audit_chain_audit_id")),
    )
    op.create_table(
        "transactions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "from_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "to_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column(
            "reverses_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column(
            "initiated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('posted', 'blocked', 'reversed')", name=op.f("ck_transactions_status_known")
        ),
        sa.CheckConstraint(
            "type IN ('deposit', 'withdrawal', 'transfer', 'fee', 'journal', 'reversal')",
            name=op.f("ck_transactions_type_known"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transactions_amount_positive")),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_transactions_from_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["initiated_by"], ["users.id"], name=op.f("fk_transactions_initiated_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["transactions.id"],
            name=op.f("fk_transactions_reverses_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"], ["accounts.id"], name=op.f("fk_transactions_to_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_transactions_external_id")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_transactions_reverses_id")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transactions_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_transactions_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_transactions_from_created", ["from_account_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_to_created", ["to_account_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_transactions_type_created", ["type", "created_at"], unique=False)

    op.create_table(
        "entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_entries_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_entries_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
    )
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entries_account_posted", ["account_id", "posted_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_entries_transaction_id"), ["transaction_id"], unique=False
        )

    for table in ("entries", "audit_log", "audit_chain"):
        refuse_changes(table)
    refuse_changes("transactions", ("DELETE",))
    for name, select_sql in VIEWS.items():
        create_view(name, select_sql)


def downgrade() -> None:
    for name in VIEWS:
        drop_view(name)
    for table in ("entries", "audit_log", "audit_chain"):
        allow_changes(table)
    allow_changes("transactions", ("DELETE",))
    # Each table with its indexes (MySQL refuses to drop an index a foreign key needs).
    for table in ("entries", "transactions", "audit_chain", "audit_log", "accounts"):
        op.drop_table(table)
    op.drop_table("users")
    op.drop_table("idempotency_keys")


# Reporting views. Amounts are integer minor units (the `_minor` suffix says so).
VIEWS = {
    # One row per currency; `difference_minor` is zero while assets = liabilities + equity.
    "vw_balance_sheet": """
        SELECT a.currency AS currency,
               SUM(CASE WHEN a.account_type = 'cash_vault' THEN -e.amount ELSE 0 END)
                   AS assets_minor,
               SUM(CASE WHEN a.is_internal = 0 THEN e.amount ELSE 0 END) AS liabilities_minor,
               SUM(CASE WHEN a.account_type IN ('fee_income', 'equity') THEN e.amount ELSE 0 END)
                   AS equity_minor,
               -SUM(e.amount) AS difference_minor
        FROM entries e JOIN accounts a ON a.id = e.account_id
        GROUP BY a.currency
    """,
    "vw_customer_statement": """
        SELECT e.id AS entry_id, e.transaction_id AS transaction_id, e.account_id AS account_id,
               a.account_number AS account_number, a.account_type AS account_type,
               a.owner_id AS owner_id, u.username AS username, u.full_name AS full_name,
               t.type AS type, t.status AS status, t.description AS description,
               e.amount AS amount_minor, e.balance_after AS balance_after_minor,
               e.currency AS currency, e.posted_at AS posted_at
        FROM entries e
        JOIN accounts a ON a.id = e.account_id
        JOIN transactions t ON t.id = e.transaction_id
        JOIN users u ON u.id = a.owner_id
        WHERE a.is_internal = 0
    """,
    # Zero rows while the ledger is sound; each row names a broken invariant.
    "vw_ledger_integrity_check": """
        SELECT 'unbalanced_transaction' AS check_name, 'transaction' AS entity_type,
               transaction_id AS entity_id, SUM(amount) AS difference_minor
        FROM entries GROUP BY transaction_id HAVING SUM(amount) <> 0 OR COUNT(*) < 2
        UNION ALL
        SELECT 'balance_mismatch', 'account', a.id, a.balance - COALESCE(s.total, 0)
        FROM accounts a
        LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM entries GROUP BY account_id) s
            ON s.account_id = a.id
        WHERE a.is_internal = 0 AND a.balance <> COALESCE(s.total, 0)
        UNION ALL
        SELECT 'broken_balance_chain', 'entry', c.id, c.balance_after - c.amount - COALESCE(c.prev, 0)
        FROM (SELECT e.id, e.amount, e.balance_after,
                     LAG(e.balance_after) OVER (PARTITION BY e.account_id ORDER BY e.id) AS prev
              FROM entries e JOIN accounts a ON a.id = e.account_id
              WHERE a.is_internal = 0) c
        WHERE c.balance_after IS NULL OR c.balance_after - c.amount <> COALESCE(c.prev, 0)
        UNION ALL
        SELECT 'below_limit', 'account', id, balance + overdraft_limit
        FROM accounts WHERE is_internal = 0 AND balance + overdraft_limit < 0
        UNION ALL
        SELECT 'currency_mismatch', 'entry', e.id, e.amount
        FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.currency <> a.currency
        UNION ALL
        SELECT 'posted_without_entries', 'transaction', t.id, t.amount
        FROM transactions t
        WHERE t.status IN ('posted', 'reversed')
          AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)
        UNION ALL
        SELECT 'blocked_with_entries', 'transaction', t.id, t.amount
        FROM transactions t
        WHERE t.status = 'blocked'
          AND EXISTS (SELECT 1 FROM entries e WHERE e.transaction_id = t.id)
    """,
}
