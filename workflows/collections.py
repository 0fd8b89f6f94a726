"""Servicing: collections and the way out of a stressed loan (see ``workflows.loan``; docs/collections.md).

Collections are steps of the loan's own servicing phase, not a child workflow: a collections case has no life of its
own apart from the loan's arrears (it opens when an installment is missed and closes when the arrears are paid),
and every decision in it — settle, waive, write off, restructure — changes the loan's schedule, status and ledger,
which only the loan's workflow writes. A child would hold a copy of the loan's state and ask its parent for every
change. The collector's daily work (calls, follow-ups, promises, visits) is records, not workflow state.

- At each day-end while in arrears: the DPD's bucket (the brand's ``collections.buckets``); the ``review_collection``
  activity (re)allocates the loan when its bucket changes and marks broken promises to pay.
- Staff decisions are updates with validators (wrong role 403, wrong state 409, maker-checker 403, nothing written
  on refusal): ``propose_settlement`` → ``approve_settlement`` (another person, within their limit) or
  ``reject_settlement``; ``waive_penal``; ``write_off``; ``propose_restructure`` → ``approve_restructure`` (another
  person) or ``reject_restructure``. Handlers take ``servicing_lock``, which the repayment loop holds for each pass,
  so a decision never interleaves with a payment being applied.
- An approved settlement is paid by its link before its deadline (``workflows.receipts`` applies the paying
  payment) → SETTLED with the rest waived; unpaid at the end of its deadline day (IST) → LAPSED, collection goes on.
- A write-off ends the loan WRITTEN_OFF; money that reaches it later is a recovery (``api.webhooks.intake``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain import schedule
    from domain.closure import foreclosure_quote
    from domain.collection_policy import CollectionPolicy
    from domain.errors import ValidationError
    from domain.settlement import (
        APPROVER_ROLES,
        PROPOSER_ROLES,
        RESTRUCTURE_ROLES,
        WAIVER_ROLES,
        WRITE_OFF_ROLES,
        Outstanding,
        can_write_off,
        check_limit,
        penal_waiver,
        settlement_waiver,
        unpaid_penal,
    )
    from domain.status import TERMINAL, LoanStatus
    from workflows.contracts import (
        CertificateRequest,
        ClosingPostings,
        ClosureRecord,
        CollectionReview,
        DelinquencyRecord,
        InstallmentState,
        LoanWorkflowResult,
        ReloanRequest,
        RestructureProposal,
        RestructureState,
        ServicingAction,
        ServicingDecisionRecord,
        SettlementLinkRequest,
        SettlementProposal,
        SettlementState,
        WaiverRequest,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT, IST, NOTICE_TIMEOUT, PROVIDER_RETRY, PROVIDER_TIMEOUT

from workflows.base import LoanBase, _check_fresh, _refuse

SERVICING = frozenset({LoanStatus.DISBURSED, LoanStatus.OVERDUE})
# A settlement lapses this long after its deadline day, so a payment made on or before the deadline and reported
# late (an offline payment approved the next morning, dated on the deadline) still settles it.
LAPSE_GRACE = timedelta(days=3)
MAX_SETTLEMENT_DAYS = 180  # the furthest deadline a proposal may set (the brand's settlementDays is at most this)
# RBI Prudential Framework (7 June 2019): a restructured account stays NPA until it performs for a year.
SPECIFIED_PERIOD = timedelta(days=365)


class CollectionsPhase(LoanBase):
    """The updates of collections' decisions, and the steps the servicing loop runs for them."""

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

    # ---------------------------------------------------------------- settlement
    @workflow.update(description="Propose a settlement: amount below the outstanding, reason, deadline (paise).")
    async def propose_settlement(self, p: SettlementProposal) -> str:
        await self._locked()
        try:
            self._validate_proposal(p)
            state = self.servicing
            assert state is not None
            outstanding = self._outstanding()
            waiver = settlement_waiver(outstanding, p.amount)
            sid = str(workflow.uuid4())
            deadline = p.deadline or self._today() + timedelta(days=self._policy().settlement_days)
            state.settlement = SettlementState(
                sid, p.amount, outstanding.total, waiver, p.reason.strip(), p.staff_id, deadline=p.deadline
            )
            await self._decision("SETTLEMENT", f"settlement:{sid}", "PROPOSED", {
                "id": sid, "brandId": self.inp.brand_id, "amount": p.amount, "outstanding": outstanding.total,
                "waiver": waiver, "reason": p.reason.strip(), "deadline": deadline.isoformat(),
                "proposedBy": p.staff_id,
            })  # fmt: skip
            return sid
        finally:
            self.servicing_lock.release()

    def _validate_proposal(self, p: SettlementProposal) -> None:
        self._check_servicing(p.staff_id, p.role, p.brand_id, PROPOSER_ROLES, frozenset({LoanStatus.OVERDUE}))
        state = self.servicing
        assert state is not None
        if state.settlement is not None:
            raise _refuse("Conflict", f"a settlement is already {state.settlement.status.lower()} on this loan")
        if state.restructure is not None:
            raise _refuse("Conflict", "a restructure awaits a decision on this loan")
        if not p.reason.strip():
            raise _refuse("ValidationError", "reason: a settlement needs a reason")
        if p.deadline is not None and p.deadline < self._today():
            raise _refuse("ValidationError", "deadline: must be today or later (IST)")
        if p.deadline is not None and p.deadline > self._today() + timedelta(days=MAX_SETTLEMENT_DAYS):
            raise _refuse("ValidationError", f"deadline: at most {MAX_SETTLEMENT_DAYS} days from today")
        try:
            settlement_waiver(self._outstanding(), p.amount)
        except ValidationError as exc:
            raise _refuse("ValidationError", f"{exc.field}: {exc.message}") from None

    @propose_settlement.validator
    def _validate_propose_settlement(self, p: SettlementProposal) -> None:
        _check_fresh(p.expires_at)
        self._validate_proposal(p)

    def _check_settlement_decision(self, a: ServicingAction) -> SettlementState:
        self._check_servicing(a.staff_id, a.role, a.brand_id, APPROVER_ROLES)
        state = self.servicing
        assert state is not None
        s = state.settlement
        if s is None or s.status != "PROPOSED":
            raise _refuse("Conflict", "no settlement proposal awaits a decision on this loan")
        if s.proposed_by == a.staff_id:
            raise _refuse("PermissionDenied", "maker-checker: you proposed this settlement; another person decides")
        return s

    @workflow.update(description="Approve the proposed settlement (another person, within their limit).")
    async def approve_settlement(self, a: ServicingAction) -> str:
        await self._locked()
        try:
            s = self._check_settlement_decision(a)
            outstanding, waiver = self._settlement_now(a, s)
            state = self.servicing
            assert state is not None
            deadline = s.deadline or self._today() + timedelta(days=a.settlement_days)
            state.settlement = s = replace(
                s, status="APPROVED", approved_by=a.staff_id, approved_at=workflow.now(), deadline=deadline,
                collected_before=state.total_collected, outstanding=outstanding.total, waiver=waiver,
            )  # fmt: skip
            await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "APPROVED", {
                "id": s.settlement_id, "decidedBy": a.staff_id, "reason": a.reason, "deadline": deadline.isoformat(),
                "outstanding": outstanding.total, "waiver": waiver,
            })  # fmt: skip
            url = await workflow.execute_activity_method(
                LoanActivities.settlement_link,
                SettlementLinkRequest(self.inp.loan_id, s.settlement_id, s.amount),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Settlement link {s.amount} paise",
            )
            await self._notice(
                "SETTLEMENT_OFFER", f"settlement:{s.settlement_id}", amount=s.amount, deadline=deadline.isoformat(),
                waived=sum(s.waiver.values()), paymentLink=url,
            )  # fmt: skip
            return "APPROVED"
        finally:
            self.servicing_lock.release()

    def _settlement_now(self, a: ServicingAction, s: SettlementState) -> tuple[Outstanding, dict[str, int]]:
        """The outstanding and the waiver as they stand now (payments since the proposal reduce them): the amount
        must still be below what is owed, and the approver's limit is checked on today's waiver."""
        outstanding = self._outstanding()
        try:
            waiver = settlement_waiver(outstanding, s.amount)
        except ValidationError:
            raise _refuse(
                "Conflict",
                f"the borrower has paid since the proposal: {outstanding.total} paise is owed now, not more than the "
                f"settlement amount of {s.amount}; reject it and propose again",
            ) from None
        why = check_limit(a.role, sum(waiver.values()), a.limit, "settlement waiver")
        if why is not None:
            raise _refuse("PermissionDenied", why)
        return outstanding, waiver

    @approve_settlement.validator
    def _validate_approve_settlement(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._settlement_now(a, self._check_settlement_decision(a))

    @workflow.update(description="Reject the proposed settlement (another person), with a reason.")
    async def reject_settlement(self, a: ServicingAction) -> str:
        await self._locked()
        try:
            s = self._check_settlement_decision(a)
            state = self.servicing
            assert state is not None
            state.settlement = None
            await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "REJECTED", {
                "id": s.settlement_id, "decidedBy": a.staff_id, "reason": a.reason,
            })  # fmt: skip
            return "REJECTED"
        finally:
            self.servicing_lock.release()

    @reject_settlement.validator
    def _validate_reject_settlement(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._check_settlement_decision(a)
        if not (a.reason or "").strip():
            raise _refuse("ValidationError", "reason: a rejection needs a reason")

    def _settlement_due(self) -> datetime | None:
        """When the approved settlement lapses: the end of its deadline day (IST) plus ``LAPSE_GRACE`` for payments
        made by the deadline and reported late."""
        state = self.servicing
        s = state.settlement if state is not None else None
        if s is None or s.status != "APPROVED" or s.deadline is None or state is None or state.closed_as == "SETTLED":
            return None
        return datetime.combine(s.deadline + timedelta(days=1), time(0), IST) + LAPSE_GRACE

    async def _lapse_settlement(self, now: datetime) -> None:
        state = self.servicing
        assert state is not None
        s = state.settlement
        due = self._settlement_due()
        if s is None or due is None or now < due:
            return
        state.settlement = None
        await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "LAPSED", {
            "id": s.settlement_id, "collected": state.total_collected - s.collected_before,
        })  # fmt: skip

    def _settlement_open(self) -> SettlementState | None:
        """The approved settlement a payment may pay now (receipts), or None."""
        state = self.servicing
        s = state.settlement if state is not None else None
        return s if s is not None and s.status == "APPROVED" else None

    async def _close_settled(self) -> LoanWorkflowResult:
        """The settlement was paid: the rest waived in the ledger, the bureau flag, SETTLED, the certificate."""
        state = self.servicing
        assert state is not None
        s = state.settlement
        sid = s.settlement_id if s is not None else "settlement"
        posted = await workflow.execute_activity_method(
            LoanActivities.record_closing_postings,
            ClosingPostings(self.inp.loan_id, "SETTLEMENT", sid),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Settlement: the rest waived",
        )
        if s is not None:
            await self._decision("SETTLEMENT", f"settlement:{sid}", "PAID", {
                "id": sid, "collected": state.total_collected - s.collected_before,
            })  # fmt: skip
        await self._record_closure("SETTLED")
        await self._notice("SETTLED", "settled", amount=s.amount if s else 0, waived=sum(posted.values()))
        await self._certificate("SETTLED")
        return await self._end(LoanStatus.SETTLED, "settled: the settlement amount was paid before its deadline")

    async def _record_closure(self, closed_as: str) -> None:
        await workflow.execute_activity_method(
            LoanActivities.record_closure,
            ClosureRecord(self.inp.loan_id, closed_as),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Closed as {closed_as}",
        )

    # ---------------------------------------------------------------- closure documents
    async def _certificate(self, kind: str) -> None:
        """The closure certificate (NDC/NOC), issued and sent; best effort: never holds the loan's end."""
        try:
            await workflow.execute_activity(
                "issue_closure_certificate",
                CertificateRequest(self.inp.loan_id, kind),
                start_to_close_timeout=NOTICE_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Closure certificate ({kind})",
            )
        except Exception as exc:  # noqa: BLE001  (an ActivityError: staff regenerate it)
            workflow.logger.warning("closure certificate not issued: %s", exc)

    async def _closure_documents(self) -> None:
        """At a closure in good standing (COMPLETED): the certificate, then a reloan offer if the brand's rules
        allow one."""
        if not self.collections:
            return
        await self._certificate("NO_DUES")
        try:
            await workflow.execute_activity(
                "offer_reloan",
                ReloanRequest(self.inp.loan_id),
                start_to_close_timeout=NOTICE_TIMEOUT,
                retry_policy=DB_RETRY,
                summary="Reloan offer",
            )
        except Exception as exc:  # noqa: BLE001
            workflow.logger.warning("reloan offer not made: %s", exc)

    # ---------------------------------------------------------------- waiver
    @workflow.update(description="Waive unpaid penal charges (paise), oldest first, within the role's limit.")
    async def waive_penal(self, w: WaiverRequest) -> str:
        await self._locked()
        try:
            self._validate_waiver_now(w)
            state = self.servicing
            assert state is not None
            parts = penal_waiver(state.installments, w.amount)
            wid = str(workflow.uuid4())
            await self._decision("WAIVER", f"waiver:{wid}", "DONE", {
                "brandId": self.inp.brand_id, "amount": w.amount, "parts": parts, "reason": w.reason.strip(),
                "staffId": w.staff_id,
            })  # fmt: skip
            await self._notice("WAIVER", f"waiver:{wid}", amount=w.amount)
            self.relink = True
            return str(self.status)
        finally:
            self.servicing_lock.release()

    def _validate_waiver_now(self, w: WaiverRequest) -> None:
        self._check_servicing(w.staff_id, w.role, w.brand_id, WAIVER_ROLES)
        if not w.reason.strip():
            raise _refuse("ValidationError", "reason: a waiver needs a reason")
        state = self.servicing
        assert state is not None
        if isinstance(w.amount, bool) or not isinstance(w.amount, int) or w.amount <= 0:
            raise _refuse("ValidationError", "amount: must be a positive whole number of paise")
        unpaid = unpaid_penal(state.installments)
        if w.amount > unpaid:
            raise _refuse("ValidationError", f"amount: more than the unpaid penal charges of {unpaid} paise")
        why = check_limit(w.role, w.amount, w.limit, "penal waiver")
        if why is not None:
            raise _refuse("PermissionDenied", why)

    @waive_penal.validator
    def _validate_waive_penal(self, w: WaiverRequest) -> None:
        _check_fresh(w.expires_at)
        self._validate_waiver_now(w)

    # ---------------------------------------------------------------- write-off
    def _check_write_off(self, a: ServicingAction) -> None:
        self._check_servicing(a.staff_id, a.role, a.brand_id, WRITE_OFF_ROLES, frozenset({LoanStatus.OVERDUE}))
        state = self.servicing
        assert state is not None
        why = can_write_off(state.dpd, a.write_off_dpd)
        if why is not None:
            raise _refuse("Conflict", why)
        if self._settlement_open() is not None:
            raise _refuse("Conflict", "a settlement offer is open on this loan until its deadline")
        if not (a.reason or "").strip():
            raise _refuse("ValidationError", "reason: a write-off needs a reason")

    @workflow.update(description="Write the loan off (past the brand's write-off DPD; roles with the authority).")
    async def write_off(self, a: ServicingAction) -> str:
        await self._locked()
        try:
            self._check_write_off(a)
            self.write_off_request = a
        finally:
            self.servicing_lock.release()
        # applied by the loop's next pass, unless a payment applied in that pass cleared the arrears (dropped)
        await workflow.wait_condition(lambda: self.write_off_request is None or self.status in TERMINAL)
        if self.status != LoanStatus.WRITTEN_OFF:
            raise _refuse("Conflict", self.write_off_refusal or f"loan is {self.status}")
        return str(self.status)

    def _write_off_still_due(self, now: datetime) -> bool:
        """The accepted write-off, checked again after the payments of this pass: still OVERDUE with arrears, past
        the threshold. Otherwise it is dropped with the reason (the handler answers 409)."""
        a, state = self.write_off_request, self.servicing
        assert a is not None and state is not None
        arrears = [i for i in state.installments if not i.paid and i.due_at <= now]
        why = None
        if self.status != LoanStatus.OVERDUE or not arrears:
            why = "a payment cleared the loan's arrears before the write-off was applied"
        elif state.closed_as is not None:
            why = f"a payment closed the loan ({state.closed_as}) before the write-off was applied"
        else:
            why = can_write_off(state.dpd, a.write_off_dpd)
        if why is None:
            return True
        self.write_off_refusal, self.write_off_request = why, None
        return False

    @write_off.validator
    def _validate_write_off(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._check_write_off(a)

    async def _write_off_now(self) -> LoanWorkflowResult:
        a, state = self.write_off_request, self.servicing
        assert a is not None and state is not None
        if state.settlement is not None:  # a proposal never decided ends with the loan
            await self._decision("SETTLEMENT", f"settlement:{state.settlement.settlement_id}", "CANCELLED", {
                "id": state.settlement.settlement_id, "decidedBy": a.staff_id, "reason": "the loan was written off",
            })  # fmt: skip
        if state.restructure is not None:
            await self._decision("RESTRUCTURE", f"restructure:{state.restructure.restructure_id}", "CANCELLED", {
                "id": state.restructure.restructure_id, "decidedBy": a.staff_id,
            })  # fmt: skip
        await workflow.execute_activity_method(
            LoanActivities.record_closing_postings,
            ClosingPostings(self.inp.loan_id, "WRITE_OFF"),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Write-off postings",
        )
        await self._record_closure("WRITTEN_OFF")
        return await self._end(
            LoanStatus.WRITTEN_OFF, f"written off: {(a.reason or '').strip()}", f"{a.role}:{a.staff_email}",
            action="WRITE_OFF", actor_id=a.staff_id,
        )  # fmt: skip

    # ---------------------------------------------------------------- restructure
    def _new_schedule(self, r: RestructureProposal | RestructureState, first_due: date) -> list[InstallmentState]:
        """The outstanding principal over the new installments (or the count the EMI needs), the first due on
        ``first_due``; what was overdue of interest, fees and penal rides on the first new installment."""
        state = self.servicing
        assert state is not None
        owed = [i for i in state.installments if not i.paid]
        principal = sum(i.principal - i.principal_paid for i in owed)
        today = self._today()
        terms = self.inp.terms.schedule_terms(today)
        emi = getattr(r, "emi", None)
        by_count = r.installments is not None and r.installments > 0
        plan = schedule.reamortize(
            terms, balance=principal, anchor=today, next_due=first_due,
            remaining=r.installments or 360 if by_count else 360, current_emi=0 if by_count else (emi or 0),
            mode="REDUCE_EMI" if by_count else "REDUCE_TENURE", first_number=owed[0].number,
        )  # fmt: skip
        new = self._states(plan.rows, workflow.now())
        first = new[0]
        for inst in owed:
            if inst.due_date is not None and inst.due_date <= today:
                first.interest += inst.interest - inst.interest_paid
                first.fees += inst.fees - inst.fees_paid
                first.penal += inst.penal - inst.penal_paid
                # interest already posted receivable goes with it, so paying it clears the receivable (and it is
                # never accrued twice)
                first.interest_accrued += max(0, inst.interest_accrued - inst.receivable_cleared)
        return new

    def _check_restructure_proposal(self, r: RestructureProposal) -> None:
        self._check_servicing(r.staff_id, r.role, r.brand_id, RESTRUCTURE_ROLES)
        state = self.servicing
        assert state is not None
        if state.restructure is not None:
            raise _refuse("Conflict", "a restructure already awaits a decision on this loan")
        if state.settlement is not None:
            raise _refuse("Conflict", f"a settlement is {state.settlement.status.lower()} on this loan")
        if not r.reason.strip():
            raise _refuse("ValidationError", "reason: a restructure needs a reason")
        if (r.installments is None) == (r.emi is None):
            raise _refuse("ValidationError", "installments: give the new number of installments or the new emi")
        if r.installments is not None and not 1 <= r.installments <= 360:
            raise _refuse("ValidationError", "installments: must be from 1 to 360")
        if r.emi is not None and r.emi <= 0:
            raise _refuse("ValidationError", "emi: must be a positive whole number of paise")
        if r.first_due is not None and r.first_due <= self._today():
            raise _refuse("ValidationError", "firstDue: must be after today (IST)")
        try:
            self._new_schedule(r, r.first_due or self._today() + timedelta(days=30))
        except ValidationError as exc:
            raise _refuse("ValidationError", f"{exc.field}: {exc.message}") from None

    @workflow.update(description="Propose a restructure: new installments or EMI for the outstanding principal.")
    async def propose_restructure(self, r: RestructureProposal) -> str:
        await self._locked()
        try:
            self._check_restructure_proposal(r)
            state = self.servicing
            assert state is not None
            first_due = r.first_due or self._today() + timedelta(days=30)
            new = self._new_schedule(r, first_due)
            rid = str(workflow.uuid4())
            state.restructure = RestructureState(rid, len(new), new[0].principal + new[0].interest, first_due,
                                                 r.reason.strip(), r.staff_id)  # fmt: skip
            await self._decision("RESTRUCTURE", f"restructure:{rid}", "PROPOSED", {
                "id": rid, "brandId": self.inp.brand_id, "outstanding": sum(i.principal for i in new),
                "installments": len(new), "emi": state.restructure.emi, "firstDue": first_due.isoformat(),
                "schedule": [_row(i) for i in new], "reason": r.reason.strip(), "proposedBy": r.staff_id,
            })  # fmt: skip
            return rid
        finally:
            self.servicing_lock.release()

    @propose_restructure.validator
    def _validate_propose_restructure(self, r: RestructureProposal) -> None:
        _check_fresh(r.expires_at)
        self._check_restructure_proposal(r)

    def _check_restructure_decision(self, a: ServicingAction) -> RestructureState:
        self._check_servicing(a.staff_id, a.role, a.brand_id, APPROVER_ROLES)
        state = self.servicing
        assert state is not None
        r = state.restructure
        if r is None:
            raise _refuse("Conflict", "no restructure awaits a decision on this loan")
        if r.proposed_by == a.staff_id:
            raise _refuse("PermissionDenied", "maker-checker: you proposed this restructure; another person decides")
        return r

    @workflow.update(description="Approve the proposed restructure (another person): the new schedule applies.")
    async def approve_restructure(self, a: ServicingAction) -> str:
        await self._locked()
        try:
            r = self._check_restructure_decision(a)
            state = self.servicing
            assert state is not None
            first_due = max(r.first_due, self._today() + timedelta(days=1))
            new = self._new_schedule(r, first_due)
            start = new[0].number
            kept = [i for i in state.installments if i.number < start]
            state.installments = kept + new
            state.restructure = None
            state.schedule_version += 1
            # RBI Prudential Framework (2019): restructured, so NPA until it performs for the specified period
            state.npa_until = first_due + SPECIFIED_PERIOD
            await self._decision("RESTRUCTURE", f"restructure:{r.restructure_id}", "APPROVED", {
                "id": r.restructure_id, "decidedBy": a.staff_id, "from": start,
                "outstanding": sum(i.principal for i in new), "rescheduled": [_row(i) for i in new],
            })  # fmt: skip
            await self._notice(
                "RESTRUCTURED", f"restructure:{r.restructure_id}", emi=new[0].principal + new[0].interest,
                installments=len(new), firstDue=first_due.isoformat(),
            )  # fmt: skip
            if state.asset_class != "NPA":
                state.asset_class = "NPA"
                await workflow.execute_activity_method(
                    LoanActivities.record_delinquency,
                    DelinquencyRecord(self.inp.loan_id, state.dpd, "NPA", as_of=self._today(), class_changed=True),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                    summary="Restructured: NPA",
                )
            self.relink = True
            return str(self.status)
        finally:
            self.servicing_lock.release()

    @approve_restructure.validator
    def _validate_approve_restructure(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._check_restructure_decision(a)

    @workflow.update(description="Reject the proposed restructure (another person), with a reason.")
    async def reject_restructure(self, a: ServicingAction) -> str:
        await self._locked()
        try:
            r = self._check_restructure_decision(a)
            state = self.servicing
            assert state is not None
            state.restructure = None
            await self._decision("RESTRUCTURE", f"restructure:{r.restructure_id}", "REJECTED", {
                "id": r.restructure_id, "decidedBy": a.staff_id,
            })  # fmt: skip
            return "REJECTED"
        finally:
            self.servicing_lock.release()

    @reject_restructure.validator
    def _validate_reject_restructure(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        self._check_restructure_decision(a)
        if not (a.reason or "").strip():
            raise _refuse("ValidationError", "reason: a rejection needs a reason")

    # ---------------------------------------------------------------- the loop's steps
    def _collections_woken(self) -> bool:
        return self.write_off_request is not None or self.relink

    async def _review_collections(self, now: datetime) -> None:
        """At a DPD change: the bucket, and the allocation activity when the loan is (or stops being) in arrears."""
        state = self.servicing
        assert state is not None
        state.max_dpd = max(state.max_dpd, state.dpd)
        if state.dpd == state.reviewed_dpd:
            return
        bucket = self._policy().bucket_for(state.dpd) if state.dpd > 0 else None
        state.reviewed_dpd = state.dpd
        as_of = now.astimezone(IST).date() - (timedelta(days=1) if self.day_end_run else timedelta(0))
        overdue = sum(i.remaining for i in state.installments if i.overdue and not i.paid)
        try:
            await workflow.execute_activity(
                "review_collection",
                CollectionReview(self.inp.loan_id, self.inp.brand_id, state.dpd, bucket, as_of, overdue),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Collections: DPD {state.dpd}, bucket {bucket or '-'}",
            )
        except Exception as exc:  # noqa: BLE001  (an ActivityError refused for good: never fails the loan)
            if not isinstance(getattr(exc, "cause", None), ApplicationError):
                raise
            workflow.logger.warning("collection review refused: %s", exc)


def _row(inst: InstallmentState) -> dict:
    return {
        "number": inst.number,
        "dueAt": inst.due_at.isoformat(),
        "dueDate": inst.due_date.isoformat() if inst.due_date else None,
        "principal": inst.principal,
        "interest": inst.interest,
        "fees": inst.fees,
        "penal": inst.penal,
        "days": inst.days,
    }
