"""Co-lending's activities (``workflows.colending``): book a disbursed loan as co-lent (its split and each lender's
funding on its sub-ledger), each step of the partner's lifecycle through its adapter, and the split of each payment
with the partner's part sent to its wallet. Thin: the rules are ``domain.colending``, the SQL ``db.colending``, the
partner's API ``activities.providers.partners.lendbox_colending``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.colending_losses import CoLendingLosses
from activities.providers.base import BusinessRefusal
from activities.providers.partners.lendbox_colending import LendboxColending, colending_adapter
from activities.storage import LocalStorage, S3Storage
from db import colending as q
from db import colending_losses as lq
from db.models import (
    CoLendingLeg,
    CoLentLoan,
    Customer,
    Loan,
    LoanAgreement,
    PartnerAttempt,
    PartnerLender,
    PartnerOffer,
    RepaymentInstallment,
)
from db.session import Database
from domain.colending import Parts, Splitter, principal_split, schedule_split
from domain.colending import ledger as cl
from domain.colending.split import remaining_schedule
from domain.errors import ValidationError
from workflows.contracts.colending import (
    CoLendBookRequest,
    CoLendPayment,
    CoLendReschedule,
    CoLendSplit,
    CoLendStepRequest,
    CoLendStepResult,
    CoLentBook,
)

#: The partner's lifecycle after disbursal, in order (a step needs the ones before it).
STEPS = ("BORROWER", "LOAN", "DOCUMENTS", "ESIGN", "SCHEDULE", "FUNDING")


@dataclass
class _StepContext:
    co: dict[str, Any]
    settings: dict[str, Any]
    adapter: str
    borrower: dict[str, Any]
    booking_id: str | None
    lines: list[dict[str, Any]]
    agreement_key: str | None


class CoLendingActivities(CoLendingLosses):
    """``colending_book``, ``colending_of``, ``colending_partner_step``, ``colending_split``,
    ``colending_reschedule``, and the losses' and DLG's ``colending_loss`` and ``colending_overdue``
    (``activities.colending_losses``); ``all()`` lists them for the worker."""

    def __init__(self, db: Database, http: httpx.AsyncClient, storage: LocalStorage | S3Storage, api_url: str):
        self.db = db
        self.http = http
        self.storage = storage
        self.api_url = api_url

    def all(self) -> list[Callable[..., Any]]:
        return [self.colending_book, self.colending_of, self.colending_partner_step, self.colending_split,
                self.colending_loss, self.colending_overdue, self.colending_reschedule]  # fmt: skip

    @activity.defn
    async def colending_of(self, loan_id: str) -> CoLentBook | None:
        """The loan's co-lending booking, or None when it is not co-lent."""

        def run(session: Session) -> CoLentBook | None:
            row = q.co_lent(session, loan_id)
            if row is None:
                return None
            return CoLentBook(row.partner_code, row.partner_share_bps, row.originator_principal, row.partner_principal)

        return await self._tx(run)

    @activity.defn
    async def colending_book(self, req: CoLendBookRequest) -> CoLentBook | None:
        """The loan as co-lent with its partner when the brand has an active agreement with it (None otherwise:
        the loan stays the originator's alone): the terms it is booked on, each lender's principal (largest
        remainder) and its funding posted to each lender's sub-ledger. Written once; a retry reads it back."""

        def run(session: Session) -> CoLentBook | None:
            row = q.co_lent(session, req.loan_id)
            if row is None:
                agreement_row = q.agreement_row(session, req.brand_id, req.partner_id)
                if agreement_row is None or not agreement_row.active:
                    return None
                agreement = q.as_agreement(agreement_row)
                try:
                    agreement.check(req.blended_rate_bps)
                except ValidationError as bad:  # an agreement the loan's rate cannot carry: not co-lent
                    activity.logger.warning("loan %s not co-lent: %s", req.loan_id, bad)
                    return None
                mine, theirs = principal_split(agreement, req.amount)
                row = CoLentLoan(
                    brand_id=req.brand_id, loan_id=req.loan_id, partner_id=req.partner_id,
                    partner_code=req.partner_code, partner_share_bps=agreement.partner_share_bps,
                    partner_rate_bps=agreement.partner_rate_bps, blended_rate_bps=req.blended_rate_bps,
                    fees_rule=agreement.fees.value, penal_rule=agreement.penal.value, principal=req.amount,
                    originator_principal=mine, partner_principal=theirs, disbursed_on=req.disbursed_on, steps={},
                )  # fmt: skip
                session.add(row)
                session.flush()
            key = f"{req.idempotency_key}:funded"
            q.post(session, row, cl.ORIGINATOR, cl.funded(cl.ORIGINATOR, row.originator_principal), key,
                   row.disbursed_on)  # fmt: skip
            q.post(session, row, cl.PARTNER, cl.funded(cl.PARTNER, row.partner_principal), key, row.disbursed_on)
            return CoLentBook(row.partner_code, row.partner_share_bps, row.originator_principal, row.partner_principal)

        return await self._tx(run)

    @activity.defn
    async def colending_split(self, req: CoLendPayment) -> CoLendSplit:
        """One applied payment divided between the lenders (``domain.colending.Splitter`` over everything split
        before it), each lender's part posted to its sub-ledger once per payment; then the partner's part sent to
        its wallet (a wallet order, idempotent by the payment). The split is the collection's apportionment from the
        escrow account to each lender (recorded once per payment and lender). The split's base is everything
        repaid or lost before it (``db.colending_losses.resolved``). A loan that is not co-lent splits nothing."""
        key = f"colending:payment:{req.payment_id}"

        def run(session: Session) -> tuple[CoLendSplit, dict[str, Any] | None]:
            row = q.co_lent(session, req.loan_id, lock=True)
            if row is None:
                return CoLendSplit(), None
            parts = Parts(req.principal, req.interest, req.fees, req.penal)
            if session.scalar(select(CoLendingLeg.id).where(CoLendingLeg.txn_key == key).limit(1)) is not None:
                split_parts = (q.collected_for(session, key, cl.ORIGINATOR), q.collected_for(session, key, cl.PARTNER))
            else:
                splitter = Splitter(q.as_agreement(row), row.blended_rate_bps, lq.resolved(session, req.loan_id))
                split = splitter.split(parts)
                q.post(session, row, cl.ORIGINATOR, cl.collected(split.originator), key, req.value_date)
                q.post(session, row, cl.PARTNER, cl.collected(split.partner), key, req.value_date)
                split_parts = (split.originator, split.partner)
            lq.apportion(session, row, req.payment_id, dict(zip(cl.LENDERS, split_parts, strict=True)), req.value_date)
            result = CoLendSplit(_as_dict(split_parts[0]), _as_dict(split_parts[1]))
            partner = session.get_one(PartnerLender, row.partner_id)
            remit = None
            if split_parts[1].total > 0 and row.partner_loan_id:
                result.order_id = f"CL-{req.payment_id}"[:60]
                remit = {"adapter": partner.adapter, "settings": dict(partner.settings or {}),
                         "loan": row.partner_loan_id, "parts": result.partner}  # fmt: skip
            return result, remit

        result, remit = await self._tx(run)
        if remit is not None and result.order_id is not None:
            await self._remit(req, result.order_id, remit)
        return result

    async def _remit(self, req: CoLendPayment, order_id: str, remit: dict[str, Any]) -> None:
        api = colending_adapter(self.http, remit["adapter"], remit["settings"])
        if api is None:
            return
        try:
            wallet_id, status = await api.wallet_order(remit["loan"], order_id, remit["parts"])
        except BusinessRefusal as no:  # kept for ops: the split stands, the remittance is retried from the report
            wallet_id, status = None, f"REFUSED: {no}"[:200]

        def write(session: Session) -> None:
            row = q.co_lent(session, req.loan_id, lock=True)
            assert row is not None
            orders = dict((row.steps or {}).get("orders") or {})
            known = orders.get(order_id, {})
            orders[order_id] = {**known, "walletOrderId": wallet_id, "status": known.get("status") or status,
                                "amount": sum(remit["parts"].values()), "on": req.value_date.isoformat(),
                                "paymentId": req.payment_id}  # fmt: skip
            row.steps = {**(row.steps or {}), "orders": orders}

        await self._tx(write)

    @activity.defn
    async def colending_partner_step(self, req: CoLendStepRequest) -> CoLendStepResult:
        """One step of the partner's lifecycle (:data:`STEPS`) through its co-lending adapter: DONE with the
        partner's reference (written once: a retry after it returns it), FAILED with the partner's reason when it
        refused (the loan goes on), SKIPPED for a partner with no co-lending API. A transient fault raises."""
        ctx = await self._tx(lambda s: self._step_context(s, req.loan_id))
        if ctx is None:
            return CoLendStepResult(req.step, "SKIPPED", reason="the loan is not co-lent")
        done = (ctx.co["steps"] or {}).get(req.step) or {}
        if done.get("status") == "DONE":
            return CoLendStepResult(req.step, "DONE", done.get("reference"))
        api = colending_adapter(self.http, ctx.adapter, ctx.settings)
        if api is None:
            result = CoLendStepResult(req.step, "SKIPPED", reason=f"{ctx.adapter} has no co-lending API")
        else:
            try:
                result = CoLendStepResult(req.step, "DONE", await self._step(api, req, ctx))
            except BusinessRefusal as no:
                result = CoLendStepResult(req.step, "FAILED", reason=str(no)[:300])

        def write(session: Session) -> None:
            row = q.co_lent(session, req.loan_id, lock=True)
            assert row is not None
            q.set_step(row, req.step, status=result.status, reference=result.reference, reason=result.reason)
            if result.status == "DONE" and req.step == "BORROWER":
                row.partner_borrower_id = result.reference
            if result.status == "DONE" and req.step == "LOAN":
                row.partner_loan_id = result.reference
                row.partner_status = "CREATED"

        await self._tx(write)
        return result

    @activity.defn
    async def colending_reschedule(self, req: CoLendReschedule) -> CoLendStepResult:
        """The loan's schedule changed (a restructure, schedule ``version``): its ``SCHEDULE`` step is sent to the
        partner again with the partner's part of what is left of the schedule (``remaining_schedule``: its
        principal outstanding over the installments still to pay). The step is first marked PENDING for the version
        (recorded, so a partner that refuses or does not answer leaves it for ops' retry,
        ``workflows.colending_retry``, which sends it from the step's state), then sent as
        ``colending_partner_step`` sends it. DONE for the version already: answered from the database, not sent
        again. SKIPPED for a loan that is not co-lent; a transient fault raises (the step stays PENDING)."""

        def mark(session: Session) -> CoLendStepResult | None:
            row = q.co_lent(session, req.loan_id, lock=True)
            if row is None:
                return CoLendStepResult("SCHEDULE", "SKIPPED", reason="the loan is not co-lent")
            step = (row.steps or {}).get("SCHEDULE") or {}
            if step.get("version") == req.version and step.get("status") == "DONE":
                return CoLendStepResult("SCHEDULE", "DONE", step.get("reference"))
            if step.get("version") != req.version:
                q.set_step(row, "SCHEDULE", status="PENDING", version=req.version, reference=None,
                           reason=f"restructured: schedule v{req.version} to send")  # fmt: skip
            return None

        known = await self._tx(mark)
        if known is not None:
            return known
        key = f"loan-{req.loan_id}:colending:schedule:v{req.version}"
        return await self.colending_partner_step(CoLendStepRequest(req.loan_id, req.brand_id, "SCHEDULE", key))

    async def _step(self, api: LendboxColending, req: CoLendStepRequest, ctx: _StepContext) -> str:
        co, step = ctx.co, req.step
        if step == "BORROWER":
            return await api.create_borrower(f"cust-{co['customer_id']}", ctx.borrower)
        loan_id = co["partner_loan_id"]
        if step == "LOAN":
            hook = f"{self.api_url}/api/v1/webhooks/{req.brand_id}/partners/lendbox"
            return (await api.create_loan(
                reference=req.loan_id, borrower_id=co["partner_borrower_id"], booking_id=ctx.booking_id,
                principal=co["principal"], share=co["partner_principal"], share_bps=co["partner_share_bps"],
                blended_bps=co["blended_rate_bps"], lendbox_bps=co["partner_rate_bps"], tenure=len(ctx.lines),
                disbursed_on=co["disbursed_on"], callback_url=hook,
            ))[0]  # fmt: skip
        if step == "DOCUMENTS":
            content = self.storage.get(ctx.agreement_key) if ctx.agreement_key else b""
            if not content:
                return "none"
            return await api.upload_document(loan_id, "AGREEMENT", f"agreement-{req.loan_id}.pdf", content)
        if step == "ESIGN":
            return (await api.start_esign(loan_id))[0]
        if step == "SCHEDULE":
            return str(await api.sync_schedule(loan_id, ctx.lines))
        if step == "FUNDING":
            return await api.request_disbursal(loan_id, co["partner_principal"], f"fund-{req.loan_id}")
        raise BusinessRefusal(f"unknown co-lending step {step!r}")

    @staticmethod
    def _step_context(session: Session, loan_id: str) -> _StepContext | None:
        row = q.co_lent(session, loan_id)
        if row is None:
            return None
        partner = session.get_one(PartnerLender, row.partner_id)
        loan = session.get_one(Loan, loan_id)
        customer = session.get_one(Customer, loan.customer_id)
        installments = session.scalars(
            select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan_id)
            .order_by(RepaymentInstallment.installment_no)
        ).all()  # fmt: skip
        if ((row.steps or {}).get("SCHEDULE") or {}).get("version"):  # restructured: what is left, as it is left
            installments = [i for i in installments if i.status != "PAID"]
            left = [Parts(max(0, i.principal - i.principal_paid), max(0, i.interest - i.interest_paid),
                          max(0, i.fees - i.fees_paid)) for i in installments]  # fmt: skip
            outstanding = session.scalar(
                select(func.coalesce(func.sum(CoLendingLeg.amount), 0)).where(
                    CoLendingLeg.loan_id == loan_id, CoLendingLeg.lender == cl.PARTNER,
                    CoLendingLeg.account == cl.CL_PRINCIPAL)
            )  # fmt: skip
            theirs = remaining_schedule(q.as_agreement(row), row.blended_rate_bps, max(0, int(outstanding or 0)), left)
        else:
            whole = [Parts(i.principal, i.interest, i.fees) for i in installments]
            theirs = [s.partner for s in schedule_split(q.as_agreement(row), row.blended_rate_bps, whole)]
        lines = [{"number": i.installment_no, "due_date": i.due_date.isoformat() if i.due_date else None,
                  "principal": p.principal, "interest": p.interest, "fees": p.fees}
                 for i, p in zip(installments, theirs, strict=True)]  # fmt: skip
        booking = session.scalar(
            select(PartnerOffer.id).where(PartnerOffer.loan_id == loan_id, PartnerOffer.partner_id == row.partner_id,
                                          PartnerOffer.status == "ACCEPTED").limit(1)
        )  # fmt: skip
        attempt_ref = session.scalar(
            select(PartnerAttempt.partner_reference).where(PartnerAttempt.offer_id == booking).limit(1)
        ) if booking else None  # fmt: skip
        agreement = session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan_id)).first()
        co = {c: getattr(row, c) for c in ("principal", "partner_principal", "partner_share_bps", "blended_rate_bps",
                                           "partner_rate_bps", "disbursed_on", "partner_loan_id",
                                           "partner_borrower_id", "steps")}  # fmt: skip
        co["customer_id"] = customer.id
        borrower = {"name": customer.pan_name or customer.full_name or "", "pan": customer.pan or "",
                    "dob": customer.dob.isoformat() if customer.dob else None, "mobile": customer.phone[-10:],
                    "email": customer.email, "state": customer.state, "pincode": customer.pincode}  # fmt: skip
        key = (agreement.signed_storage_key or agreement.storage_key) if agreement is not None else None
        return _StepContext(co, dict(partner.settings or {}), partner.adapter, borrower, attempt_ref, lines, key)


def _as_dict(parts: Parts) -> dict[str, int]:
    return {"principal": parts.principal, "interest": parts.interest, "fees": parts.fees, "penal": parts.penal}
