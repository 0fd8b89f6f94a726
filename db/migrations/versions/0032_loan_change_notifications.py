"""Loan change notifications: a NOTIFY on channel los_loan_changed (payload: the loan id) when a loan's detail changes

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 03:00:00.000000
"""
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

CHANNEL = 'los_loan_changed'
# The tables a loan's detail (customer and staff) is read from, and the column naming the loan in each.
TABLES = {
    'loans': 'id',
    'loan_status_history': 'loan_id',
    'repayment_installments': 'loan_id',
    'loan_agreements': 'loan_id',
    'payment_links': 'loan_id',
    'payment_transactions': 'loan_id',
    'refunds': 'loan_id',
    'parked_payments': 'loan_id',
    'bureau_reports': 'loan_id',
}


def _function(column: str) -> str:
    return f'''
CREATE OR REPLACE FUNCTION los_notify_loan_changed_by_{column}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Delivered at commit, once per loan and transaction (PostgreSQL folds identical notifications of one
    -- transaction); nothing is sent for a transaction that rolls back. The API's long-poll reads listen
    -- (api/loan_changes.py). `ALTER DATABASE ... SET los.loan_change_notifications = off` stops them in sessions
    -- opened after it (docs/runbook.md).
    IF lower(coalesce(current_setting('los.loan_change_notifications', true), 'on')) IN ('off', 'false', '0', 'no') THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.{column} IS NOT NULL THEN
        PERFORM pg_notify('{CHANNEL}', OLD.{column}::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.{column} IS NOT NULL THEN
        PERFORM pg_notify('{CHANNEL}', NEW.{column}::text);
    END IF;
    RETURN NULL;
END $$;
'''


def upgrade() -> None:
    for column in sorted(set(TABLES.values())):
        op.execute(_function(column))
    for name, column in TABLES.items():
        op.execute(
            f'CREATE TRIGGER los_loan_changed AFTER INSERT OR DELETE ON {name} '
            f'FOR EACH ROW EXECUTE FUNCTION los_notify_loan_changed_by_{column}()'
        )
        # An UPDATE that changes nothing (a row written again as it was, as raw SQL may) notifies nothing; the ORM's
        # writes of loans and refunds also set updated_at, so theirs always notify. Comparing whole rows needs an
        # equality operator for every column: a json, xml or point column on one of these tables would fail its
        # updates (jsonb is fine).
        op.execute(
            f'CREATE TRIGGER los_loan_changed_update AFTER UPDATE ON {name} '
            f'FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION los_notify_loan_changed_by_{column}()'
        )


def downgrade() -> None:
    for name in TABLES:
        op.execute(f'DROP TRIGGER IF EXISTS los_loan_changed_update ON {name}')
        op.execute(f'DROP TRIGGER IF EXISTS los_loan_changed ON {name}')
    for column in sorted(set(TABLES.values())):
        op.execute(f'DROP FUNCTION IF EXISTS los_notify_loan_changed_by_{column}()')
