"""The users table, and what signing in needs beside it: revoked tokens, login throttles,
recovery codes, password resets and security notices."""

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
    # Two-factor sign-in (TOTP, RFC 6238): the base32 secret once enrolment started, the moment
    # it was confirmed, its own attempt counter, and the last time step accepted (no replays).
    Column("totp_secret", String(255), nullable=True),  # sealed (kit.sealed)
    Column("totp_enabled_at", UTCDateTime, nullable=True),
    Column("totp_failures", Integer, nullable=False, server_default="0"),
    Column("totp_locked_until", UTCDateTime, nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    Column("password_changed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
    CheckConstraint(f"kyc_status IN {KYC_STATUSES!r}", name="kyc_known"),
)

# Single sign-out: the ids (`jti`) of tokens ended before they expire, kept until they would
# have expired anyway; every request looks its token up by primary key.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("revoked_at", UTCDateTime, nullable=False),
)

# Failed sign-ins counted per (user, client address), per client address and per user, each
# with the moment until which further attempts are not evaluated (growing delays).
THROTTLE_SCOPES = ("user_address", "address", "user", "unknown", "known", "payee")
login_throttles = Table(
    "login_throttles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("scope", String(16), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("refused", Integer, nullable=False, server_default="0"),
    Column("blocked_until", UTCDateTime, nullable=True),
    Column("window_started_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("scope", "subject", name="uq_login_throttles_scope_subject"),
    Index("ix_login_throttles_updated_at", "updated_at"),
)

# One-time recovery codes of the second factor, stored as SHA-256 (they are long and random).
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# One-time, expiring password reset links; only the SHA-256 of the token is kept.
password_resets = Table(
    "password_resets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# What a customer is told about their own security: a password or second factor changed, a
# sign-in from a new address, a new payee.
NOTICE_KINDS = (
    "password_changed",
    "password_reset",
    "second_factor_enabled",
    "second_factor_disabled",
    "second_factor_reset",
    "recovery_code_used",
    "new_sign_in",
    "signed_out_everywhere",
    "new_payee",
    "account_frozen",
    "account_unfrozen",
    "standing_order_created",
    "standing_order_payment_skipped",
    "standing_order_ended",
    "account_closed",
)
security_notices = Table(
    "security_notices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime, nullable=True),
    Index("ix_security_notices_user", "user_id", "id"),
)

# Machine clients' API tokens (identity.api_tokens): long random secrets shown once, kept only
# as a keyed hash; scopes name what the token may do within its owner's role.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(80), nullable=False, unique=True),
    Column("scopes", String(500), nullable=False),
    Column("owner_id", BigId, ForeignKey("users.id"), nullable=False),
    Column("created_by", BigId, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", BigId, ForeignKey("users.id"), nullable=True),
)
