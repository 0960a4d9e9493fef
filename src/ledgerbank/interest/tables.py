"""Interest rates per product (with history), daily accruals and monthly payments.

Rates are integers in `RATE_SCALE` parts (see `kit.rates`). An accrual row keeps what a day
earned in whole minor units and the exact remainder (`carry`, in 1/(365 * RATE_SCALE) of a
minor unit) handed to the next day, so nothing is lost or invented over a month. The primary
keys (account, day) and (account, month) make a rerun post nothing twice.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, String, Table, UniqueConstraint

from ledgerbank.kit.db import BigId, Money, UTCDateTime, metadata

interest_rates = Table(
    "interest_rates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_type", String(16), nullable=False),
    Column("annual_rate", BigInteger, nullable=False),  # RATE_SCALE parts: 0.025 is 2.5 %
    Column("valid_from", Date, nullable=False),
    Column("set_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("account_type", "valid_from"),
)

interest_accruals = Table(
    "interest_accruals",
    metadata,
    Column("account_id", BigId, ForeignKey("accounts.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("balance", Money, nullable=False),  # the end-of-day balance it accrued on
    Column("annual_rate", BigInteger, nullable=False),
    Column("accrued", Money, nullable=False),  # whole minor units earned this day
    Column("carry", BigInteger, nullable=False),  # the exact remainder after this day
    Column("created_at", UTCDateTime, nullable=False),
)

interest_payments = Table(
    "interest_payments",
    metadata,
    Column("account_id", BigId, ForeignKey("accounts.id"), primary_key=True),
    Column("month", Date, primary_key=True),  # its first day
    Column("amount", Money, nullable=False),
    Column("transaction_id", BigId, ForeignKey("transactions.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)
