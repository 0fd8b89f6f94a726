"""Aadhaar numbers kept as UIDAI permits: a vault reference and the masked number (placeholder, filled by its change)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 13:45:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
