"""trust: revoked tokens, login throttles, the second factor, password resets, security notices,
four-eyes approvals, who froze an account and the reason the customer sees

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from ledgerbank.kit.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Payload = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

USER_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("totp_secret", sa.String(length=64), nullable=True),
    sa.Column("totp_enabled_at", UTCDateTime(), nullable=True),
    sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False),
    sa.Column("totp_locked_until", UTCDateTime(), nullable=True),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("password_changed_at", UTCDateTime(), nullable=True),
)
ACCOUNT_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("frozen_by", sa.String(length=16), nullable=True),
    sa.Column("freeze_reason", sa.String(length=32), nullable=True),
)


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"))


def upgrade() -> None:
    for column in USER_COLUMNS:
        op.add_column("users", column.copy())
    for column in ACCOUNT_COLUMNS:
        op.add_column("accounts", column.copy())
    # Frozen accounts of the first round were frozen by staff: say so, with a neutral reason.
    op.execute(
        "UPDATE accounts SET frozen_by = 'fraud', freeze_reason = 'account_review' "
        "WHERE status = 'frozen'"
    )

    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        _user_fk("revoked_tokens", "user_id"),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"])

    op.create_table(
        "login_throttles",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("refused", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.Column("window_started_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttles")),
        sa.UniqueConstraint("scope", "subject", name="uq_login_throttles_scope_subject"),
    )
    op.create_index("ix_login_throttles_updated_at", "login_throttles", ["updated_at"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _user_fk("recovery_codes", "user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])

    op.create_table(
        "password_resets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _user_fk("password_resets", "user_id"),
        _user_fk("password_resets", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])

    op.create_table(
        "security_notices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        _user_fk("security_notices", "user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_notices")),
    )
    op.create_index("ix_security_notices_user", "security_notices", ["user_id", "id"])

    op.create_table(
        "approvals",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("payload", Payload, nullable=True),
        sa.Column("entity_type", sa.String(length=32), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("checker_permission", sa.String(length=64), nullable=False),
        sa.Column("proposed_by", BigId, nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("proposal_note", sa.String(length=500), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", BigId, nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        _user_fk("approvals", "proposed_by"),
        _user_fk("approvals", "decided_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_status_expires", "approvals", ["status", "expires_at"])
    op.create_index("ix_approvals_entity", "approvals", ["entity_type", "entity_id"])


def downgrade() -> None:
    for table in (
        "approvals",
        "security_notices",
        "password_resets",
        "recovery_codes",
        "login_throttles",
        "revoked_tokens",
    ):
        op.drop_table(table)
    for column in reversed(ACCOUNT_COLUMNS):
        op.drop_column("accounts", column.name)
    for column in reversed(USER_COLUMNS):
        op.drop_column("users", column.name)
