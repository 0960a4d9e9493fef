"""the worker's jobs and scheduled payments

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the worker and standing-orders work (issue 14)


def downgrade() -> None:
    pass
