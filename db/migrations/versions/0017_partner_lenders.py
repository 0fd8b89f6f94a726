"""partner lenders: their configuration, decision-table versions, offers and the routing attempts of each loan

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partner_lenders',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('adapter', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('min_amount', sa.BigInteger(), nullable=False),
    sa.Column('max_amount', sa.BigInteger(), nullable=False),
    sa.Column('min_tenure', sa.Integer(), nullable=False),
    sa.Column('max_tenure', sa.Integer(), nullable=False),
    sa.Column('pricing', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sla', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_lenders_brand_id_brands'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_lenders')),
    sa.UniqueConstraint('brand_id', 'code', name=op.f('uq_partner_lenders_brand_id_code')),
    )
    op.create_index(op.f('ix_partner_lenders_brand_id'), 'partner_lenders', ['brand_id'], unique=False)
    op.create_table('partner_rule_tables',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_rule_tables_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_partner_rule_tables_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_rule_tables')),
    sa.UniqueConstraint('partner_id', 'version', name=op.f('uq_partner_rule_tables_partner_id_version')),
    )
    op.create_index(op.f('ix_partner_rule_tables_brand_id'), 'partner_rule_tables', ['brand_id'], unique=False)
    op.create_index(op.f('ix_partner_rule_tables_partner_id'), 'partner_rule_tables', ['partner_id'], unique=False)
    op.create_table('partner_routing',
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('borrower_pick', sa.Boolean(), nullable=False),
    sa.Column('pick_window_seconds', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_routing_brand_id_brands'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('brand_id', name=op.f('pk_partner_routing')),
    )
    op.create_table('partner_offers',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('tenure', sa.Integer(), nullable=False),
    sa.Column('annual_rate_bps', sa.Integer(), nullable=False),
    sa.Column('emi', sa.BigInteger(), nullable=False),
    sa.Column('total_interest', sa.BigInteger(), nullable=False),
    sa.Column('fees', sa.BigInteger(), nullable=False),
    sa.Column('gst', sa.BigInteger(), nullable=False),
    sa.Column('third_party', sa.BigInteger(), nullable=False),
    sa.Column('net_disbursed', sa.BigInteger(), nullable=False),
    sa.Column('total_payable', sa.BigInteger(), nullable=False),
    sa.Column('apr', sa.Numeric(precision=7, scale=2), nullable=False),
    sa.Column('picked', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_offers_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_partner_offers_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_partner_offers_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_offers')),
    sa.UniqueConstraint('loan_id', 'partner_id', 'round', name=op.f('uq_partner_offers_loan_id_partner_id_round')),
    )
    op.create_index(op.f('ix_partner_offers_brand_id'), 'partner_offers', ['brand_id'], unique=False)
    op.create_index(op.f('ix_partner_offers_loan_id'), 'partner_offers', ['loan_id'], unique=False)
    op.create_index(op.f('ix_partner_offers_partner_id'), 'partner_offers', ['partner_id'], unique=False)
    op.create_table('partner_attempts',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('partner_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('offer_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('partner_reference', sa.String(length=100), nullable=True),
    sa.Column('elapsed_ms', sa.BigInteger(), nullable=False),
    sa.Column('sla_seconds', sa.Integer(), nullable=False),
    sa.Column('sla_breached', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_partner_attempts_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_partner_attempts_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offer_id'], ['partner_offers.id'], name=op.f('fk_partner_attempts_offer_id_partner_offers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_lenders.id'], name=op.f('fk_partner_attempts_partner_id_partner_lenders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_attempts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_partner_attempts_idempotency_key')),
    )
    op.create_index(op.f('ix_partner_attempts_brand_id'), 'partner_attempts', ['brand_id'], unique=False)
    op.create_index(op.f('ix_partner_attempts_loan_id'), 'partner_attempts', ['loan_id'], unique=False)
    op.create_index(op.f('ix_partner_attempts_partner_id'), 'partner_attempts', ['partner_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_partner_attempts_partner_id'), table_name='partner_attempts')
    op.drop_index(op.f('ix_partner_attempts_loan_id'), table_name='partner_attempts')
    op.drop_index(op.f('ix_partner_attempts_brand_id'), table_name='partner_attempts')
    op.drop_table('partner_attempts')
    op.drop_index(op.f('ix_partner_offers_partner_id'), table_name='partner_offers')
    op.drop_index(op.f('ix_partner_offers_loan_id'), table_name='partner_offers')
    op.drop_index(op.f('ix_partner_offers_brand_id'), table_name='partner_offers')
    op.drop_table('partner_offers')
    op.drop_table('partner_routing')
    op.drop_index(op.f('ix_partner_rule_tables_partner_id'), table_name='partner_rule_tables')
    op.drop_index(op.f('ix_partner_rule_tables_brand_id'), table_name='partner_rule_tables')
    op.drop_table('partner_rule_tables')
    op.drop_index(op.f('ix_partner_lenders_brand_id'), table_name='partner_lenders')
    op.drop_table('partner_lenders')
