"""Exchange rates (with their history) and the conversions posted at them.

Rates are exact: an integer count of `RATE_SCALE` parts (0.9234 is 9_234_000_000), so no
database stores a float; `valid_from` keeps the history, the newest rate not in the future is
in force.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, UniqueConstraint

from ledgerbank.kit.db import BigId, Money, UTCDateTime, metadata

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("base", String(3), nullable=False),
    Column("quote", String(3), nullable=False),
    Column("rate", BigInteger, nullable=False),  # quote per one base, in RATE_SCALE parts
    Column("valid_from", UTCDateTime, nullable=False),
    Column("set_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("base", "quote", "valid_from"),
)

# One row per cross-currency transaction: the rate it was posted at and both amounts.
fx_conversions = Table(
    "fx_conversions",
    metadata,
    Column("transaction_id", BigId, ForeignKey("transactions.id"), primary_key=True),
    Column("rate_id", BigId, ForeignKey("fx_rates.id"), nullable=False),
    Column("from_currency", String(3), nullable=False),
    Column("from_amount", Money, nullable=False),
    Column("to_currency", String(3), nullable=False),
    Column("to_amount", Money, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
