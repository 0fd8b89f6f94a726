"""The invoice financing workflow's collection account and the credits staff record (docs/invoice-financing.md,
"Collection").

- When the advance is paid, a virtual account is opened for the request (``sme_open_virtual_account``) and its
  number is sent to the business with the payment link; the buyer pays into it by NEFT, RTGS or IMPS, and each
  credit reaches the workflow as ``buyer_paid`` (payment id the UTR's credit key, so one transfer counts once). The
  account is closed when the request closes. Requests funded before this (patch :data:`VIRTUAL_ACCOUNT_PATCH`) keep
  their recorded path: no account.
- Money the buyer paid outside it (to the lender's account) is recorded by one staff member and approved by another
  in the API; the approval is the update ``record_credit``: refused 404 (another brand), 409 (not collecting, paid
  in full already, or that UTR already counted), 422 (amount); taken, it is a payment like any other.
- A credit that reaches the workflow once the invoice is settled (PAID, the reserve being released, or closing) is
  counted exactly once (``sme_record_late_credit``): applied to the invoice's dues still left, the rest kept as the
  business's refundable credit balance. Before patch :data:`LATE_CREDIT_PATCH` it stayed in the stored events only.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.invoice_base import S, fresh, refuse
from workflows.invoice_money import InvoiceMoney

with workflow.unsafe.imports_passed_through():
    from domain.sme.credits import source
    from workflows.contracts import sme as c
    from workflows.invoice_contracts import LateCredit, LateCreditKept, StaffCredit, VirtualAccountOpened

VIRTUAL_ACCOUNT_PATCH = "sme-virtual-account-v1"
LATE_CREDIT_PATCH = "sme-late-credit-v1"  # a credit arriving while the invoice is settled is counted
COLLECTING = frozenset({S.FUNDED, S.OVERDUE})


class InvoiceCollect(InvoiceMoney):
    """The collection account (opened at FUNDED, closed at CLOSED) and ``record_credit``."""

    async def _open_account(self) -> None:
        """Open the request's virtual account (best effort: without one the buyer still pays by the link, and
        staff can record a credit)."""
        if not workflow.patched(VIRTUAL_ACCOUNT_PATCH):
            return
        try:
            await self._provider("sme_open_virtual_account", VirtualAccountOpened)
        except ActivityError as exc:
            workflow.logger.warning("request %s: no virtual account: %s", self.inp.request_id, exc.cause or exc)

    async def _close_account(self) -> None:
        """Close the virtual account once the invoice is settled (best effort: a vendor fault is logged)."""
        if not workflow.patched(VIRTUAL_ACCOUNT_PATCH):
            return
        try:
            await self._provider("sme_close_virtual_account", str)
        except ActivityError as exc:
            workflow.logger.warning("request %s: virtual account not closed: %s", self.inp.request_id, exc)

    async def _late_credits(self) -> None:
        """Count each credit that reached the workflow once the invoice was settled, once: its payment id recorded,
        applied to the dues left, the rest the business's credit balance (``sme_record_late_credit``)."""
        s = self.state
        if not s.pending or not workflow.patched(LATE_CREDIT_PATCH):
            return
        while s.pending:
            p = s.pending[0]
            credit = LateCredit(self.inp.request_id, p.payment_id, p.amount, p.paid_at, p.source, str(s.status))
            kept: LateCreditKept = await self._db("sme_record_late_credit", credit, LateCreditKept)
            s.pending.pop(0)
            s.payments.append(p.payment_id)
            if kept.counted:
                s.collected += p.amount

    @workflow.update
    def record_credit(self, credit: StaffCredit) -> dict:
        """A credit staff recorded and another approved: queued as a payment (``OFFLINE:<mode>``) that the
        collection loop records and counts. Answers the status and the amount collected before it."""
        paid = c.BuyerPayment(credit.payment_id, credit.amount, credit.paid_at, source("OFFLINE", credit.mode))
        self.state.pending.append(paid)
        return {"status": self.state.status, "collectedPaise": self.state.collected}

    @record_credit.validator
    def _check_credit(self, credit: StaffCredit) -> None:
        fresh(credit.expires_at)
        if credit.brand_id != self.inp.brand_id:
            raise refuse("NotFound", "request not found")
        if self.state.status not in COLLECTING:
            raise refuse("Conflict", f"the request is {self.state.status}; only a funded invoice takes a credit")
        if self.state.collected >= self.inp.amount:  # being settled: a credit now would not be counted
            raise refuse("Conflict", "the invoice is already paid in full")
        if credit.amount <= 0:
            raise ApplicationError("must be more than zero", {"field": "amount"}, type="ValidationError")
        seen = set(self.state.payments) | {p.payment_id for p in self.state.pending}
        if credit.payment_id in seen:
            raise refuse("Conflict", "this UTR was already counted towards the invoice")
