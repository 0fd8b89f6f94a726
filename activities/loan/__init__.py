"""Activities of the loan workflow, one module per concept. Thin: call one provider or write one fact, idempotently.

- ``status``: a status move with its history, audit, assignment and staff notifications (``record_status``)
- ``origination``: PAN and bureau of loans started before the KYC phase, and the agreement with its eSign
- ``disbursal``: the bank transfer and, once settled, the ledger, the schedule and the loan's balances
- ``links``: the payment link for the amount due on an installment, at the brand's gateways with failover
- ``repayment``: payments, penal charges, overdue installments and delinquency
- ``servicing_decisions``: settlements, penal waivers, restructures, and the postings of a SETTLED or WRITTEN_OFF end
- ``collections``: allocation of a loan in arrears by bucket, and promises to pay broken at a day-end
- ``closure_docs``: the closure certificate (NDC/NOC) and the reloan offer at closure
- ``redelivery``: stored payment events never delivered to their loan (the payment redelivery's)
- ``common``: the base class (clients, provider calls, customer messages) and shared helpers
- ``queries``: the SQL, one named function per aggregate and question

Every write is keyed so a retried activity (worker crash, timeout) finds its own earlier work and
does not repeat it: status history by (loan, seq), provider calls and ledger transactions by
idempotency key, payments by the gateway's payment id.

The workflow calls each activity as ``LoanActivities.<method>``, and recorded histories name them by method:
a method keeps its name wherever it lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.loan.accounting import AccountingActivities
from activities.loan.closure_docs import ClosureDocActivities
from activities.loan.collections import CollectionActivities
from activities.loan.disbursal import DisbursalActivities
from activities.loan.links import LinkActivities
from activities.loan.mandates import MandateActivities
from activities.loan.origination import OriginationActivities
from activities.loan.receipt_docs import ReceiptDocActivities
from activities.loan.redelivery import RedeliveryActivities
from activities.loan.repayment import RepaymentActivities
from activities.loan.servicing_decisions import ServicingDecisionActivities
from activities.loan.status import StatusActivities
from activities.receipts import ReceiptActivities

__all__ = ["LoanActivities"]


class LoanActivities(
    StatusActivities,
    OriginationActivities,
    DisbursalActivities,
    LinkActivities,
    RepaymentActivities,
    ReceiptActivities,
    ReceiptDocActivities,
    RedeliveryActivities,
    MandateActivities,
    AccountingActivities,
    ServicingDecisionActivities,
    CollectionActivities,
    ClosureDocActivities,
):
    """Every loan activity the worker registers (``all()``), receipts included."""

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_status,
            self.verify_pan,
            self.pull_bureau,
            self.prepare_agreement,
            self.record_agreement_outcome,
            self.store_signed_agreement,
            self.cancel_docket,
            self.initiate_disbursal,
            self.record_transfer_failure,
            self.find_stale_transfers,
            self.check_transfer,
            self.record_disbursal,
            self.notify_disbursed,
            self.ensure_payment_link,
            self.record_payment,
            self.mark_overdue,
            self.levy_penal,
            self.record_delinquency,
            self.park_payment,
            self.record_credit_balance,
            self.record_mandate_event,
            self.notify_mandate_debit,
            self.charge_mandate,
            self.find_mandate_debit,
            self.record_debit_outcome,
            self.accrue_interest,
            self.record_closure,
            self.issue_receipt,
            self.issue_receipt_and_notify,
            self.payments_without_receipt,
            self.undelivered_payments,
            self.keep_undelivered_payment,
            self.mark_payment_delivered,
            self.record_servicing_decision,
            self.record_closing_postings,
            self.settlement_link,
            self.review_collection,
            self.issue_closure_certificate,
            self.offer_reloan,
        ]
