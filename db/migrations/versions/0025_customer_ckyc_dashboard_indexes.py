"""customers' CKYC numbers; indexes for the dashboards

``customers.ckyc_number``: the 14-digit CKYC identifier the KYC pipeline's CKYC step found for the customer,
reported in the bureau files (docs/bureau-reporting.md).

Indexes the dashboard's figures read by (docs/dashboards.md, measured with bench/console.py at 10,000 loans):
installments by due date (current collection efficiency) and the OVERDUE ones by loan (amounts overdue per loan,
a partial index); payments by the time they were collected; the brand's loans by disbursal time; status moves by
the status reached and when (sanctions today and this month).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 17:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('customers', sa.Column('ckyc_number', sa.String(length=14), nullable=True))
    op.create_index('ix_repayment_installments_due_date', 'repayment_installments', ['due_date'])
    op.create_index(
        'ix_repayment_installments_overdue', 'repayment_installments', ['loan_id'],
        postgresql_where=sa.text("status = 'OVERDUE'"),
    )
    op.create_index('ix_payment_transactions_collected_at', 'payment_transactions', ['collected_at'])
    op.create_index('ix_loans_brand_disbursed', 'loans', ['brand_id', 'disbursed_at'])
    op.create_index('ix_loan_status_history_to_status_created', 'loan_status_history', ['to_status', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_loan_status_history_to_status_created', table_name='loan_status_history')
    op.drop_index('ix_loans_brand_disbursed', table_name='loans')
    op.drop_index('ix_payment_transactions_collected_at', table_name='payment_transactions')
    op.drop_index('ix_repayment_installments_overdue', table_name='repayment_installments')
    op.drop_index('ix_repayment_installments_due_date', table_name='repayment_installments')
    op.drop_column('customers', 'ckyc_number')
