"""SME invoice financing: businesses, directors, invoices, financing requests and their offers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
