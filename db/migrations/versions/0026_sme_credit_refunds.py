"""SME credit balance refunds

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 17:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- the refund of an SME business's credit balance, maker-checker (docs/invoice-financing.md) ---------------
    op.create_table('sme_credit_refunds',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('business_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('credit_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('account_sealed', sa.Text(), nullable=False),
    sa.Column('account_last4', sa.String(length=4), nullable=False),
    sa.Column('ifsc', sa.String(length=11), nullable=False),
    sa.Column('account_holder', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('decided_by', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mode', sa.String(length=4), nullable=True),
    sa.Column('utr', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_credit_refunds_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_credit_refunds_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['business_id'], ['sme_businesses.id'], name=op.f('fk_sme_credit_refunds_business_id_sme_businesses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_credit_refunds'))
    )
    op.create_index(op.f('ix_sme_credit_refunds_brand_id'), 'sme_credit_refunds', ['brand_id'], unique=False)
    op.create_index(op.f('ix_sme_credit_refunds_request_id'), 'sme_credit_refunds', ['request_id'], unique=False)
    op.create_index(op.f('ix_sme_credit_refunds_business_id'), 'sme_credit_refunds', ['business_id'], unique=False)
    # at most one refund waiting for its checker per request
    op.create_index('uq_sme_credit_refunds_pending', 'sme_credit_refunds', ['request_id'], unique=True,
                    postgresql_where=sa.text("status = 'PENDING'"))


def downgrade() -> None:
    op.drop_table('sme_credit_refunds')
