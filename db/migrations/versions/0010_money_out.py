"""money out: the beneficiary on every transfer, its outcome and how it was learnt; penny drop age; the signed
agreement and the KFS version it carries

``disbursals`` names the verified account a transfer went to (its id, last 4 digits, IFSC: never the number), the
rail (IMPS/NEFT/RTGS), when the request left for the bank (a transfer sent whose answer was lost is asked about,
never sent again), the bank's failure reason, and whether the outcome came by callback or from the reconciler.
``bank_accounts.verified_at`` dates the last penny drop (re-verified before a transfer when older than the brand's
window). ``loan_agreements`` keeps the signed PDF (key and SHA-256) beside the unsigned one, and the hash of the KFS
version the borrower accepted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 23:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('disbursals', sa.Column('mode', sa.String(length=10), nullable=True))
    op.add_column('disbursals', sa.Column('bank_account_id', sa.Uuid(as_uuid=False), nullable=True))
    op.add_column('disbursals', sa.Column('account_last4', sa.String(length=4), nullable=True))
    op.add_column('disbursals', sa.Column('ifsc', sa.String(length=11), nullable=True))
    op.add_column('disbursals', sa.Column('failure_reason', sa.Text(), nullable=True))
    op.add_column('disbursals', sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('disbursals', sa.Column('outcome_source', sa.String(length=20), nullable=True))
    op.create_index('ix_disbursals_pending', 'disbursals', ['status', 'created_at'], unique=False)
    op.add_column('bank_accounts', sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE bank_accounts SET verified_at = created_at WHERE penny_drop_status = 'VERIFIED'")
    op.add_column('loan_agreements', sa.Column('signed_storage_key', sa.String(length=300), nullable=True))
    op.add_column('loan_agreements', sa.Column('signed_sha256', sa.String(length=64), nullable=True))
    op.add_column('loan_agreements', sa.Column('kfs_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('loan_agreements', 'kfs_hash')
    op.drop_column('loan_agreements', 'signed_sha256')
    op.drop_column('loan_agreements', 'signed_storage_key')
    op.drop_column('bank_accounts', 'verified_at')
    op.drop_index('ix_disbursals_pending', table_name='disbursals')
    for column in ('outcome_source', 'sent_at', 'failure_reason', 'ifsc', 'account_last4', 'bank_account_id', 'mode'):
        op.drop_column('disbursals', column)
