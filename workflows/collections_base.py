"""Servicing under collections: what the collections, settlement and restructure steps share (the brand's
collection policy, today in IST, the outstanding by component, the checks every staff decision makes, the
servicing lock and the decision record). See ``workflows.collections`` for the design."""

from __future__ import annotations

import asyncio
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.closure import foreclosure_quote
    from domain.collection_policy import CollectionPolicy
    from domain.settlement import (
        Outstanding,
    )
    from domain.status import LoanStatus
    from workflows.contracts import (
        ServicingAction,
        ServicingDecisionRecord,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST

from workflows.base import LoanBase, _refuse

SERVICING = frozenset({LoanStatus.DISBURSED, LoanStatus.OVERDUE})


class CollectionsBase(LoanBase):
    """State and checks shared by the collections decisions (mixed into ``CollectionsPhase``)."""

    servicing_lock: asyncio.Lock
    loop_holds_lock: bool
    collections: bool
    write_off_request: ServicingAction | None
    write_off_refusal: str | None

    # ---------------------------------------------------------------- shared checks
    def _policy(self) -> CollectionPolicy:
        return CollectionPolicy.of(self.inp.policy.collections)

    def _today(self) -> date:
        return workflow.now().astimezone(IST).date()

    def _outstanding(self) -> Outstanding:
        """What the borrower owes today by component: the foreclosure quote without a foreclosure charge."""
        state = self.servicing
        assert state is not None
        quote = foreclosure_quote(state.installments, self._today(), charge_percent=None, gst_percent="0")
        return Outstanding(quote.principal, quote.interest, quote.fees, quote.penal)

    def _check_servicing(self, staff_id: str, role: str, brand_id: str, roles: frozenset[str],
                         states: frozenset[LoanStatus] = SERVICING) -> None:  # fmt: skip
        if brand_id != self.inp.brand_id:
            raise _refuse("NotFound", "loan not found")
        if not self.collections or self.servicing is None:
            raise _refuse("Conflict", f"loan is {self.status}: not being repaid under collections")
        if role not in roles:
            raise _refuse("PermissionDenied", f"role {role} may not do this")
        if self.status not in states or self.write_off_request is not None:
            raise _refuse("Conflict", f"loan is {self.status}")

    async def _locked(self) -> None:
        """Take the servicing lock for a decision's handler; refuse if the loan left servicing meanwhile (ended,
        OVERPAID, or a write-off is being applied)."""
        await self.servicing_lock.acquire()
        if self.status not in SERVICING or self.write_off_request is not None:
            self.servicing_lock.release()
            raise _refuse("Conflict", f"loan is {self.status}")

    async def _decision(self, kind: str, key: str, status: str, payload: dict) -> None:
        await workflow.execute_activity_method(
            LoanActivities.record_servicing_decision,
            ServicingDecisionRecord(self.inp.loan_id, kind, key, status, payload),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"{kind.title()} {status}",
        )
