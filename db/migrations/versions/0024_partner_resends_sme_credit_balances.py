"""partner disbursal re-sends and SME credit balances

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 17:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # --- the one re-send of a partner's disbursal request per case (docs/partner-lenders.md) ---------------------
    op.create_table('partner_disbursal_resends',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('case_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('partner_status', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['partner_disbursals.id'], name=op.f('fk_partner_disbursal_resends_case_id_partner_disbursals'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_disbursal_resends_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_partner_disbursal_resends_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_partner_disbursal_resends_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_disbursal_resends')),
    sa.UniqueConstraint('case_id', name=op.f('uq_partner_disbursal_resends_case_id'))
    )
    op.create_index(op.f('ix_partner_disbursal_resends_brand_id'), 'partner_disbursal_resends', ['brand_id'], unique=False)
    op.create_index(op.f('ix_partner_disbursal_resends_loan_id'), 'partner_disbursal_resends', ['loan_id'], unique=False)
    # --- a credit to a financed invoice that arrived while it was settled (docs/invoice-financing.md) -----------
    op.create_table('sme_credit_balances',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('business_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('payment_id', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('applied', sa.BigInteger(), nullable=False),
    sa.Column('kept', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('received_while', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_credit_balances_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_credit_balances_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['business_id'], ['sme_businesses.id'], name=op.f('fk_sme_credit_balances_business_id_sme_businesses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_credit_balances')),
    sa.UniqueConstraint('request_id', 'payment_id', name=op.f('uq_sme_credit_balances_request_id_payment_id'))
    )
    op.create_index(op.f('ix_sme_credit_balances_brand_id'), 'sme_credit_balances', ['brand_id'], unique=False)
    op.create_index(op.f('ix_sme_credit_balances_request_id'), 'sme_credit_balances', ['request_id'], unique=False)
    op.create_index(op.f('ix_sme_credit_balances_business_id'), 'sme_credit_balances', ['business_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sme_credit_balances')
    op.drop_table('partner_disbursal_resends')
