"""global search, customer status and the reports bypass

``pg_trgm`` and GIN trigram indexes on ``customers.full_name`` and ``customers.pan_name`` (fuzzy names in the global
search), plain indexes for its exact matches (``customers`` (brand_id, pan) and (brand_id, lower(email)), ``loans``
(brand_id, disbursal_utr)); ``customers.status`` (ACTIVE by default) with its reason; ``loans.reports_bypassed_by``
and ``reports_bypassed_at`` (an admin's audited bypass of the CAM requirement before forwarding).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 06:10:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.add_column('customers', sa.Column('status', sa.String(length=20), server_default='ACTIVE', nullable=False))
    op.add_column('customers', sa.Column('status_reason', sa.Text(), nullable=True))
    op.create_index('ix_customers_brand_pan', 'customers', ['brand_id', 'pan'], unique=False)
    op.create_index('ix_customers_brand_email', 'customers', ['brand_id', sa.text('lower(email)')], unique=False)
    op.create_index('ix_customers_full_name_trgm', 'customers', ['full_name'], unique=False, postgresql_using='gin', postgresql_ops={'full_name': 'gin_trgm_ops'})
    op.create_index('ix_customers_pan_name_trgm', 'customers', ['pan_name'], unique=False, postgresql_using='gin', postgresql_ops={'pan_name': 'gin_trgm_ops'})
    op.add_column('loans', sa.Column('reports_bypassed_by', sa.Uuid(as_uuid=False), nullable=True))
    op.add_column('loans', sa.Column('reports_bypassed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(op.f('fk_loans_reports_bypassed_by_staff_users'), 'loans', 'staff_users', ['reports_bypassed_by'], ['id'], ondelete='RESTRICT')
    op.create_index('ix_loans_brand_utr', 'loans', ['brand_id', 'disbursal_utr'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_loans_brand_utr', table_name='loans')
    op.drop_constraint(op.f('fk_loans_reports_bypassed_by_staff_users'), 'loans', type_='foreignkey')
    op.drop_column('loans', 'reports_bypassed_at')
    op.drop_column('loans', 'reports_bypassed_by')
    op.drop_index('ix_customers_pan_name_trgm', table_name='customers', postgresql_using='gin', postgresql_ops={'pan_name': 'gin_trgm_ops'})
    op.drop_index('ix_customers_full_name_trgm', table_name='customers', postgresql_using='gin', postgresql_ops={'full_name': 'gin_trgm_ops'})
    op.drop_index('ix_customers_brand_email', table_name='customers')
    op.drop_index('ix_customers_brand_pan', table_name='customers')
    op.drop_column('customers', 'status_reason')
    op.drop_column('customers', 'status')
    # pg_trgm stays: other objects of the database may use it, and it is harmless
