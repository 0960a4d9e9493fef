"""the write path

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by  PIN keys, KYC limits and daily counters, caller state:the write-path work (issue 10)


def downgrade() -> None:
    pass
