"""The brand's blocklist versioned (placeholder)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 17:10:00.000000
"""

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
