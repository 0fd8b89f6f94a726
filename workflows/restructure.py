"""Servicing under collections: a restructure (new installments or EMI for the outstanding principal) proposed
and approved by another person or rejected (see ``workflows.collections``; docs/collections.md). A co-lent loan's
approved restructure is sent to its partner (``workflows.colending.colend_restructured``, patch
``co-lending-restructure-v1``; docs/co-lending.md)."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain import schedule
    from domain.errors import ValidationError
    from domain.settlement import (
        APPROVER_ROLES,
        RESTRUCTURE_ROLES,
    )
    from workflows.contracts import (
        DelinquencyRecord,
        InstallmentState,
        RestructureProposal,
        RestructureState,
        ServicingAction,
    )
    from workflows.options import DB_RETRY, DB_TIMEOUT

from workflows.base import _check_fresh, _refuse
from workflows.colending import colend_restructured
from workflows.collections_base import CollectionsBase

# RBI Prudential Framework (7 June 2019): a restructured account stays NPA until it performs for a year.
SPECIFIED_PERIOD = timedelta(days=365)


class RestructureSteps(CollectionsBase):
    """The restructure updates."""

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
            raise _refuse("ValidationError", "a restructure needs a reason", field="reason")
        if (r.installments is None) == (r.emi is None):
            which = "neither was given" if r.installments is None else "not both"
            raise _refuse(
                "ValidationError", f"give the new number of installments or the new emi ({which})", field="installments"
            )
        if r.installments is not None and not 1 <= r.installments <= 360:
            raise _refuse("ValidationError", "must be from 1 to 360", field="installments")
        if r.emi is not None and r.emi <= 0:
            raise _refuse("ValidationError", "must be a positive whole number of paise", field="emi")
        if r.first_due is not None and r.first_due <= self._today():
            raise _refuse("ValidationError", "must be after today (IST)", field="firstDue")
        try:
            self._new_schedule(r, r.first_due or self._today() + timedelta(days=30))
        except ValidationError as exc:  # the schedule's own names, as the request spells them (none for the balance)
            field = {"first_due": "firstDue", "installments": "installments", "emi": "emi"}.get(exc.field or "")
            raise _refuse("ValidationError", exc.message, field=field) from None

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
        tries_afresh = self._restructure_tries_asked()  # first: before the lock's wait (autopay-restructure-tries-v1)
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
            if tries_afresh:  # each new installment gets its own autopay tries
                await self._restart_debit_tries(new)
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
            # a co-lent loan's partner gets its part of the new schedule (co-lending-restructure-v1; never raises)
            await colend_restructured(self, state.schedule_version)
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
            raise _refuse("ValidationError", "a rejection needs a reason", field="reason")


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
