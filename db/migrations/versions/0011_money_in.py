"""money in: gateway payment attempts, offline payments, mandates and debits, refunds, the customer message log
and templates; receipts on payments; the ledger's value dates; how a loan closed

``payment_attempts`` keeps every gateway payment as reported (captured or failed; a failed one changes no dues).
``offline_payments`` wait for a second person's approval. ``mandates``/``mandate_debits`` are autopay. ``refunds``
return a credit balance after approval. ``customer_messages`` is the delivery log, ``message_templates`` the
brand's templates. ``ledger_transactions.value_date`` (backfilled from the IST date of ``created_at``) dates each
transaction for ledgers as of a date. ``payment_links.purpose`` tells installment links from those a borrower asks
for; ``loans.closed_as`` records REPAID, FORECLOSED or COOLING_OFF_EXIT.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:00:02.987022
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("brand_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("dlt_template_id", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_message_templates_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["staff_users.id"],
            name=op.f("fk_message_templates_updated_by_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("brand_id", "event", "kind", name=op.f("uq_message_templates_brand_id_event_kind")),
    )
    op.create_index(op.f("ix_message_templates_brand_id"), "message_templates", ["brand_id"], unique=False)
    op.create_table(
        "customer_messages",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("brand_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("customer_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("vendor", sa.String(length=40), nullable=True),
        sa.Column("template_id", sa.String(length=60), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("vendor_message_id", sa.String(length=120), nullable=True),
        sa.Column("attempts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_customer_messages_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_messages_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_customer_messages_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_customer_messages_idempotency_key")),
    )
    op.create_index(op.f("ix_customer_messages_brand_id"), "customer_messages", ["brand_id"], unique=False)
    op.create_index(op.f("ix_customer_messages_customer_id"), "customer_messages", ["customer_id"], unique=False)
    op.create_index(op.f("ix_customer_messages_loan_id"), "customer_messages", ["loan_id"], unique=False)
    op.create_index(
        op.f("ix_customer_messages_vendor_message_id"), "customer_messages", ["vendor_message_id"], unique=False
    )
    op.create_table(
        "mandates",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("customer_ref", sa.String(length=80), nullable=True),
        sa.Column("order_id", sa.String(length=80), nullable=True),
        sa.Column("token_id", sa.String(length=80), nullable=True),
        sa.Column("registration_url", sa.Text(), nullable=True),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_mandates_loan_id_loans"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandates")),
        sa.UniqueConstraint("order_id", name=op.f("uq_mandates_order_id")),
    )
    op.create_index(op.f("ix_mandates_loan_id"), "mandates", ["loan_id"], unique=False)
    op.create_table(
        "offline_payments",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("brand_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("proof_key", sa.String(length=300), nullable=True),
        sa.Column("proof_sha256", sa.String(length=64), nullable=True),
        sa.Column("proof_content_type", sa.String(length=100), nullable=True),
        sa.Column("recorded_by", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_offline_payments_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["staff_users.id"],
            name=op.f("fk_offline_payments_decided_by_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_offline_payments_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["staff_users.id"],
            name=op.f("fk_offline_payments_recorded_by_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_payments")),
        sa.UniqueConstraint("brand_id", "reference", name=op.f("uq_offline_payments_brand_id_reference")),
    )
    op.create_index(op.f("ix_offline_payments_brand_id"), "offline_payments", ["brand_id"], unique=False)
    op.create_index(op.f("ix_offline_payments_loan_id"), "offline_payments", ["loan_id"], unique=False)
    op.create_table(
        "payment_attempts",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("brand_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_payment_id", sa.String(length=80), nullable=False),
        sa.Column("order_id", sa.String(length=80), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("mandate_debit_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_payment_attempts_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_payment_attempts_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint(
            "gateway", "gateway_payment_id", name=op.f("uq_payment_attempts_gateway_gateway_payment_id")
        ),
    )
    op.create_index(op.f("ix_payment_attempts_brand_id"), "payment_attempts", ["brand_id"], unique=False)
    op.create_index(op.f("ix_payment_attempts_loan_id"), "payment_attempts", ["loan_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("brand_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("decided_by", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("bank_account_id", sa.Uuid(as_uuid=False), nullable=True),
        sa.Column("account_last4", sa.String(length=4), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=True),
        sa.Column("transfer_id", sa.String(length=80), nullable=True),
        sa.Column("utr", sa.String(length=40), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name=op.f("fk_refunds_brand_id_brands"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff_users.id"], name=op.f("fk_refunds_decided_by_staff_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_refunds_loan_id_loans"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["staff_users.id"], name=op.f("fk_refunds_requested_by_staff_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_refunds_transfer_id")),
    )
    op.create_index(op.f("ix_refunds_brand_id"), "refunds", ["brand_id"], unique=False)
    op.create_index(op.f("ix_refunds_loan_id"), "refunds", ["loan_id"], unique=False)
    op.create_table(
        "mandate_debits",
        sa.Column("id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("mandate_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("loan_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("installment_no", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("charge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.String(length=80), nullable=True),
        sa.Column("payment_id", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_mandate_debits_loan_id_loans"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"], ["mandates.id"], name=op.f("fk_mandate_debits_mandate_id_mandates"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate_debits")),
        sa.UniqueConstraint(
            "loan_id", "installment_no", "attempt", name=op.f("uq_mandate_debits_loan_id_installment_no_attempt")
        ),
    )
    op.create_index(op.f("ix_mandate_debits_loan_id"), "mandate_debits", ["loan_id"], unique=False)
    op.create_index(op.f("ix_mandate_debits_mandate_id"), "mandate_debits", ["mandate_id"], unique=False)
    op.add_column("ledger_transactions", sa.Column("value_date", sa.Date(), nullable=True))
    op.execute("UPDATE ledger_transactions SET value_date = (created_at AT TIME ZONE 'Asia/Kolkata')::date")
    op.create_index(op.f("ix_ledger_transactions_value_date"), "ledger_transactions", ["value_date"], unique=False)
    op.add_column("loans", sa.Column("closed_as", sa.String(length=30), nullable=True))
    op.add_column(
        "payment_links", sa.Column("purpose", sa.String(length=20), server_default="INSTALLMENT", nullable=False)
    )
    op.drop_constraint("uq_payment_links_loan_id_installment_no_amount", "payment_links", type_="unique")
    op.create_unique_constraint(
        "uq_payment_links_loan_id_installment_no_amount_purpose",
        "payment_links",
        ["loan_id", "installment_no", "amount", "purpose"],
    )
    op.add_column("payment_transactions", sa.Column("mode", sa.String(length=20), nullable=True))
    op.add_column("payment_transactions", sa.Column("reference", sa.String(length=80), nullable=True))
    op.add_column("payment_transactions", sa.Column("outstanding_after", sa.BigInteger(), nullable=True))
    op.add_column("payment_transactions", sa.Column("receipt_no", sa.String(length=40), nullable=True))
    op.add_column("payment_transactions", sa.Column("receipt_key", sa.String(length=300), nullable=True))
    op.create_unique_constraint(op.f("uq_payment_transactions_receipt_no"), "payment_transactions", ["receipt_no"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_payment_transactions_receipt_no"), "payment_transactions", type_="unique")
    op.drop_column("payment_transactions", "receipt_key")
    op.drop_column("payment_transactions", "receipt_no")
    op.drop_column("payment_transactions", "outstanding_after")
    op.drop_column("payment_transactions", "reference")
    op.drop_column("payment_transactions", "mode")
    op.drop_constraint("uq_payment_links_loan_id_installment_no_amount_purpose", "payment_links", type_="unique")
    op.create_unique_constraint(
        "uq_payment_links_loan_id_installment_no_amount", "payment_links", ["loan_id", "installment_no", "amount"]
    )
    op.drop_column("payment_links", "purpose")
    op.drop_column("loans", "closed_as")
    op.drop_index(op.f("ix_ledger_transactions_value_date"), table_name="ledger_transactions")
    op.drop_column("ledger_transactions", "value_date")
    op.drop_index(op.f("ix_mandate_debits_mandate_id"), table_name="mandate_debits")
    op.drop_index(op.f("ix_mandate_debits_loan_id"), table_name="mandate_debits")
    op.drop_table("mandate_debits")
    op.drop_index(op.f("ix_refunds_loan_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_brand_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_payment_attempts_loan_id"), table_name="payment_attempts")
    op.drop_index(op.f("ix_payment_attempts_brand_id"), table_name="payment_attempts")
    op.drop_table("payment_attempts")
    op.drop_index(op.f("ix_offline_payments_loan_id"), table_name="offline_payments")
    op.drop_index(op.f("ix_offline_payments_brand_id"), table_name="offline_payments")
    op.drop_table("offline_payments")
    op.drop_index(op.f("ix_mandates_loan_id"), table_name="mandates")
    op.drop_table("mandates")
    op.drop_index(op.f("ix_customer_messages_vendor_message_id"), table_name="customer_messages")
    op.drop_index(op.f("ix_customer_messages_loan_id"), table_name="customer_messages")
    op.drop_index(op.f("ix_customer_messages_customer_id"), table_name="customer_messages")
    op.drop_index(op.f("ix_customer_messages_brand_id"), table_name="customer_messages")
    op.drop_table("customer_messages")
    op.drop_index(op.f("ix_message_templates_brand_id"), table_name="message_templates")
    op.drop_table("message_templates")
