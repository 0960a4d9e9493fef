"""sealed secrets: room for TOTP and webhook signing secrets sealed with AES-GCM (kit.sealed)

A sealed value (`sealed:<key id>:<base64 of nonce, ciphertext and tag>`) is longer than the plain
one. Existing plain-text secrets stay as they are and are sealed when next used (a TOTP code
checked, a delivery sent): the key is never in the database, so a migration does not have it.
SQLite does not enforce a VARCHAR's length, so only PostgreSQL and MySQL/MariaDB change.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# (table, column, nullable, old length)
COLUMNS = (("users", "totp_secret", True, 64), ("webhooks", "secret", False, 80))
SEALED_LENGTH = 255


def _resize(new: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable, old in COLUMNS:
        op.alter_column(
            table,
            column,
            existing_type=sa.String(length=old if new else SEALED_LENGTH),
            type_=sa.String(length=SEALED_LENGTH if new else old),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    _resize(True)


def downgrade() -> None:
    _resize(False)
