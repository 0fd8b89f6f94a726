"""Aadhaar numbers kept as UIDAI permits: the Aadhaar Data Vault (a sealed number per reference token)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 13:45:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aadhaar_vault',
    sa.Column('id', sa.String(length=48), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('customer_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('purpose', sa.String(length=30), nullable=False),
    sa.Column('number_sealed', sa.Text(), nullable=True),
    sa.Column('masked', sa.String(length=14), nullable=False),
    sa.Column('vendor', sa.String(length=40), nullable=True),
    sa.Column('vendor_reference', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_aadhaar_vault_brand_id_brands'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_aadhaar_vault_customer_id_customers'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_aadhaar_vault_loan_id_loans'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aadhaar_vault'))
    )
    op.create_index(op.f('ix_aadhaar_vault_customer_id'), 'aadhaar_vault', ['customer_id'], unique=False)
    op.create_index(op.f('ix_aadhaar_vault_loan_id'), 'aadhaar_vault', ['loan_id'], unique=False)
    op.create_index('ix_aadhaar_vault_expires_at_held', 'aadhaar_vault', ['expires_at'], unique=False,
                    postgresql_where=sa.text('number_sealed IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_aadhaar_vault_expires_at_held', table_name='aadhaar_vault',
                  postgresql_where=sa.text('number_sealed IS NOT NULL'))
    op.drop_index(op.f('ix_aadhaar_vault_loan_id'), table_name='aadhaar_vault')
    op.drop_index(op.f('ix_aadhaar_vault_customer_id'), table_name='aadhaar_vault')
    op.drop_table('aadhaar_vault')
