"""bank account numbers sealed

Account numbers move from clear text to an encrypted token (los.crypto.seal), a keyed fingerprint (to find and
deduplicate them) and the last 4 digits (to show them). Existing rows are converted with the deployment's
field secret (LOS_FIELD_SECRET, else LOS_JWT_SECRET), the same key the API and the worker use.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 02:11:58.122727
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PURPOSE = "bank-account"  # activities.kyc.BANK_ACCOUNT


def _key() -> bytes:
    from los.settings import get_settings

    return get_settings().field_key()


def upgrade() -> None:
    from los.crypto import fingerprint, seal

    op.add_column('bank_accounts', sa.Column('account_sealed', sa.Text(), nullable=True))
    op.add_column('bank_accounts', sa.Column('account_fingerprint', sa.String(length=64), nullable=True))
    op.add_column('bank_accounts', sa.Column('account_last4', sa.String(length=4), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, account_number FROM bank_accounts")).all()
    if rows:
        key = _key()
        for row_id, number in rows:
            conn.execute(
                sa.text(
                    "UPDATE bank_accounts SET account_sealed = :s, account_fingerprint = :f, account_last4 = :l "
                    "WHERE id = :id"
                ),
                {"s": seal(key, PURPOSE, number), "f": fingerprint(key, PURPOSE, number), "l": number[-4:], "id": row_id},
            )
    for column in ('account_sealed', 'account_fingerprint', 'account_last4'):
        op.alter_column('bank_accounts', column, nullable=False)
    op.drop_constraint(op.f('uq_bank_accounts_customer_id_account_number_ifsc'), 'bank_accounts', type_='unique')
    op.create_index(op.f('ix_bank_accounts_account_fingerprint'), 'bank_accounts', ['account_fingerprint'], unique=False)
    op.create_unique_constraint(
        op.f('uq_bank_accounts_customer_id_account_fingerprint_ifsc'),
        'bank_accounts',
        ['customer_id', 'account_fingerprint', 'ifsc'],
    )
    op.drop_column('bank_accounts', 'account_number')


def downgrade() -> None:
    from los.crypto import unseal

    op.add_column('bank_accounts', sa.Column('account_number', sa.VARCHAR(length=20), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, account_sealed FROM bank_accounts")).all()
    if rows:
        key = _key()
        for row_id, sealed in rows:
            number = unseal(key, PURPOSE, sealed)
            if number is None:
                raise RuntimeError(f"bank account {row_id}: cannot decrypt with this deployment's secret")
            conn.execute(sa.text("UPDATE bank_accounts SET account_number = :n WHERE id = :id"), {"n": number, "id": row_id})
    op.alter_column('bank_accounts', 'account_number', nullable=False)
    op.drop_constraint(op.f('uq_bank_accounts_customer_id_account_fingerprint_ifsc'), 'bank_accounts', type_='unique')
    op.drop_index(op.f('ix_bank_accounts_account_fingerprint'), table_name='bank_accounts')
    op.create_unique_constraint(
        op.f('uq_bank_accounts_customer_id_account_number_ifsc'), 'bank_accounts', ['customer_id', 'account_number', 'ifsc']
    )
    op.drop_column('bank_accounts', 'account_last4')
    op.drop_column('bank_accounts', 'account_fingerprint')
    op.drop_column('bank_accounts', 'account_sealed')
