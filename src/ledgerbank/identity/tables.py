"""The users table."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, Date, Integer, String, Table

from ledgerbank.kit.db import BigId, UTCDateTime, metadata

ROLES = (
    "customer",
    "admin",
    "auditor",
    "fraud_analyst",
    "financial_manager",
    "compliance_officer",
)
KYC_STATUSES = ("pending", "verified", "rejected")

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("full_name", String(200), nullable=False),
    Column("phone", String(32), nullable=True),
    Column("date_of_birth", Date, nullable=True),
    Column("role", String(32), nullable=False, server_default="customer"),
    Column("kyc_status", String(16), nullable=False, server_default="pending"),
    Column("password_hash", String(255), nullable=False),
    Column("pin_hash", String(255), nullable=True),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("failed_pins", Integer, nullable=False, server_default="0"),
    Column("pin_locked_until", UTCDateTime, nullable=True),
    Column("is_active", Boolean, nullable=False, server_default="1"),
    # Raised to end every session of the user at once: a token carries the version it was
    # issued at and is refused once the user's version has moved past it.
    Column("token_version", Integer, nullable=False, server_default="0"),
    # Per-customer daily limits set by staff (decimal major units); NULL: the bank's default.
    Column("limit_deposit_daily", String(24), nullable=True),
    Column("limit_withdrawal_daily", String(24), nullable=True),
    Column("limit_transfer_daily", String(24), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
    CheckConstraint(f"kyc_status IN {KYC_STATUSES!r}", name="kyc_known"),
)
