"""customers' CKYC numbers (placeholder)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 17:45:00.000000
"""

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
