"""SME invoice financing: businesses, directors, invoices, financing requests, their offers, status history, transfers and the buyer's payments

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sme_businesses',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('customer_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('pan', sa.String(length=10), nullable=False),
    sa.Column('gstin', sa.String(length=15), nullable=False),
    sa.Column('cin', sa.String(length=21), nullable=True),
    sa.Column('constitution', sa.String(length=60), nullable=True),
    sa.Column('incorporated_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('verification', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_businesses_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_sme_businesses_customer_id_customers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_businesses')),
    sa.UniqueConstraint('brand_id', 'gstin', name=op.f('uq_sme_businesses_brand_id_gstin')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_sme_businesses_customer_id'))
    )
    op.create_index(op.f('ix_sme_businesses_brand_id'), 'sme_businesses', ['brand_id'], unique=False)
    op.create_table('sme_directors',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('business_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('din', sa.String(length=8), nullable=True),
    sa.Column('pan', sa.String(length=10), nullable=True),
    sa.Column('kyc_status', sa.String(length=20), nullable=False),
    sa.Column('kyc_detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_directors_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['business_id'], ['sme_businesses.id'], name=op.f('fk_sme_directors_business_id_sme_businesses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_directors')),
    sa.UniqueConstraint('business_id', 'din', name=op.f('uq_sme_directors_business_id_din'))
    )
    op.create_index(op.f('ix_sme_directors_business_id'), 'sme_directors', ['business_id'], unique=False)
    op.create_table('sme_invoices',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('business_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_key', sa.String(length=40), nullable=False),
    sa.Column('seller_gstin', sa.String(length=15), nullable=False),
    sa.Column('buyer_gstin', sa.String(length=15), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('document_key', sa.String(length=300), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_invoices_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['business_id'], ['sme_businesses.id'], name=op.f('fk_sme_invoices_business_id_sme_businesses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_invoices'))
    )
    op.create_index(op.f('ix_sme_invoices_business_id'), 'sme_invoices', ['business_id'], unique=False)
    op.create_index('ix_sme_invoices_buyer_number', 'sme_invoices', ['brand_id', 'buyer_gstin', 'number_key'], unique=False)
    op.create_index('ix_sme_invoices_seller_number', 'sme_invoices', ['brand_id', 'seller_gstin', 'number_key'], unique=False)
    op.create_table('sme_financing_requests',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('business_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('invoice_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('reason_text', sa.Text(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('score_factors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('offers_expire_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lender_id', sa.String(length=60), nullable=True),
    sa.Column('advance_rate_bps', sa.Integer(), nullable=False),
    sa.Column('discount_rate_bps', sa.Integer(), nullable=False),
    sa.Column('overdue_rate_bps', sa.Integer(), nullable=False),
    sa.Column('advance', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('reserve', sa.BigInteger(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('maker_id', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('checker_id', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('funded_on', sa.Date(), nullable=True),
    sa.Column('advance_utr', sa.String(length=40), nullable=True),
    sa.Column('collection_reference', sa.String(length=80), nullable=True),
    sa.Column('collection_url', sa.String(length=500), nullable=True),
    sa.Column('collected', sa.BigInteger(), nullable=False),
    sa.Column('days_late', sa.Integer(), nullable=False),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('late_charge', sa.BigInteger(), nullable=False),
    sa.Column('release', sa.BigInteger(), nullable=False),
    sa.Column('release_utr', sa.String(length=40), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('hold_step', sa.String(length=12), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_financing_requests_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['business_id'], ['sme_businesses.id'], name=op.f('fk_sme_financing_requests_business_id_sme_businesses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['sme_invoices.id'], name=op.f('fk_sme_financing_requests_invoice_id_sme_invoices'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_financing_requests'))
    )
    op.create_index('ix_sme_financing_requests_brand_status', 'sme_financing_requests', ['brand_id', 'status'], unique=False)
    op.create_index(op.f('ix_sme_financing_requests_business_id'), 'sme_financing_requests', ['business_id'], unique=False)
    op.create_index(op.f('ix_sme_financing_requests_invoice_id'), 'sme_financing_requests', ['invoice_id'], unique=False)
    op.create_table('sme_offers',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('lender_id', sa.String(length=60), nullable=False),
    sa.Column('lender_name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('advance', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('reserve', sa.BigInteger(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('advance_rate_bps', sa.Integer(), nullable=False),
    sa.Column('discount_rate_bps', sa.Integer(), nullable=False),
    sa.Column('overdue_rate_bps', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_offers_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_offers_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_offers')),
    sa.UniqueConstraint('request_id', 'lender_id', name=op.f('uq_sme_offers_request_id_lender_id'))
    )
    op.create_index(op.f('ix_sme_offers_request_id'), 'sme_offers', ['request_id'], unique=False)
    op.create_table('sme_request_events',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('staff_id', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_request_events_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_request_events_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_request_events')),
    sa.UniqueConstraint('request_id', 'kind', 'seq', name=op.f('uq_sme_request_events_request_id_kind_seq'))
    )
    op.create_index(op.f('ix_sme_request_events_request_id'), 'sme_request_events', ['request_id'], unique=False)
    op.create_table('sme_transfers',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=80), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('bank', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('utr', sa.String(length=40), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_transfers_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_transfers_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_transfers')),
    sa.UniqueConstraint('reference', name=op.f('uq_sme_transfers_reference'))
    )
    op.create_index(op.f('ix_sme_transfers_request_id'), 'sme_transfers', ['request_id'], unique=False)
    op.create_table('sme_payments',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('request_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('payment_id', sa.String(length=80), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_sme_payments_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['sme_financing_requests.id'], name=op.f('fk_sme_payments_request_id_sme_financing_requests'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sme_payments')),
    sa.UniqueConstraint('request_id', 'payment_id', name=op.f('uq_sme_payments_request_id_payment_id'))
    )
    op.create_index(op.f('ix_sme_payments_request_id'), 'sme_payments', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sme_payments_request_id'), table_name='sme_payments')
    op.drop_table('sme_payments')
    op.drop_index(op.f('ix_sme_transfers_request_id'), table_name='sme_transfers')
    op.drop_table('sme_transfers')
    op.drop_index(op.f('ix_sme_request_events_request_id'), table_name='sme_request_events')
    op.drop_table('sme_request_events')
    op.drop_index(op.f('ix_sme_offers_request_id'), table_name='sme_offers')
    op.drop_table('sme_offers')
    op.drop_index(op.f('ix_sme_financing_requests_invoice_id'), table_name='sme_financing_requests')
    op.drop_index(op.f('ix_sme_financing_requests_business_id'), table_name='sme_financing_requests')
    op.drop_index('ix_sme_financing_requests_brand_status', table_name='sme_financing_requests')
    op.drop_table('sme_financing_requests')
    op.drop_index('ix_sme_invoices_seller_number', table_name='sme_invoices')
    op.drop_index('ix_sme_invoices_buyer_number', table_name='sme_invoices')
    op.drop_index(op.f('ix_sme_invoices_business_id'), table_name='sme_invoices')
    op.drop_table('sme_invoices')
    op.drop_index(op.f('ix_sme_directors_business_id'), table_name='sme_directors')
    op.drop_table('sme_directors')
    op.drop_index(op.f('ix_sme_businesses_brand_id'), table_name='sme_businesses')
    op.drop_table('sme_businesses')
