"""currencies, exchange rates, interest products and fees

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the FX, interest and fees work (issue 14)


def downgrade() -> None:
    pass
