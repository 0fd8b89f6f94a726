"""aa_consents.loan_id index

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 21:40:00.000000
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The bank-statement KYC step reads a loan's latest consent by loan (activities.kyc.queries.latest_consent):
    # without an index each read scanned every consent of every brand.
    op.create_index('ix_aa_consents_loan_id', 'aa_consents', ['loan_id'])


def downgrade() -> None:
    op.drop_index('ix_aa_consents_loan_id', table_name='aa_consents')
