"""currencies, exchange rates, interest products and fees

Revision ID: 0015
Revises: 0014

- `fx_rates` (exact rates with their history) and `fx_conversions` (the rate and both amounts
  of each cross-currency transaction).
- `interest_rates` (per product, with history), `interest_accruals` (one row per account and
  day) and `interest_payments` (one per account and month): their keys make reruns harmless.
- `fee_links`: a fee transaction and the transaction that caused it.
- `vw_ledger_integrity_check` checks each currency of a transaction on its own (an exchange
  has legs in two currencies), and `vw_balance_sheet` shows the bank's FX position per currency.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbank.kit.db import UTCDateTime
from ledgerbank.migrations.ddl import create_view

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

BALANCE_SHEET = """
    SELECT a.currency AS currency,
           SUM(CASE WHEN a.account_type = 'cash_vault' THEN -e.amount ELSE 0 END)
               AS assets_minor,
           SUM(CASE WHEN a.is_internal = 0 THEN e.amount ELSE 0 END) AS liabilities_minor,
           SUM(CASE WHEN a.account_type IN ('fee_income', 'equity') THEN e.amount ELSE 0 END)
               AS equity_minor,
           -SUM(e.amount) AS difference_minor,
           SUM(CASE WHEN a.internal_key LIKE 'fx_position:%' THEN e.amount ELSE 0 END)
               AS fx_position_minor
    FROM entries e JOIN accounts a ON a.id = e.account_id
    GROUP BY a.currency
"""
BALANCE_SHEET_BEFORE = """
    SELECT a.currency AS currency,
           SUM(CASE WHEN a.account_type = 'cash_vault' THEN -e.amount ELSE 0 END)
               AS assets_minor,
           SUM(CASE WHEN a.is_internal = 0 THEN e.amount ELSE 0 END) AS liabilities_minor,
           SUM(CASE WHEN a.account_type IN ('fee_income', 'equity') THEN e.amount ELSE 0 END)
               AS equity_minor,
           -SUM(e.amount) AS difference_minor
    FROM entries e JOIN accounts a ON a.id = e.account_id
    GROUP BY a.currency
"""
INTEGRITY_REST = """
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
"""
# Each currency of a transaction balances on its own.
INTEGRITY = (
    """
    SELECT 'unbalanced_transaction' AS check_name, 'transaction' AS entity_type,
           transaction_id AS entity_id, SUM(amount) AS difference_minor
    FROM entries GROUP BY transaction_id, currency HAVING SUM(amount) <> 0 OR COUNT(*) < 2
"""
    + INTEGRITY_REST
)
INTEGRITY_BEFORE = (
    """
    SELECT 'unbalanced_transaction' AS check_name, 'transaction' AS entity_type,
           transaction_id AS entity_id, SUM(amount) AS difference_minor
    FROM entries GROUP BY transaction_id HAVING SUM(amount) <> 0 OR COUNT(*) < 2
"""
    + INTEGRITY_REST
)


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("set_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_fx_rates_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "base", "quote", "valid_from", name=op.f("uq_fx_rates_base_quote_valid_from")
        ),
    )
    op.create_table(
        "fx_conversions",
        sa.Column("transaction_id", BigId, nullable=False),
        sa.Column("rate_id", BigId, nullable=False),
        sa.Column("from_currency", sa.String(length=3), nullable=False),
        sa.Column("from_amount", sa.BigInteger(), nullable=False),
        sa.Column("to_currency", sa.String(length=3), nullable=False),
        sa.Column("to_amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_fx_conversions_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"], ["fx_rates.id"], name=op.f("fk_fx_conversions_rate_id_fx_rates")
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_fx_conversions")),
    )
    op.create_table(
        "fee_links",
        sa.Column("fee_transaction_id", BigId, nullable=False),
        sa.Column("caused_by_id", BigId, nullable=False),
        sa.Column("fee_kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["fee_transaction_id"],
            ["transactions.id"],
            name=op.f("fk_fee_links_fee_transaction_id_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["caused_by_id"],
            ["transactions.id"],
            name=op.f("fk_fee_links_caused_by_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("fee_transaction_id", name=op.f("pk_fee_links")),
    )
    op.create_index(op.f("ix_fee_links_caused_by_id"), "fee_links", ["caused_by_id"])
    op.create_table(
        "interest_rates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("annual_rate", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_interest_rates_set_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interest_rates")),
        sa.UniqueConstraint(
            "account_type", "valid_from", name=op.f("uq_interest_rates_account_type_valid_from")
        ),
    )
    op.create_table(
        "interest_accruals",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.BigInteger(), nullable=False),
        sa.Column("accrued", sa.BigInteger(), nullable=False),
        sa.Column("carry", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_interest_accruals_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_interest_accruals")),
    )
    op.create_table(
        "interest_payments",
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_interest_payments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_interest_payments_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_interest_payments")),
    )
    create_view("vw_balance_sheet", BALANCE_SHEET)
    create_view("vw_ledger_integrity_check", INTEGRITY)


def downgrade() -> None:
    create_view("vw_ledger_integrity_check", INTEGRITY_BEFORE)
    if op.get_bind().dialect.name == "postgresql":  # a view may not lose a column in place
        op.execute("DROP VIEW IF EXISTS vw_balance_sheet")
    create_view("vw_balance_sheet", BALANCE_SHEET_BEFORE)
    for table in (
        "interest_payments",
        "interest_accruals",
        "interest_rates",
        "fee_links",
        "fx_conversions",
        "fx_rates",
    ):
        op.drop_table(table)
