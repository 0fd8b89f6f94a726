"""Servicing under collections: a settlement (one-time settlement, OTS) proposed, approved by another person within
their limit or rejected, paid by its link before its deadline or lapsed; the closure documents of a loan closed
(see ``workflows.collections``; docs/collections.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.contact_hours import next_contact_opening, within_contact_hours
    from domain.errors import ValidationError
    from domain.settlement import (
        APPROVER_ROLES,
        PROPOSER_ROLES,
        Outstanding,
        check_limit,
        rupees_and_paise,
        settlement_waiver,
    )
    from domain.status import LoanStatus
    from workflows.contracts import (
        CertificateRequest,
        ClosingPostings,
        ClosureRecord,
        HeldNotice,
        LoanWorkflowResult,
        ReloanRequest,
        ServicingAction,
        SettlementLinkRequest,
        SettlementProposal,
        SettlementState,
    )
    from workflows.options import (
        DB_RETRY,
        DB_TIMEOUT,
        IST,
        NOTICE_TIMEOUT,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
        SETTLEMENT_APPLIES_ALL_PATCH,
        SETTLEMENT_LINK_FIRST_PATCH,
        SETTLEMENT_LINK_FOLLOWS_PATCH,
    )

from workflows.base import _check_fresh, _refuse
from workflows.colending import colend_loss
from workflows.collections_base import CollectionsBase
from workflows.patches import patched

# A settlement lapses this long after its deadline day, so a payment made on or before the deadline and reported
# late (an offline payment approved the next morning, dated on the deadline) still settles it.
LAPSE_GRACE = timedelta(days=3)
MAX_SETTLEMENT_DAYS = 180  # the furthest deadline a proposal may set (the brand's settlementDays is at most this)


class SettlementSteps(CollectionsBase):
    """The settlement updates and the closing steps of a settled (or paid) loan."""

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
            raise _refuse("ValidationError", "a settlement needs a reason", field="reason")
        if p.deadline is not None and p.deadline < self._today():
            raise _refuse("ValidationError", "must be today or later (IST)", field="deadline")
        if p.deadline is not None and p.deadline > self._today() + timedelta(days=MAX_SETTLEMENT_DAYS):
            raise _refuse("ValidationError", f"at most {MAX_SETTLEMENT_DAYS} days from today", field="deadline")
        try:
            settlement_waiver(self._outstanding(), p.amount)
        except ValidationError as exc:
            raise _refuse("ValidationError", exc.message, field=exc.field) from None

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
        link_first = patched(SETTLEMENT_LINK_FIRST_PATCH)  # asked first, before any await: every approval asks it
        applies_all = patched(SETTLEMENT_APPLIES_ALL_PATCH)  # likewise
        link_follows = patched(SETTLEMENT_LINK_FOLLOWS_PATCH)  # likewise
        await self._locked()
        try:
            s = self._check_settlement_decision(a)
            self._check_offer_in_time(a, s)
            outstanding, waiver = self._settlement_now(a, s)
            state = self.servicing
            assert state is not None
            deadline = s.deadline or self._today() + timedelta(days=a.settlement_days)
            url = await self._settlement_link(s, refused_unchanged=True) if link_first else None
            state.settlement = s = replace(
                s, status="APPROVED", approved_by=a.staff_id, approved_at=workflow.now(), deadline=deadline,
                collected_before=state.total_collected, outstanding=outstanding.total, waiver=waiver,
                applies_all=applies_all, link_follows=link_follows, link_amount=s.amount,
            )  # fmt: skip
            await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "APPROVED", {
                "id": s.settlement_id, "decidedBy": a.staff_id, "reason": a.reason, "deadline": deadline.isoformat(),
                "outstanding": outstanding.total, "waiver": waiver,
            })  # fmt: skip
            if not link_first:
                url = await self._settlement_link(s, refused_unchanged=False)
            await self._recovery_notice(
                "SETTLEMENT_OFFER", f"settlement:{s.settlement_id}",
                HeldNotice("SETTLEMENT_OFFER", "", settlement_id=s.settlement_id, link_version=s.link_version),
                amount=s.amount, deadline=deadline.isoformat(), waived=sum(s.waiver.values()), paymentLink=url,
            )  # fmt: skip
            return "APPROVED"
        finally:
            self.servicing_lock.release()

    async def _settlement_link(self, s: SettlementState, refused_unchanged: bool) -> str:
        """The settlement's payment link (``settlement_link``: the same reference gives the same link back). With
        ``refused_unchanged`` (SETTLEMENT_LINK_FIRST_PATCH: asked before the approval changes anything) gateways that
        give no link past the retries refuse the approval with nothing approved: ``Unavailable`` (HTTP 503; staff
        approve again once they are back), or ``Conflict`` (409, with the gateway's reason) when every gateway
        refused the link itself. The retries can outlast the API's bound: staff are then told the approval is still
        being applied, and find the settlement still awaiting its decision. Before the patch the link came after the
        approval was recorded, and its failure left the settlement APPROVED with no link and no offer sent, the
        approval not to be repeated."""
        try:
            return await workflow.execute_activity_method(
                LoanActivities.settlement_link,
                SettlementLinkRequest(self.inp.loan_id, s.settlement_id, s.amount),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Settlement link {s.amount} paise",
            )
        except ActivityError as exc:
            if not refused_unchanged or is_cancelled_exception(exc):
                raise
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == "BusinessRefusal":  # a no, not an outage
                why = f"the payment gateways refused the settlement's link: {cause.message}; nothing was approved"
                raise _refuse("Conflict", why) from None
            raise _refuse(
                "Unavailable",
                "the payment gateways gave no link for the settlement; nothing was approved: approve it again once "
                f"they are back ({cause})",
            ) from None

    def _settlement_now(self, a: ServicingAction, s: SettlementState) -> tuple[Outstanding, dict[str, int]]:
        """The outstanding and the waiver as they stand now (payments since the proposal reduce them): the amount
        must still be below what is owed, and the approver's limit is checked on today's waiver."""
        outstanding = self._outstanding()
        try:
            waiver = settlement_waiver(outstanding, s.amount)
        except ValidationError:
            raise _refuse(
                "Conflict",
                f"the borrower has paid since the proposal: {rupees_and_paise(outstanding.total)} is owed now, not more"
                f" than the settlement amount of {rupees_and_paise(s.amount)}; reject it and propose again",
            ) from None
        why = check_limit(a.role, sum(waiver.values()), a.limit, "settlement waiver")
        if why is not None:
            raise _refuse("PermissionDenied", why)
        return outstanding, waiver

    @approve_settlement.validator
    def _validate_approve_settlement(self, a: ServicingAction) -> None:
        _check_fresh(a.expires_at)
        s = self._check_settlement_decision(a)
        self._check_offer_in_time(a, s)
        self._settlement_now(a, s)

    def _check_offer_in_time(self, a: ServicingAction, s: SettlementState) -> None:
        """Approved outside RBI's contact hours (CONTACT_HOURS_PATCH), the offer waits for 08:00 IST: a deadline
        before that day would pass before the borrower heard of it, so the approval is refused (409 naming
        ``deadline``); propose again with a later one."""
        now = workflow.now()
        if not self.contact_hours or within_contact_hours(now):
            return
        deadline = s.deadline or self._today() + timedelta(days=a.settlement_days)
        opens = next_contact_opening(now)
        if deadline < opens.date():
            raise _refuse(
                "Conflict",
                f"the offer can reach the borrower only from {opens:%d %b %Y %H:%M} IST (RBI's contact hours), after "
                f"its deadline of {deadline:%d %b %Y}; reject it and propose a later deadline",
                field="deadline",
            )

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
            raise _refuse("ValidationError", "a rejection needs a reason", field="reason")

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
        if s.applies_all and all(i.paid for i in state.installments):
            return  # paid in full in this pass (money dated by the deadline, applied late): PAID_IN_FULL, not LAPSED
        state.settlement = None
        await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "LAPSED", {
            "id": s.settlement_id, "collected": state.total_collected - s.collected_before,
        })  # fmt: skip

    def _settlement_open(self) -> SettlementState | None:
        """The approved settlement a payment may pay now (receipts), or None."""
        state = self.servicing
        s = state.settlement if state is not None else None
        return s if s is not None and s.status == "APPROVED" else None

    async def _settlement_link_follows(self) -> None:
        """An approved settlement part-paid another way since its approval (an old overdue link, a branch payment):
        its link is made again for what it still asks (``SettlementLinkRequest.version``), superseding the one
        before (cancelled at its gateway), and the borrower is sent it (SETTLEMENT_OFFER, once per version). Under
        SETTLEMENT_LINK_FOLLOWS_PATCH only; the loop asks each pass. A gateway that gives no link leaves the one
        before on offer (still payable: whatever it takes counts) and the next pass asks again."""
        state = self.servicing
        s = self._settlement_open()
        if state is None or s is None or not s.link_follows or s.deadline is None:
            return
        if self._today() > s.deadline or all(i.paid for i in state.installments):
            return  # past its deadline (lapsing: nothing more to offer), or nothing left to pay at all
        still = s.amount - (state.total_collected - s.collected_before)
        if still <= 0 or still == s.link_amount:
            return
        version = s.link_version + 1
        try:
            url = await workflow.execute_activity_method(
                LoanActivities.settlement_link,
                SettlementLinkRequest(self.inp.loan_id, s.settlement_id, still, version),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Settlement link {still} paise (what is still to pay)",
            )
        except ActivityError as exc:
            if is_cancelled_exception(exc):
                raise
            workflow.logger.warning("settlement %s: no link for the %s paise still to pay: %s", s.settlement_id,
                                    still, exc.cause)  # fmt: skip
            return
        deadline = s.deadline
        state.settlement = s = replace(s, link_amount=still, link_version=version)
        await self._recovery_notice(
            "SETTLEMENT_OFFER", f"settlement:{s.settlement_id}:{version}",
            HeldNotice("SETTLEMENT_OFFER", "", settlement_id=s.settlement_id, link_version=version), amount=still,
            deadline=deadline.isoformat(), waived=sum(s.waiver.values()), paymentLink=url,
        )  # fmt: skip

    async def _settlement_paid_in_full(self) -> None:
        """Everything is paid while a settlement is approved (SETTLEMENT_APPLIES_ALL_PATCH): nothing was waived, so
        the settlement reads PAID_IN_FULL with what was paid towards it, and the loan closes as any paid loan."""
        state = self.servicing
        s = self._settlement_open()
        if state is None or s is None or not s.applies_all:
            return
        state.settlement = None
        await self._decision("SETTLEMENT", f"settlement:{s.settlement_id}", "PAID_IN_FULL", {
            "id": s.settlement_id, "collected": state.total_collected - s.collected_before,
        })  # fmt: skip

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
        await colend_loss(self, "CL_SETTLEMENT", f"settlement:{sid}", posted, self._today())
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
