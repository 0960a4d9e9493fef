"""staff web: case notes, SAR forms, saved reports

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the staff web work (issue 13)


def downgrade() -> None:
    pass
