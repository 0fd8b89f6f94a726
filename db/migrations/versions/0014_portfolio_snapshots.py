"""portfolio snapshots

``portfolio_snapshots``: the brand's portfolio summary (AUM, PAR 30/60/90, GNPA, disbursals, collections, current
collection efficiency, written off, settled) as of the day-end of one IST date, one row per brand and date, written
by the daily ``portfolio-snapshot`` schedule.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 06:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portfolio_snapshots',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_portfolio_snapshots_brand_id_brands'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolio_snapshots')),
    sa.UniqueConstraint('brand_id', 'as_of', name=op.f('uq_portfolio_snapshots_brand_id_as_of')),
    )
    op.create_index(op.f('ix_portfolio_snapshots_brand_id'), 'portfolio_snapshots', ['brand_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_portfolio_snapshots_brand_id'), table_name='portfolio_snapshots')
    op.drop_table('portfolio_snapshots')
