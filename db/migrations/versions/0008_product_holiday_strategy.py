"""product holiday strategy

What a due date on a brand non-repayment date does, per product (domain.product.HolidayStrategy, rules in
domain.holidays). Existing products get NEXT_WORKING_DAY_EXTEND_TERM: the same due dates as before wherever
moving to the next working day did not make two installments meet.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'loan_products',
        sa.Column(
            'holiday_strategy',
            sa.String(length=40),
            nullable=False,
            server_default='NEXT_WORKING_DAY_EXTEND_TERM',
        ),
    )


def downgrade() -> None:
    op.drop_column('loan_products', 'holiday_strategy')
