"""payment_links: one ACTIVE link per (loan, installment, amount, purpose), superseded ones kept

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 03:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An installment's amount due can come back to an earlier amount (a penal charge, then a part-payment): its
    # link for that amount was superseded and cancelled at the gateway, so a new link is made, and recorded as a
    # row of its own beside the old one (activities.loan.links). The old row stays: a late payment on the old link
    # (Cashfree's events name only the link) must still find its loan. Only one ACTIVE link per key.
    op.drop_constraint('uq_payment_links_loan_id_installment_no_amount_purpose', 'payment_links', type_='unique')
    op.create_index(
        'uq_payment_links_active_key', 'payment_links', ['loan_id', 'installment_no', 'amount', 'purpose'],
        unique=True, postgresql_where=sa.text("status = 'ACTIVE'"),
    )


def downgrade() -> None:
    # Fails while a key has a replacement link beside its superseded one: remove those rows first.
    op.drop_index('uq_payment_links_active_key', table_name='payment_links')
    op.create_unique_constraint(
        'uq_payment_links_loan_id_installment_no_amount_purpose', 'payment_links',
        ['loan_id', 'installment_no', 'amount', 'purpose'],
    )
