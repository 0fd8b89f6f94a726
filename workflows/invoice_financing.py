"""SME invoice financing: one workflow per financing request, id ``invoice-<requestId>`` (docs/invoice-financing.md).

```
SUBMITTED → CHECKING: duplicate? business verified? buyer verified? risk score → offers (domain.sme.matching)
          → OFFERED: the business accepts one (update accept_offer) before the offers expire
          → APPROVAL_PENDING: maker then checker (update decide; the same person may not be both)
          → DISBURSING: the advance to the seller (bank callback signal or the bank's status API)
          → FUNDED: the buyer's payment link; a reminder before the due date
          → OVERDUE after the due date's day-end (collections queue, reminders) until the buyer pays
          → PAID: settlement (late charge from the reserve) → the reserve released → CLOSED
```

A check that says no REFUSES the request with its reason; a vendor down past its retries or a bank refusing a
transfer parks it in NEEDS_ATTENTION until staff RETRY (update resume); no provider's no fails the workflow.
Side effects are activities (``activities.sme``) called by name; rules are ``domain.sme``.

The phases live in their own modules: ``invoice_base`` (state, moves, activity calls), ``invoice_checks`` (checks,
score, offers), ``invoice_money`` (advance, collection, settlement, reserve), ``invoice_collect`` (the virtual
account, staff-recorded credits); this module is the workflow's face: its query, signals, updates and run loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.invoice_base import CHECKS, RESERVE, RETURN_TO, S, fresh, refuse
from workflows.invoice_checks import InvoiceChecks
from workflows.invoice_collect import InvoiceCollect

with workflow.unsafe.imports_passed_through():
    import workflows.contracts.sme  # noqa: F401  (pydantic resolves the contracts' annotations through it)
    import workflows.invoice_contracts  # noqa: F401  (the same, for the collection account's and credits')
    from domain.sme.status import FINAL
    from workflows.contracts import sme as c

#: What the run does in each status (the statuses staff or the business move on are waited out).
STEPS = {S.SUBMITTED: "_checks", S.CHECKING: "_checks", S.OFFERED: "_offered", S.APPROVAL_PENDING: "_until_moved",
         S.NEEDS_ATTENTION: "_until_moved", S.DISBURSING: "_disburse", S.FUNDED: "_collect", S.OVERDUE: "_collect",
         S.PAID: "_release_reserve"}  # fmt: skip


@workflow.defn
class InvoiceFinancingWorkflow(InvoiceChecks, InvoiceCollect):
    """One invoice's financing request, from the checks to the reserve released. Answers its final state."""

    @workflow.init
    def __init__(self, inp: c.InvoiceFinancingInput) -> None:
        """The input and state are set before any handler runs: an update or signal that arrives with the workflow's
        first task is checked against this request's brand and status, not a placeholder's (a staff credit sent as
        the request started was refused "request not found")."""
        super().__init__()
        self.inp = inp
        if inp.state is not None:
            self.state = inp.state

    @workflow.query
    def status(self) -> c.InvoiceState:
        """The request's state as the workflow sees it."""
        return self.state

    @workflow.signal
    def buyer_paid(self, payment: c.BuyerPayment) -> None:
        """A credit from the buyer (gateway webhook, virtual account, bank callback); a payment id seen twice
        counts once; a non-positive amount is ignored."""
        seen = set(self.state.payments) | {p.payment_id for p in self.state.pending}
        if payment.amount > 0 and payment.payment_id not in seen:
            self.state.pending.append(payment)

    @workflow.signal
    def transfer_event(self, event: c.TransferEvent) -> None:
        """The bank's word on the advance or the reserve: a final one (SUCCESS, FAILED) for a known kind is
        kept; CHECK (a bank callback that does not say which transfer) makes the wait ask the bank's status API."""
        if event.kind in ("ADVANCE", RESERVE) and event.status in ("SUCCESS", "FAILED"):
            self.transfers[event.kind] = event
        elif event.status == "CHECK":
            self.nudged = True

    @workflow.update
    async def accept_offer(self, acceptance: c.OfferAcceptance) -> dict:
        """The business accepts an offer: APPROVAL_PENDING (staff maker-checker). Answers the new status."""
        self._claim()
        offer = next(o for o in self.state.offers if o.lender_id == acceptance.lender_id)
        self.state.accepted = offer
        await self._db("sme_record_acceptance", c.AcceptedRecord(self.inp.request_id, lender_id=offer.lender_id))
        return await self._release_after(S.APPROVAL_PENDING)

    @accept_offer.validator
    def _check_accept(self, acceptance: c.OfferAcceptance) -> None:
        fresh(acceptance.expires_at)
        self._allowed(acceptance.business_id == self.inp.business_id, {S.OFFERED})
        if all(o.lender_id != acceptance.lender_id for o in self.state.offers):
            raise ApplicationError("no such offer on this request", {"field": "lenderId"}, type="ValidationError")

    @workflow.update
    async def cancel(self, req: c.BusinessCancel) -> dict:
        """The business withdraws the request before approval: CANCELLED."""
        self._claim()
        return await self._release_after(S.CANCELLED, req.reason or "withdrawn by the business")

    @cancel.validator
    def _check_cancel(self, req: c.BusinessCancel) -> None:
        fresh(req.expires_at)
        self._allowed(req.business_id == self.inp.business_id, {S.OFFERED, S.APPROVAL_PENDING})

    @workflow.update
    async def decide(self, d: c.SmeStaffDecision) -> dict:
        """Staff approval, maker then checker (two different people), or rejection: DISBURSING or REJECTED."""
        self._claim()
        if d.action == "REJECT":
            return await self._release_after(S.REJECTED, d.reason or "rejected by staff")
        await self._db("sme_record_approval", c.AcceptedRecord(self.inp.request_id, staff_id=d.staff_id, step=d.step))
        if d.step == "MAKER":
            self.state.maker_id = d.staff_id
            self.busy = False
            return {"status": self.state.status, "makerId": d.staff_id}
        self.state.checker_id = d.staff_id
        return await self._release_after(S.DISBURSING)

    @decide.validator
    def _check_decide(self, d: c.SmeStaffDecision) -> None:
        fresh(d.expires_at)
        self._allowed(d.brand_id == self.inp.brand_id, {S.APPROVAL_PENDING})
        if d.action not in ("APPROVE", "REJECT"):
            raise ApplicationError("action must be APPROVE or REJECT", {"field": "action"}, type="ValidationError")
        if d.action == "APPROVE" and d.step == "MAKER" and self.state.maker_id is not None:
            raise refuse("Conflict", "the maker has already approved; a checker's approval is awaited")
        if d.action == "APPROVE" and d.step == "CHECKER":
            if self.state.maker_id is None:
                raise refuse("Conflict", "a maker's approval is needed before the checker's")
            if self.state.maker_id == d.staff_id:
                raise refuse("PermissionDenied", "maker-checker: the maker may not also approve as checker")

    @workflow.update
    async def resume(self, d: c.SmeStaffDecision) -> dict:
        """Staff on a held request: RETRY the held step, or REJECT it (not once the buyer has paid)."""
        self._claim()
        step = self.state.hold_step or CHECKS
        if d.action == "REJECT":
            return await self._release_after(S.REJECTED, d.reason or f"rejected while {step} was held")
        self.state.hold_step = self.state.hold_reason = None
        return await self._release_after(RETURN_TO[step])

    @resume.validator
    def _check_resume(self, d: c.SmeStaffDecision) -> None:
        fresh(d.expires_at)
        self._allowed(d.brand_id == self.inp.brand_id, {S.NEEDS_ATTENTION})
        if d.action not in ("RETRY", "REJECT"):
            raise ApplicationError("action must be RETRY or REJECT", {"field": "action"}, type="ValidationError")
        if d.action == "REJECT" and self.state.hold_step == RESERVE:
            raise refuse("Conflict", "the buyer has paid: the reserve is owed to the seller; retry the release")

    @workflow.run
    async def run(self, inp: c.InvoiceFinancingInput) -> c.InvoiceState:
        while self.state.status not in FINAL:
            step: Callable[[], Awaitable[None]] = getattr(self, STEPS[S(self.state.status)])
            await step()
        if self.state.status == S.CLOSED:
            await self._late_credits()  # one that arrived as it closed (sme-late-credit-v1)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state
