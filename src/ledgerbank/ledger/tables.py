"""Accounts, journal transactions, entries and idempotency keys.

Sign convention: an entry's `amount` is positive for a credit and negative for a debit, so the
entries of every transaction sum to zero. A customer account (a liability of the bank) has the
balance sum(amount); an asset account such as the cash vault has the balance -sum(amount).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ledgerbank.kit.db import BigId, Money, UTCDateTime, metadata

CUSTOMER_ACCOUNT_TYPES = ("savings", "checking", "wallet")
# The bank's own accounts, one of each per currency.
# card_settlement: what captured card holds owe the card network (a liability of the bank).
INTERNAL_ACCOUNT_TYPES = ("cash_vault", "fee_income", "equity", "card_settlement")
ACCOUNT_STATUSES = ("active", "frozen", "closed")
FREEZERS = ("customer", "fraud", "compliance")
TRANSACTION_TYPES = (
    "deposit",
    "withdrawal",
    "transfer",
    "fee",
    "journal",
    "reversal",
    "capture",
)
TRANSACTION_STATUSES = ("posted", "blocked", "reversed")

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_number", String(20), nullable=False, unique=True),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=True, index=True),
    Column("account_type", String(16), nullable=False),
    Column("is_internal", Integer, nullable=False, server_default="0"),
    # "cash_vault:USD" for the bank's own accounts (one of each per currency), else NULL.
    Column("internal_key", String(32), nullable=True, unique=True),
    Column("currency", String(3), nullable=False),
    # Kept for customer accounts only; internal balances are derived from their entries so
    # that no posting waits on the cash vault's row.
    Column("balance", Money, nullable=False, server_default="0"),
    Column("overdraft_limit", Money, nullable=False, server_default="0"),
    # What active holds reserve (ledger.holds): available = balance + overdraft_limit - held.
    # Changed only under the account's row lock, with the holds, so no check sums holds.
    Column("held", Money, nullable=False, server_default="0"),
    Column("status", String(8), nullable=False, server_default="active"),
    Column("status_reason", String(500), nullable=True),  # staff's note; customers never see it
    # Who froze a frozen account (customer, fraud, compliance) and the customer-facing reason
    # chosen from FREEZE_REASONS; NULL while the account is not frozen.
    Column("frozen_by", String(16), nullable=True),
    Column("freeze_reason", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("balance + overdraft_limit >= 0", name="balance_not_below_limit"),
    CheckConstraint("overdraft_limit >= 0", name="overdraft_not_negative"),
    CheckConstraint(f"status IN {ACCOUNT_STATUSES!r}", name="status_known"),
    CheckConstraint(
        f"account_type IN {CUSTOMER_ACCOUNT_TYPES + INTERNAL_ACCOUNT_TYPES!r}", name="type_known"
    ),
    CheckConstraint(
        "(is_internal = 1 AND owner_id IS NULL) OR (is_internal = 0 AND owner_id IS NOT NULL)",
        name="owner_matches_kind",
    ),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("type", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("from_account_id", BigId, ForeignKey("accounts.id"), nullable=True),
    Column("to_account_id", BigId, ForeignKey("accounts.id"), nullable=True),
    Column("description", String(500), nullable=True),
    Column("reverses_id", BigId, ForeignKey("transactions.id"), nullable=True, unique=True),
    Column("external_id", String(100), nullable=True, unique=True),
    Column("batch_id", String(36), nullable=True, index=True),
    Column("initiated_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(f"type IN {TRANSACTION_TYPES!r}", name="type_known"),
    CheckConstraint(f"status IN {TRANSACTION_STATUSES!r}", name="status_known"),
    Index("ix_transactions_created_at", "created_at"),
    Index("ix_transactions_from_created", "from_account_id", "created_at"),
    Index("ix_transactions_to_created", "to_account_id", "created_at"),
    Index("ix_transactions_type_created", "type", "created_at"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=False, index=True),
    Column("account_id", BigId, ForeignKey("accounts.id"), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    # The account's balance right after this entry; NULL on internal accounts.
    Column("balance_after", Money, nullable=True),
    Column("posted_at", UTCDateTime, nullable=False),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    Index("ix_entries_account_posted", "account_id", "posted_at", "id"),
    # An account's entries in posting (id) order: the newest, and the one before a given entry,
    # in one probe each (`ledger verify` follows balance_after chains through it).
    Index("ix_entries_account_id", "account_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("scope", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("transaction_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
)

# Staff's "look at this one" marks on transactions (fraud analysts, compliance, admins);
# append-only like the audit trail that also records them.
transaction_flags = Table(
    "transaction_flags",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=False, index=True),
    Column("reason", String(500), nullable=False),
    Column("flagged_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# What each customer moved today, per currency, for the daily limits. A posting updates its
# customer's row while holding the customer's user row lock, so two payments from two accounts
# of one customer cannot both slip under a limit; nothing ever sums history for a limit.
customer_daily_totals = Table(
    "customer_daily_totals",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("business_day", Date, primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("deposited", Money, nullable=False, server_default="0"),
    Column("withdrawn", Money, nullable=False, server_default="0"),
    Column("sent", Money, nullable=False, server_default="0"),
)

# Each sound run of `ledgerbank ledger verify` (append-only): how far along the audit chain it
# verified the postings, how many rows that covered, and a digest of them; the next run starts
# there unless asked for a full run.
ledger_verifications = Table(
    "ledger_verifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("chain_position", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("transactions", BigInteger, nullable=False),
    Column("entries", BigInteger, nullable=False),
    Column("scores", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("full_run", Boolean, nullable=False),
    Column("checked", BigInteger, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
)

HOLD_STATUSES = ("active", "captured", "voided", "expired")

# Authorisations (ledger.holds): money reserved on an account until it is captured (posted as
# a `capture` transaction), voided or expires. Rows change state once; the account's `held`
# column carries the sum of its active ones.
holds = Table(
    "holds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", BigId, ForeignKey("accounts.id"), nullable=False),
    Column("payee_account_id", BigId, ForeignKey("accounts.id"), nullable=True),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", String(500), nullable=False),
    Column("status", String(8), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("captured_amount", Money, nullable=True),
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=True),
    Column("placed_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("api_token_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(f"status IN {HOLD_STATUSES!r}", name="status_known"),
    Index("ix_holds_account_status", "account_id", "status", "expires_at"),
    Index("ix_holds_status_expires", "status", "expires_at"),
)

# A fee is its own transaction; this links it to the transaction that caused it (a cash
# withdrawal beyond the free ones, the spread of an exchange). Written with both.
fee_links = Table(
    "fee_links",
    metadata,
    Column("fee_transaction_id", BigId, ForeignKey("transactions.id"), primary_key=True),
    Column("caused_by_id", BigId, ForeignKey("transactions.id"), nullable=False, index=True),
    Column("fee_kind", String(32), nullable=False),
)

# A customer's saved payees: another customer's account under the nickname the customer chose
# (the holder's name is read from the account's owner whenever it is shown, never copied).
saved_payees = Table(
    "saved_payees",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("account_id", BigId, ForeignKey("accounts.id"), nullable=False),
    Column("nickname", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner_id", "account_id"),
)

# Every other customer's account a customer has paid by transfer, with the first payment: a
# payment's "first to this payee" notice is one insert into it (nothing scans past payments).
known_payees = Table(
    "known_payees",
    metadata,
    Column("customer_id", BigId, ForeignKey("users.id"), primary_key=True),
    Column("account_id", BigId, ForeignKey("accounts.id"), primary_key=True),
    Column("first_transaction_id", BigId, ForeignKey("transactions.id"), nullable=False),
    Column("first_paid_at", UTCDateTime, nullable=False),
)
