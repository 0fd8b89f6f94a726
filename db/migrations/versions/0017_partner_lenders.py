"""partner lenders: their configuration, decision-table versions, offers and the routing attempts of each loan

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
