"""co-lending: each co-lent loan's shares, per-lender ledger sub-accounts and settlement statements

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('colending_agreements',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_share_bps', sa.Integer(), nullable=False),
    sa.Column('partner_rate_bps', sa.Integer(), nullable=False),
    sa.Column('fees_rule', sa.String(length=12), nullable=False),
    sa.Column('penal_rule', sa.String(length=12), nullable=False),
    sa.Column('min_originator_share_bps', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_colending_agreements_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_colending_agreements_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_agreements')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_colending_agreements_partner_id'))
    )
    op.create_index(op.f('ix_colending_agreements_brand_id'), 'colending_agreements', ['brand_id'], unique=False)
    op.create_table('colending_events',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_colending_events_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_colending_events_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_colending_events_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_events')),
    sa.UniqueConstraint('partner_id', 'event_id', name=op.f('uq_colending_events_partner_id_event_id'))
    )
    op.create_index(op.f('ix_colending_events_brand_id'), 'colending_events', ['brand_id'], unique=False)
    op.create_index(op.f('ix_colending_events_loan_id'), 'colending_events', ['loan_id'], unique=False)
    op.create_table('colending_legs',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('lender', sa.String(length=12), nullable=False),
    sa.Column('txn_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_colending_legs_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_colending_legs_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_colending_legs_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_legs')),
    sa.UniqueConstraint('txn_key', 'lender', 'account', name=op.f('uq_colending_legs_txn_key_lender_account'))
    )
    op.create_index(op.f('ix_colending_legs_brand_id'), 'colending_legs', ['brand_id'], unique=False)
    op.create_index(op.f('ix_colending_legs_loan_id'), 'colending_legs', ['loan_id'], unique=False)
    op.create_index(op.f('ix_colending_legs_partner_id'), 'colending_legs', ['partner_id'], unique=False)
    op.create_index(op.f('ix_colending_legs_value_date'), 'colending_legs', ['value_date'], unique=False)
    op.create_table('colending_loans',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_code', sa.String(length=40), nullable=False),
    sa.Column('partner_share_bps', sa.Integer(), nullable=False),
    sa.Column('partner_rate_bps', sa.Integer(), nullable=False),
    sa.Column('blended_rate_bps', sa.Integer(), nullable=False),
    sa.Column('fees_rule', sa.String(length=12), nullable=False),
    sa.Column('penal_rule', sa.String(length=12), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('originator_principal', sa.BigInteger(), nullable=False),
    sa.Column('partner_principal', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('partner_borrower_id', sa.String(length=100), nullable=True),
    sa.Column('partner_loan_id', sa.String(length=100), nullable=True),
    sa.Column('partner_utr', sa.String(length=60), nullable=True),
    sa.Column('partner_funded_on', sa.Date(), nullable=True),
    sa.Column('partner_status', sa.String(length=40), nullable=True),
    sa.Column('steps', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_colending_loans_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_colending_loans_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_colending_loans_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_loans')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_colending_loans_loan_id'))
    )
    op.create_index(op.f('ix_colending_loans_brand_id'), 'colending_loans', ['brand_id'], unique=False)
    op.create_index(op.f('ix_colending_loans_partner_id'), 'colending_loans', ['partner_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_colending_loans_partner_id'), table_name='colending_loans')
    op.drop_index(op.f('ix_colending_loans_brand_id'), table_name='colending_loans')
    op.drop_table('colending_loans')
    op.drop_index(op.f('ix_colending_legs_value_date'), table_name='colending_legs')
    op.drop_index(op.f('ix_colending_legs_partner_id'), table_name='colending_legs')
    op.drop_index(op.f('ix_colending_legs_loan_id'), table_name='colending_legs')
    op.drop_index(op.f('ix_colending_legs_brand_id'), table_name='colending_legs')
    op.drop_table('colending_legs')
    op.drop_index(op.f('ix_colending_events_loan_id'), table_name='colending_events')
    op.drop_index(op.f('ix_colending_events_brand_id'), table_name='colending_events')
    op.drop_table('colending_events')
    op.drop_index(op.f('ix_colending_agreements_brand_id'), table_name='colending_agreements')
    op.drop_table('colending_agreements')
