"""partner disbursal SLA tracking and SME virtual accounts (placeholder, filled by its change)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 13:45:00.000000
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
from sqlalchemy.dialects import postgresql  # partner disbursal SLA's JSONB

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
    # --- partner disbursal SLA: one case per partner-booked loan (docs/partner-lenders.md) ----------------------
    op.create_table('partner_disbursals',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('offer_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_reference', sa.String(length=100), nullable=True),
    sa.Column('our_reference', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_seconds', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('utr', sa.String(length=60), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_via', sa.String(length=20), nullable=True),
    sa.Column('callback_event_id', sa.String(length=100), nullable=True),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('check_log', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_disbursals_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_partner_disbursals_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_partner_disbursals_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offer_id'], ['partner_offers.id'], name=op.f('fk_partner_disbursals_offer_id_partner_offers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_disbursals')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_partner_disbursals_loan_id')),
    )
    op.create_index(op.f('ix_partner_disbursals_brand_id'), 'partner_disbursals', ['brand_id'], unique=False)
    op.create_index(op.f('ix_partner_disbursals_partner_id'), 'partner_disbursals', ['partner_id'], unique=False)
    op.create_index(op.f('ix_partner_disbursals_due_at'), 'partner_disbursals', ['due_at'], unique=False)
    op.create_index(op.f('ix_partner_disbursals_state'), 'partner_disbursals', ['state'], unique=False)
    # --- end of partner disbursal SLA ---------------------------------------------------------------------------


def downgrade() -> None:
    # --- partner disbursal SLA --------------------------------------------------------------------------------
    op.drop_table('partner_disbursals')  # its indexes go with it
    # --- end of partner disbursal SLA ---------------------------------------------------------------------------
    # --- SME virtual accounts and staff-recorded credits ---------------------------------------------------------
    op.drop_index('ix_sme_payments_brand_utr', table_name='sme_payments')
    op.drop_column('sme_payments', 'mode')
    op.drop_column('sme_payments', 'utr')
    op.drop_index(op.f('ix_sme_offline_credits_request_id'), table_name='sme_offline_credits')
    op.drop_table('sme_offline_credits')
    op.drop_table('sme_virtual_accounts')
    # --- end of SME virtual accounts --------------------------------------------------------------------------
