"""What the customer taught the spending categoriser: a category per payee, per customer."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

# A correction applies to every payment to the same payee (`payee_key`: "account:<id>" for a
# transfer, "text:<words>" for cash by its description), the customer's payments only.
spending_categories = Table(
    "spending_categories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("payee_key", String(120), nullable=False),
    Column("category", String(32), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner_id", "payee_key"),
)
