"""document_sequences: a counter per brand and prefix for receipt and certificate numbers

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 04:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Receipt and closure-certificate numbers were the max() of the brand's numbers of the year plus one, under an
    # advisory lock: a read that grew with every receipt of the year. A counter row per brand and prefix
    # (db/numbering.py) costs the same at any size; it starts from the numbers already issued.
    op.create_table('document_sequences',
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('prefix', sa.String(length=40), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_document_sequences_brand_id_brands'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('brand_id', 'prefix', name=op.f('pk_document_sequences'))
    )
    op.execute(
        """
        INSERT INTO document_sequences (brand_id, prefix, last_value)
        SELECT brand_id, prefix, max(seq) FROM (
            SELECT l.brand_id, regexp_replace(p.receipt_no, '[0-9]+$', '') AS prefix,
                   substring(p.receipt_no FROM '([0-9]+)$')::bigint AS seq
            FROM payment_transactions p JOIN loans l ON l.id = p.loan_id
            WHERE p.receipt_no ~ '/[0-9]+$'
            UNION ALL
            SELECT c.brand_id, regexp_replace(c.certificate_no, '[0-9]+$', ''),
                   substring(c.certificate_no FROM '([0-9]+)$')::bigint
            FROM closure_certificates c
            WHERE c.certificate_no ~ '/[0-9]+$'
        ) issued
        GROUP BY brand_id, prefix
        """
    )


def downgrade() -> None:
    op.drop_table('document_sequences')
