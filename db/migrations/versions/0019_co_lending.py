"""co-lending: each co-lent loan's shares, per-lender ledger sub-accounts and settlement statements

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
