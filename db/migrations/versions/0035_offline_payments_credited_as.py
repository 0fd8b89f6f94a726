"""offline_payments.credited_as: how an approved offline payment was credited (LOAN or CREDIT_BALANCE)

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 05:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The approval's answer said it; the views of the payment afterwards (the approval queue, the loan's payments)
    # now say it too. NULL for payments approved before this column.
    op.add_column('offline_payments', sa.Column('credited_as', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('offline_payments', 'credited_as')
