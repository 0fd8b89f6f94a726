"""webhook_events.signal_arg: the payment as its loan takes it, and a partial index of undelivered payment events

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 04:30:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A payment event matched to a loan keeps the payment as the loan's workflow takes it, so one that stayed
    # undelivered (the API stopped between storing it and signalling the loan, and the gateway gave up retrying)
    # is sent again by the payment redelivery (workflows/payment_redelivery.py). NULL for other events and for
    # those stored before this column.
    op.add_column('webhook_events', sa.Column('signal_arg', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    # The redelivery asks every few minutes for payment events still undelivered: a handful among every event of the
    # book (delivery reports included), so the index holds only those rows.
    op.create_index(
        'ix_webhook_events_undelivered_payments',
        'webhook_events',
        ['received_at'],
        postgresql_where=sa.text('delivered_at IS NULL AND signal_arg IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_webhook_events_undelivered_payments', table_name='webhook_events')
    op.drop_column('webhook_events', 'signal_arg')
