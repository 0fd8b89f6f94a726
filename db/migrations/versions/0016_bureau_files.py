"""bureau files

``bureau_files``: the submission files to the credit information companies (CIBIL's TUDF layout), one per brand and
RBI reference date (INCREMENTAL as on the 9th, 16th and 23rd; FULL as on the month's last day), with their due
date, status, counts and content; ``bureau_file_records``: the accounts each file carries, the state reported (to
tell a change next time), validation errors, and the CIC's rejections to resubmit (docs/bureau-reporting.md).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:55:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bureau_files',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=12), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('invalid_records', sa.Integer(), nullable=False),
    sa.Column('rejected_records', sa.Integer(), nullable=False),
    sa.Column('resubmitted_records', sa.Integer(), nullable=False),
    sa.Column('header_errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=True),
    sa.Column('created_by', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_bureau_files_brand_id_brands'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_files')),
    sa.UniqueConstraint('brand_id', 'reference_date', name=op.f('uq_bureau_files_brand_id_reference_date')),
    )
    op.create_index(op.f('ix_bureau_files_brand_id'), 'bureau_files', ['brand_id'], unique=False)
    op.create_table('bureau_file_records',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('file_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('account_number', sa.String(length=25), nullable=False),
    sa.Column('reference_date', sa.Date(), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resubmit', sa.Boolean(), nullable=False),
    sa.Column('resubmitted_in', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_bureau_file_records_brand_id_brands'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['file_id'], ['bureau_files.id'], name=op.f('fk_bureau_file_records_file_id_bureau_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_bureau_file_records_loan_id_loans'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resubmitted_in'], ['bureau_files.id'], name=op.f('fk_bureau_file_records_resubmitted_in_bureau_files'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_file_records')),
    sa.UniqueConstraint('file_id', 'loan_id', name=op.f('uq_bureau_file_records_file_id_loan_id')),
    )
    op.create_index(op.f('ix_bureau_file_records_file_id'), 'bureau_file_records', ['file_id'], unique=False)
    op.create_index(op.f('ix_bureau_file_records_loan_id'), 'bureau_file_records', ['loan_id'], unique=False)
    op.create_index('ix_bureau_file_records_brand_resubmit', 'bureau_file_records', ['brand_id', 'resubmit'], unique=False)
    op.create_index('ix_bureau_file_records_brand_loan_ref', 'bureau_file_records', ['brand_id', 'loan_id', 'reference_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bureau_file_records_brand_loan_ref', table_name='bureau_file_records')
    op.drop_index('ix_bureau_file_records_brand_resubmit', table_name='bureau_file_records')
    op.drop_index(op.f('ix_bureau_file_records_loan_id'), table_name='bureau_file_records')
    op.drop_index(op.f('ix_bureau_file_records_file_id'), table_name='bureau_file_records')
    op.drop_table('bureau_file_records')
    op.drop_index(op.f('ix_bureau_files_brand_id'), table_name='bureau_files')
    op.drop_table('bureau_files')
