"""payment_transactions: a partial index of credited payments still without a stored receipt (the receipt sweep)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The receipt sweep (workflows/receipt_sweep.py) asks every few minutes for credited payments whose receipt is
    # not stored: a handful among every payment of the book, so the index holds only those rows.
    op.create_index(
        'ix_payment_transactions_without_receipt',
        'payment_transactions',
        ['collected_at'],
        postgresql_where=sa.text("receipt_key IS NULL AND status = 'SUCCESS'"),
    )


def downgrade() -> None:
    op.drop_index('ix_payment_transactions_without_receipt', table_name='payment_transactions')
