"""A credit that reaches a financed invoice's workflow once the invoice is settled (PAID, or closing): counted
exactly once, applied to the invoice's dues still left, the rest kept as the business's credit balance, refundable
(docs/invoice-financing.md, "A credit while the invoice is settled"; the rule and SQL in
``db.sme_credit_balances``)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from temporalio import activity

from activities.sme.common import SmeBase, loaded
from db.sme_credit_balances import keep_late_credit
from workflows.invoice_contracts import LateCredit, LateCreditKept


class SmeLateCredits(SmeBase):
    """``sme_record_late_credit``."""

    @activity.defn(name="sme_record_late_credit")
    async def record_late_credit(self, credit: LateCredit) -> LateCreditKept:
        """Count ``credit`` once (by its payment id) on the request: a payment, its part up to the dues left applied,
        the rest the business's credit balance. A retry, or the same payment counted before, changes nothing."""

        def write(session: Session) -> LateCreditKept:
            request = loaded(credit.request_id, lock=True)(session).request
            kept = keep_late_credit(
                session, request, payment_id=credit.payment_id, amount=credit.amount, source=credit.source,
                paid_at=credit.paid_at, received_while=credit.received_while,
            )  # fmt: skip
            return LateCreditKept(kept.applied, kept.kept, kept.counted)

        return await self._tx(write)


__all__ = ["SmeLateCredits"]
