"""partner disbursal SLA tracking and SME virtual accounts (placeholder, filled by its change)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 13:45:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- SME virtual accounts and staff-recorded credits (docs/invoice-financing.md) ---------------------------
    op.create_table('sme_virtual_accounts',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('vendor', sa.String(length=30), nullable=False),
    sa.Column('vendor_account_id', sa.String(length=80), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('ifsc', sa.String(length=11), nullable=False),
    sa.Column('bank_name', sa.String(length=100), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_virtual_accounts_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_virtual_accounts_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_virtual_accounts')),
    sa.UniqueConstraint('request_id', name=op.f('uq_sme_virtual_accounts_request_id')),
    sa.UniqueConstraint('vendor', 'vendor_account_id', name=op.f('uq_sme_virtual_accounts_vendor_vendor_account_id'))
    )
    op.create_table('sme_offline_credits',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('utr', sa.String(length=40), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('recorded_by', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('decided_by', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_offline_credits_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_offline_credits_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_offline_credits')),
    sa.UniqueConstraint('brand_id', 'utr', name=op.f('uq_sme_offline_credits_brand_id_utr'))
    )
    op.create_index(op.f('ix_sme_offline_credits_request_id'), 'sme_offline_credits', ['request_id'], unique=False)
    op.add_column('sme_payments', sa.Column('utr', sa.String(length=40), nullable=True))
    op.add_column('sme_payments', sa.Column('mode', sa.String(length=10), nullable=True))
    op.create_index('ix_sme_payments_brand_utr', 'sme_payments', ['brand_id', 'utr'], unique=False)
    # --- end of SME virtual accounts --------------------------------------------------------------------------


def downgrade() -> None:
    # --- SME virtual accounts and staff-recorded credits ---------------------------------------------------------
    op.drop_index('ix_sme_payments_brand_utr', table_name='sme_payments')
    op.drop_column('sme_payments', 'mode')
    op.drop_column('sme_payments', 'utr')
    op.drop_index(op.f('ix_sme_offline_credits_request_id'), table_name='sme_offline_credits')
    op.drop_table('sme_offline_credits')
    op.drop_table('sme_virtual_accounts')
    # --- end of SME virtual accounts --------------------------------------------------------------------------
