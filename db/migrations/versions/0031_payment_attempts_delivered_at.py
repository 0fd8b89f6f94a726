"""payment_attempts.delivered_at: a captured payment signalled to its loan once, whatever the number of its events

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 00:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Razorpay sends payment.captured and payment_link.paid for one payment on a link: the first event delivered to
    # the loan sets this, and a later event of the same payment is stored without a second signal
    # (api.webhooks.intake). NULL: not yet delivered (or captured before this column).
    op.add_column('payment_attempts', sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('payment_attempts', 'delivered_at')
