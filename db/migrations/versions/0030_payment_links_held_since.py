"""payment_links.held_since: a paid link's successor held back while its payment is on the way

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 20:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A link the borrower paid just as the loan superseded it (the gateway refuses to cancel it) keeps its successor
    # back until its payment reaches the loan, for at most the gateways' webhook retry window counted from here
    # (activities.loan.link_holds, status HELD). NULL: never held.
    op.add_column('payment_links', sa.Column('held_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('payment_links', 'held_since')
