"""co-lending: default-loss guarantee and escrow (each agreement's DLG, its invocations, each collection's
apportionment from the escrow account, the escrow's remittances to the lenders)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 13:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _uuid(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Uuid(as_uuid=False), nullable=nullable)


def _stamp(name: str, nullable: bool = False) -> sa.Column:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete='RESTRICT')


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f'ix_{table}_{column}'), table, [column], unique=False)


def upgrade() -> None:
    op.create_table('colending_dlg',
    _uuid('id'), _uuid('brand_id'), _uuid('partner_id'),
    sa.Column('cover_bps', sa.Integer(), nullable=False),
    sa.Column('set_aside', sa.BigInteger(), nullable=False),
    sa.Column('form', sa.String(length=20), nullable=False),
    sa.Column('invoke_dpd', sa.Integer(), nullable=False),
    _stamp('created_at'), _stamp('updated_at'),
    _fk('colending_dlg', 'brand_id', 'brands'), _fk('colending_dlg', 'partner_id', 'partner_lenders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_dlg')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_colending_dlg_partner_id'))
    )
    _index('colending_dlg', 'brand_id')
    op.create_table('colending_dlg_invocations',
    _uuid('id'), _uuid('brand_id'), _uuid('partner_id'), _uuid('loan_id'),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('loss', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('invoked_on', sa.Date(), nullable=False),
    _stamp('created_at'),
    _fk('colending_dlg_invocations', 'brand_id', 'brands'),
    _fk('colending_dlg_invocations', 'loan_id', 'loans'),
    _fk('colending_dlg_invocations', 'partner_id', 'partner_lenders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_dlg_invocations')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_colending_dlg_invocations_loan_id'))
    )
    _index('colending_dlg_invocations', 'brand_id', 'partner_id')
    op.create_table('colending_escrow_entries',
    _uuid('id'), _uuid('brand_id'), _uuid('partner_id'), _uuid('loan_id'),
    sa.Column('payment_id', sa.String(length=100), nullable=False),
    sa.Column('lender', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    _stamp('created_at'),
    _fk('colending_escrow_entries', 'brand_id', 'brands'),
    _fk('colending_escrow_entries', 'loan_id', 'loans'),
    _fk('colending_escrow_entries', 'partner_id', 'partner_lenders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_escrow_entries')),
    sa.UniqueConstraint('payment_id', 'lender', name=op.f('uq_colending_escrow_entries_payment_id_lender'))
    )
    _index('colending_escrow_entries', 'brand_id', 'loan_id', 'partner_id', 'value_date')
    op.create_table('colending_remittances',
    _uuid('id'), _uuid('brand_id'), _uuid('partner_id'),
    sa.Column('lender', sa.String(length=12), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('remitted_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('recorded_by', sa.String(length=60), nullable=False),
    sa.Column('decided_by', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    _stamp('created_at'), _stamp('decided_at', nullable=True),
    _fk('colending_remittances', 'brand_id', 'brands'),
    _fk('colending_remittances', 'partner_id', 'partner_lenders'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colending_remittances'))
    )
    _index('colending_remittances', 'brand_id', 'partner_id')


def downgrade() -> None:
    for table, columns in (('colending_remittances', ('partner_id', 'brand_id')),
                           ('colending_escrow_entries', ('value_date', 'partner_id', 'loan_id', 'brand_id')),
                           ('colending_dlg_invocations', ('partner_id', 'brand_id')),
                           ('colending_dlg', ('brand_id',))):
        for column in columns:
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        op.drop_table(table)
