"""offline_payments.purpose: what the borrower paid for (PREPAYMENT, or COOLING_OFF: the exit within the cooling-off
period)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 11:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every payment recorded before it was told to the loan as a prepayment (api/partner/payments.py _credit).
    op.add_column(
        'offline_payments',
        sa.Column('purpose', sa.String(length=20), nullable=False, server_default='PREPAYMENT'),
    )


def downgrade() -> None:
    op.drop_column('offline_payments', 'purpose')
