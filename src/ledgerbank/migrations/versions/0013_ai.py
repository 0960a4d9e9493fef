"""AI

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by  network features, supervised models, sanctions lists:the AI work (issue 16)


def downgrade() -> None:
    pass
