"""proof

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by  guards on transactions and risk tables, verify checkpoints, audit checkpoints:the proof work (issue 12)


def downgrade() -> None:
    pass
