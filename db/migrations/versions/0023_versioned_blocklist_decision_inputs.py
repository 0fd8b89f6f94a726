"""The brand's blocklist versioned (one row per change, written by a trigger on blocklist_entries, the existing
entries as its first versions) and what each credit decision ran on (its facts and the policy and blocklist
versions)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 17:10:00.000000
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blocklist_versions',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('brand_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.Uuid(as_uuid=False), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_blocklist_versions_brand_id_brands'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocklist_versions')),
    sa.UniqueConstraint('brand_id', 'version', name=op.f('uq_blocklist_versions_brand_id_version'))
    )
    op.create_index(op.f('ix_blocklist_versions_brand_id'), 'blocklist_versions', ['brand_id'], unique=False)
    op.create_table('credit_decision_inputs',
    sa.Column('id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('loan_id', sa.Uuid(as_uuid=False), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('policy_version', sa.Integer(), nullable=True),
    sa.Column('blocklist_version', sa.Integer(), nullable=False),
    sa.Column('facts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_credit_decision_inputs_loan_id_loans'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_decision_inputs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_credit_decision_inputs_idempotency_key'))
    )
    op.create_index(op.f('ix_credit_decision_inputs_loan_id'), 'credit_decision_inputs', ['loan_id'], unique=False)

    # The entries already listed become each brand's first versions, oldest first (changed_by unknown).
    op.execute("""
        INSERT INTO blocklist_versions (id, brand_id, version, action, kind, value, reason, created_at)
        SELECT gen_random_uuid(), brand_id,
               row_number() OVER (PARTITION BY brand_id ORDER BY created_at, id), 'ADD', kind, value, reason, created_at
          FROM blocklist_entries
    """)
    # Every change to blocklist_entries, however it is made, is the brand's next version. The staff member is the
    # transaction's ``los.actor`` setting (set by the settings routes), else unknown. One writer per brand at a
    # time (a transaction-scoped advisory lock), so versions are gapless and ordered.
    op.execute("""
        CREATE FUNCTION blocklist_version_change() RETURNS trigger AS $$
        DECLARE actor uuid; row_brand uuid; next_version int;
        BEGIN
            actor := NULLIF(current_setting('los.actor', true), '')::uuid;
            IF TG_OP = 'DELETE' THEN row_brand := OLD.brand_id; ELSE row_brand := NEW.brand_id; END IF;
            PERFORM pg_advisory_xact_lock(hashtextextended('blocklist_versions:' || row_brand::text, 0));
            SELECT COALESCE(MAX(version), 0) + 1 INTO next_version
              FROM blocklist_versions WHERE brand_id = row_brand;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                INSERT INTO blocklist_versions (id, brand_id, version, action, kind, value, reason, changed_by)
                VALUES (gen_random_uuid(), OLD.brand_id, next_version, 'REMOVE', OLD.kind, OLD.value, OLD.reason,
                        actor);
                next_version := next_version + 1;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO blocklist_versions (id, brand_id, version, action, kind, value, reason, changed_by)
                VALUES (gen_random_uuid(), NEW.brand_id, next_version, 'ADD', NEW.kind, NEW.value, NEW.reason, actor);
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql;
    """)
    op.execute("""
        CREATE TRIGGER blocklist_entries_versioned
        AFTER INSERT OR DELETE OR UPDATE OF brand_id, kind, value ON blocklist_entries
        FOR EACH ROW EXECUTE FUNCTION blocklist_version_change();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS blocklist_entries_versioned ON blocklist_entries")
    op.execute("DROP FUNCTION IF EXISTS blocklist_version_change()")
    op.drop_index(op.f('ix_credit_decision_inputs_loan_id'), table_name='credit_decision_inputs')
    op.drop_table('credit_decision_inputs')
    op.drop_index(op.f('ix_blocklist_versions_brand_id'), table_name='blocklist_versions')
    op.drop_table('blocklist_versions')
