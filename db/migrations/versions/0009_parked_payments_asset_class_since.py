"""parked payments, asset class since

A payment the loan could not apply (malformed, or refused for good by the database) is parked for ops in
``parked_payments`` instead of blocking the payments behind it; ``loans.asset_class_since`` keeps the IST date
whose day-end produced the current SMA/NPA class (RBI IRACP: the date of SMA/NPA).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('loans', sa.Column('asset_class_since', sa.Date(), nullable=True))
    op.create_table('parked_payments',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('gateway', sa.Text(), nullable=False),
    sa.Column('gateway_payment_id', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=40, scale=0), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_parked_payments_loan_id_loans'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parked_payments')),
    sa.UniqueConstraint('loan_id', 'gateway', 'gateway_payment_id',
                        name=op.f('uq_parked_payments_loan_id_gateway_gateway_payment_id'))
    )
    op.create_index(op.f('ix_parked_payments_loan_id'), 'parked_payments', ['loan_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_parked_payments_loan_id'), table_name='parked_payments')
    op.drop_table('parked_payments')
    op.drop_column('loans', 'asset_class_since')
