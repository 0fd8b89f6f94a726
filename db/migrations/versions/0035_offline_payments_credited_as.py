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
    # now say it too.
    op.add_column('offline_payments', sa.Column('credited_as', sa.String(length=20), nullable=True))
    # Payments approved before it: their approval's audit row says how (after.creditedAs).
    op.execute(
        """
        UPDATE offline_payments o SET credited_as = a.after ->> 'creditedAs'
        FROM audit_logs a
        WHERE a.action = 'payment.offline_approved' AND a.entity_type = 'offline_payment'
          AND a.entity_id = o.id::text AND o.status = 'APPROVED' AND o.credited_as IS NULL
          AND a.after ->> 'creditedAs' IN ('LOAN', 'CREDIT_BALANCE')
        """
    )


def downgrade() -> None:
    op.drop_column('offline_payments', 'credited_as')
