"""co-lending: default-loss guarantee and escrow (placeholder, filled by its change)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 13:45:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
