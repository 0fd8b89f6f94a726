"""Activities of the loan workflow. Thin: call one provider or write one fact, idempotently.

Every write is keyed so a retried activity (worker crash, timeout) finds its own earlier work and
does not repeat it: status history by (loan, seq), provider calls and ledger transactions by
idempotency key, payments by the gateway's payment id.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import providers
from activities.base import DbActivities
from activities.documents import PdfRenderer, render_html
from activities.notify import notify
from activities.providers.base import BusinessRefusal
from activities.receipts import ReceiptActivities, unrecordable
from activities.storage import LocalStorage
from db.models import (
    AuditLog,
    Brand,
    BureauReport,
    Customer,
    Disbursal,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanAgreement,
    LoanStatusHistory,
    PaymentLink,
    PaymentTransaction,
    ProviderCall,
    RepaymentInstallment,
    StaffBrandRole,
    StaffUser,
)
from db.session import Database
from domain import ledger, schedule
from domain.errors import ValidationError
from domain.money import format_inr
from domain.outcomes import (
    AgreementStatus,
    DisbursalStatus,
    InstallmentStatus,
    PaymentLinkStatus,
    PaymentStatus,
    ProviderCallStatus,
)
from domain.status import TERMINAL, LoanStatus
from workflows.contracts import (
    AgreementOutcome,
    AgreementRequest,
    AgreementResult,
    BureauResult,
    DelinquencyRecord,
    DisbursalRequest,
    DisbursalResult,
    DisbursedRecord,
    InstallmentState,
    KycResult,
    OverdueRecord,
    PaymentLinkRequest,
    PaymentPart,
    PaymentRecord,
    PenalLevy,
    ProviderRequest,
    StatusChange,
)

T = TypeVar("T")


def _still_acts(session: Session, staff_id: str | None, brand_id: str, stage: str | None) -> str | None:
    """``staff_id`` if they are still active in the brand with the stage's role (or a super admin): a loan is
    never handed back to someone who left or changed role since; it goes to the stage's pool instead."""
    if staff_id is None:
        return None
    row = session.execute(
        select(StaffUser.is_active, StaffUser.role, StaffBrandRole.role)
        .outerjoin(StaffBrandRole, (StaffBrandRole.staff_id == StaffUser.id) & (StaffBrandRole.brand_id == brand_id))
        .where(StaffUser.id == staff_id)
    ).first()
    if row is None or not row[0]:
        return None
    return staff_id if row[1] == "SUPER_ADMIN" or (stage is not None and row[2] == stage) else None


def _review_state(loan: Loan) -> dict[str, Any]:
    return {
        "status": loan.status,
        "reviewStage": loan.review_stage,
        "assignedTo": loan.assigned_to,
        "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
        "sanctionConditions": loan.sanction_conditions,
    }


def _refusal(exc: BusinessRefusal) -> ApplicationError:
    return ApplicationError(str(exc), type="BusinessRefusal", non_retryable=True)


def _post(session: Session, loan_id: str, key: str, txn: ledger.Transaction) -> bool:
    """Insert one balanced ledger transaction unless its key was already posted."""
    txn_id = session.execute(
        insert(LedgerTransaction)
        .values(loan_id=loan_id, kind=txn.kind, idempotency_key=key)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LedgerTransaction.id)
    ).scalar_one_or_none()
    if txn_id is None:
        return False
    session.add_all(LedgerEntry(transaction_id=txn_id, account=leg.account, amount=leg.amount) for leg in txn.legs)
    return True


def _installment_row(loan_id: str, inst: InstallmentState, balance_after: int) -> RepaymentInstallment:
    return RepaymentInstallment(
        loan_id=loan_id,
        installment_no=inst.number,
        due_at=inst.due_at,
        due_date=inst.due_date,
        days=inst.days,
        principal=inst.principal,
        interest=inst.interest,
        fees=inst.fees,
        total=inst.principal + inst.interest + inst.fees,
        balance_after=balance_after,
    )


class LoanActivities(ReceiptActivities, DbActivities):
    def __init__(
        self, db: Database, http: httpx.AsyncClient, storage: LocalStorage, renderer: PdfRenderer, api_url: str
    ):
        self.db = db
        self.http = http
        self.storage = storage
        self.renderer = renderer
        self.api_url = api_url.rstrip("/")

    def _callback(self, brand_id: str, vendor: str) -> str:
        return f"{self.api_url}/api/v1/webhooks/{brand_id}/{vendor}"

    async def _record_call(self, req: ProviderRequest, kind: str, outcome: str, response: dict) -> None:
        def write(session: Session) -> None:
            session.execute(
                insert(ProviderCall)
                .values(
                    loan_id=req.loan_id,
                    kind=kind,
                    provider=req.provider,
                    idempotency_key=req.idempotency_key,
                    outcome=outcome,
                    response=response,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )

        await self._tx(write)

    # ------------------------------------------------------------------ status
    @activity.defn
    async def record_status(self, change: StatusChange) -> None:
        """One status move (or review-stage move) of a loan, once: the history row, the loan's columns, and
        for staff actions the audit log and notifications, all in one transaction."""

        def write(session: Session) -> None:
            inserted = session.execute(
                insert(LoanStatusHistory)
                .values(
                    loan_id=change.loan_id,
                    seq=change.seq,
                    from_status=change.from_status,
                    to_status=change.to_status,
                    reason=change.reason,
                    actor=change.actor,
                    action=change.action,
                    actor_id=change.actor_id,
                    details=change.details,
                )
                .on_conflict_do_nothing(index_elements=["loan_id", "seq"])
                .returning(LoanStatusHistory.id)
            ).scalar_one_or_none()
            if inserted is None:
                return
            loan = session.get_one(Loan, change.loan_id, with_for_update=True)
            before = _review_state(loan)
            values: dict[str, Any] = {"status": change.to_status, "status_reason": change.reason}
            if LoanStatus(change.to_status) in TERMINAL:
                values["closed_at"] = datetime.now(UTC)
                values["next_due_at"] = None
            values["review_stage"] = (
                change.review_stage if LoanStatus(change.to_status) == LoanStatus.UNDER_REVIEW else None
            )
            if change.reassign:
                holder = _still_acts(session, change.assign_to, loan.brand_id, change.review_stage)
                values["assigned_to"] = holder
                values["assigned_at"] = datetime.now(UTC) if holder else None
            details = change.details or {}
            if "scoreOverride" in details:
                values["score_override"] = Decimal(str(details["scoreOverride"]))
                values["score_override_reason"] = details.get("reason")
            if "conditions" in details:
                values["sanction_conditions"] = details["conditions"]
            session.execute(update(Loan).where(Loan.id == change.loan_id).values(**values))
            session.flush()
            session.refresh(loan)
            after = _review_state(loan)
            key = f"status:{change.loan_id}:{change.seq}"
            if change.actor_id:
                role, _, email = change.actor.partition(":")
                session.execute(
                    insert(AuditLog)
                    .values(
                        brand_id=loan.brand_id,
                        actor_id=change.actor_id,
                        actor_email=email or None,
                        actor_role=role or None,
                        action=f"loan.{(change.action or 'status').lower()}",
                        entity_type="loan",
                        entity_id=loan.id,
                        before=before,
                        after=after,
                        idempotency_key=key,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                )
            previous = before["assignedTo"]
            if previous and previous != change.actor_id and change.from_status != change.to_status:
                notify(
                    session,
                    previous,
                    loan.brand_id,
                    "STATUS_CHANGE",
                    f"Loan is now {change.to_status}",
                    change.reason or "",
                    {"loanId": loan.id, "from": change.from_status, "to": change.to_status},
                    f"{key}:status",
                )
            if change.reassign and after["assignedTo"] and after["assignedTo"] != previous:
                notify(
                    session,
                    after["assignedTo"],
                    loan.brand_id,
                    "NEW_ASSIGNMENT",
                    "Loan assigned to you",
                    change.reason or "",
                    {"loanId": loan.id, "reviewStage": change.review_stage},
                    f"{key}:assign",
                )

        await self._tx(write)

    # ------------------------------------------------------------------ KYC and bureau
    @activity.defn
    async def verify_pan(self, req: ProviderRequest) -> KycResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            kyc = providers.build("kyc", brand.config, self.http)
            result = await kyc.verify_pan(customer.pan or "")
        except BusinessRefusal as exc:
            raise _refusal(exc) from exc
        outcome = ProviderCallStatus.VERIFIED if result.valid else ProviderCallStatus.FAILED
        await self._record_call(req, "KYC_PAN", outcome, result.raw)
        if result.valid and result.name:

            def save_name(session: Session) -> None:
                session.execute(update(Customer).where(Customer.id == customer.id).values(full_name=result.name))

            await self._tx(save_name)
        return KycResult(result.valid, result.name, result.reason, kyc.config.vendor)

    @activity.defn
    async def pull_bureau(self, req: ProviderRequest) -> BureauResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            bureau = providers.build("bureau", brand.config, self.http)
            report = await bureau.pull(customer.pan or "", customer.full_name, req.idempotency_key)
        except BusinessRefusal as exc:
            raise _refusal(exc) from exc

        def write(session: Session) -> None:
            session.execute(
                insert(BureauReport)
                .values(loan_id=req.loan_id, provider=bureau.config.vendor, score=report.score, report=report.raw)
                .on_conflict_do_nothing(index_elements=["loan_id"])
            )
            session.execute(update(Loan).where(Loan.id == req.loan_id).values(credit_score=report.score))

        await self._tx(write)
        return BureauResult(report.score, bureau.config.vendor)

    # ------------------------------------------------------------------ agreement + eSign
    @activity.defn
    async def prepare_agreement(self, req: AgreementRequest) -> AgreementResult:
        def existing(session: Session) -> LoanAgreement | None:
            return session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == req.loan_id)).first()

        found = await self._tx(existing)
        if found is not None and found.docket_id and found.signing_url:
            return AgreementResult(found.docket_id, found.signing_url, found.storage_key, found.sha256)

        loan, customer, brand = await self._tx(self._context(req.loan_id))
        t = req.terms
        plan = schedule.generate(t.schedule_terms(req.now.date()))
        rows = plan.rows
        html = render_html(
            "agreement.html",
            {
                "loan_id": loan.id,
                "brand_name": brand.name,
                "generated_on": req.now.date().isoformat(),
                "borrower_name": customer.full_name or "—",
                "phone": customer.phone,
                "pan_masked": f"{(customer.pan or '')[:2]}XXXXX{(customer.pan or '')[-3:]}",
                "amount": format_inr(t.amount),
                "rate": f"{t.annual_rate_bps / 100:.2f}",
                "tenure": t.tenure,
                "frequency": f"every {t.repay_every} {t.repay_unit.lower()}",
                "emi": format_inr(plan.emi),
                "total_interest": format_inr(sum(r.interest for r in rows)),
                "total_payable": format_inr(sum(r.total for r in rows)),
                "schedule": [
                    {
                        "number": r.number,
                        "principal": format_inr(r.principal),
                        "interest": format_inr(r.interest),
                        "total": format_inr(r.total),
                        "balance": format_inr(r.balance),
                        "due_date": r.due_date.isoformat(),
                    }
                    for r in rows
                ],
            },
        )
        pdf = await self.renderer.pdf(html)
        key = f"agreements/{loan.brand_id}/{loan.id}.pdf"
        await asyncio.to_thread(self.storage.put, key, pdf)
        digest = hashlib.sha256(pdf).hexdigest()
        try:
            esign = providers.build("esign", brand.config, self.http)
            docket = await esign.create_docket(
                reference_id=loan.id,
                pdf=pdf,
                signer_name=customer.full_name or customer.phone,
                signer_phone=customer.phone,
                expires_in_seconds=req.expires_in_seconds,
                callback_url=self._callback(brand.id, esign.config.vendor),
                idempotency_key=req.idempotency_key,
            )
        except BusinessRefusal as exc:
            raise _refusal(exc) from exc

        def write(session: Session) -> None:
            session.execute(
                insert(LoanAgreement)
                .values(
                    loan_id=loan.id,
                    storage_key=key,
                    sha256=digest,
                    docket_id=docket.docket_id,
                    signing_url=docket.signing_url,
                    esign_provider=esign.config.vendor,
                    status=AgreementStatus.SENT,
                    expires_at=req.now + timedelta(seconds=req.expires_in_seconds),
                )
                .on_conflict_do_update(
                    index_elements=["loan_id"],
                    set_={
                        "docket_id": docket.docket_id,
                        "signing_url": docket.signing_url,
                        "storage_key": key,
                        "sha256": digest,
                        "status": AgreementStatus.SENT,
                    },
                )
            )

        await self._tx(write)
        await self._notify(
            brand,
            customer.phone,
            "ESIGN_LINK",
            f"{brand.name}: your loan is sanctioned. Sign your agreement: {docket.signing_url}",
        )
        return AgreementResult(docket.docket_id, docket.signing_url, key, digest)

    @activity.defn
    async def record_agreement_outcome(self, outcome: AgreementOutcome) -> None:
        signed = outcome.status == AgreementStatus.SIGNED

        def write(session: Session) -> None:
            session.execute(
                update(LoanAgreement)
                .where(LoanAgreement.loan_id == outcome.loan_id, LoanAgreement.status == AgreementStatus.SENT)
                .values(status=outcome.status, signed_at=outcome.at if signed else None)
            )

        await self._tx(write)

    async def _notify(self, brand: Brand, phone: str, template: str, text: str) -> None:
        """Best effort: a customer message never fails the loan step that triggered it."""
        try:
            sms = providers.build("sms", brand.config, self.http)
            await sms.send_sms(to=phone, text=text, template=template)
        except Exception as exc:  # noqa: BLE001
            activity.logger.warning("SMS %s to %s not sent: %s", template, phone, exc)

    # ------------------------------------------------------------------ disbursal
    @activity.defn
    async def initiate_disbursal(self, req: DisbursalRequest) -> DisbursalResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))

        def reserve(session: Session) -> Disbursal:
            session.execute(
                insert(Disbursal)
                .values(
                    loan_id=req.loan_id,
                    idempotency_key=req.idempotency_key,
                    amount=req.amount,
                    provider=req.provider,
                    approved_by=req.approved_by,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            return session.scalars(select(Disbursal).where(Disbursal.idempotency_key == req.idempotency_key)).one()

        row = await self._tx(reserve)
        if row.transfer_id:
            return DisbursalResult(row.transfer_id, DisbursalStatus(row.status))
        try:
            bank = providers.build("disbursal", brand.config, self.http)
            transfer = await bank.transfer(
                amount=req.amount,
                reference_id=loan.id,
                beneficiary={"name": customer.full_name, "phone": customer.phone},
                callback_url=self._callback(brand.id, bank.config.vendor),
                idempotency_key=req.idempotency_key,
            )
        except BusinessRefusal as exc:
            raise _refusal(exc) from exc

        def save(session: Session) -> None:
            session.execute(
                update(Disbursal)
                .where(Disbursal.id == row.id)
                .values(transfer_id=transfer.transfer_id, status=DisbursalStatus.PENDING)
            )

        await self._tx(save)
        return DisbursalResult(transfer.transfer_id, DisbursalStatus.PENDING)

    @activity.defn
    async def record_disbursal(self, rec: DisbursedRecord) -> None:
        def write(session: Session) -> None:
            txn = ledger.disbursal_with_deductions(
                rec.amount,
                upfront_fees=rec.upfront_fees,
                upfront_fees_gst=rec.upfront_fees_gst,
                third_party=rec.third_party,
            )
            if not _post(session, rec.loan_id, rec.ledger_key, txn):
                return
            balance = rec.amount
            for inst in rec.installments:
                balance -= inst.principal
                session.add(_installment_row(rec.loan_id, inst, balance))
            session.execute(
                update(Disbursal)
                .where(Disbursal.transfer_id == rec.transfer_id)
                .values(status=DisbursalStatus.SETTLED, utr=rec.utr, settled_at=rec.disbursed_at)
            )
            session.execute(
                update(Loan)
                .where(Loan.id == rec.loan_id)
                .values(
                    disbursed_at=rec.disbursed_at,
                    disbursal_utr=rec.utr,
                    outstanding_principal=rec.amount,
                    next_due_at=rec.installments[0].due_at,
                )
            )

        await self._tx(write)

    # ------------------------------------------------------------------ repayment
    @activity.defn
    async def ensure_payment_link(self, req: PaymentLinkRequest) -> str:
        """An ACTIVE link for exactly the amount now due on the installment. A link for another amount
        (a penal charge was levied, or a part-payment made) is superseded; a paid one is left as it is."""

        superseded: list[str] = []

        def existing(session: Session) -> PaymentLink | None:
            links = session.scalars(
                select(PaymentLink)
                .where(PaymentLink.loan_id == req.loan_id, PaymentLink.installment_no == req.installment_no)
                .with_for_update()
            ).all()
            match = None
            for link in links:
                if link.amount == req.amount and link.status == PaymentLinkStatus.ACTIVE:
                    match = link
                elif link.status == PaymentLinkStatus.ACTIVE:
                    link.status = PaymentLinkStatus.SUPERSEDED
                    superseded.append(link.link_id)
            return match

        found = await self._tx(existing)
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        gateway = providers.build("payments", brand.config, self.http)
        for link_id in superseded:
            try:  # a customer must not pay a stale amount; if the gateway refuses, a payment is still applied
                await gateway.cancel_payment_link(link_id)
            except Exception as exc:  # noqa: BLE001
                activity.logger.warning("could not cancel superseded link %s: %s", link_id, exc)
        if found is not None:
            return found.url
        try:
            link = await gateway.create_payment_link(
                amount=req.amount,
                # the gateway keeps reference ids unique, so a retried call returns the same link
                reference_id=f"{loan.id}:{req.installment_no}:{req.amount}",
                description=f"{brand.name} loan installment {req.installment_no}",
                customer_phone=customer.phone,
                notes={"loan_id": loan.id, "installment_no": req.installment_no},
                callback_url=self._callback(brand.id, gateway.config.vendor),
            )
        except BusinessRefusal as exc:
            raise _refusal(exc) from exc

        def write(session: Session) -> None:
            session.execute(
                insert(PaymentLink)
                .values(
                    loan_id=loan.id,
                    installment_no=req.installment_no,
                    provider=gateway.config.vendor,
                    link_id=link.link_id,
                    url=link.url,
                    amount=req.amount,
                )
                .on_conflict_do_nothing(index_elements=["loan_id", "installment_no", "amount"])
            )

        await self._tx(write)
        return link.url

    @activity.defn
    async def record_payment(self, rec: PaymentRecord) -> None:
        def write(session: Session) -> None:
            pay = rec.payment
            parts = rec.parts or [PaymentPart(n, interest=i, principal=p) for n, i, p in rec.allocations]
            totals = {k: sum(getattr(p, k) for p in parts) for k in ("penal", "fees", "interest", "principal")}
            inserted = session.execute(
                insert(PaymentTransaction)
                .values(
                    loan_id=rec.loan_id,
                    gateway=pay.gateway,
                    gateway_payment_id=pay.payment_id,
                    amount=pay.amount,
                    principal_part=totals["principal"] + rec.advance_principal,
                    interest_part=totals["interest"],
                    fees_part=totals["fees"],
                    penal_part=totals["penal"],
                    advance_part=rec.advance_principal,
                    excess_part=rec.excess,
                    status=PaymentStatus.SUCCESS,
                )
                .on_conflict_do_nothing(index_elements=["gateway", "gateway_payment_id"])
                .returning(PaymentTransaction.id)
            ).scalar_one_or_none()
            if inserted is None:
                return  # this payment id was already applied
            if pay.link_id:
                session.execute(
                    update(PaymentLink)
                    .where(PaymentLink.link_id == pay.link_id, PaymentLink.loan_id == rec.loan_id)
                    .values(status=PaymentLinkStatus.PAID)
                )
            key = f"payment:{pay.gateway}:{pay.payment_id}"
            if totals["fees"]:  # installment fees are recognised when collected
                _post(session, rec.loan_id, f"{key}:fees", ledger.fee_charge(totals["fees"]))
            # Interest on the cash basis (credited to income when collected); the penal receivable was
            # raised when the charge was levied.
            txn = ledger.repayment_split(
                principal=totals["principal"] + rec.advance_principal,
                interest=totals["interest"],
                fees=totals["fees"],
                penal=totals["penal"],
                excess=rec.excess,
                accrued_interest=0,
            )
            _post(session, rec.loan_id, key, txn)
            now = datetime.now(UTC)
            for part in parts:
                inst = session.scalars(
                    select(RepaymentInstallment)
                    .where(
                        RepaymentInstallment.loan_id == rec.loan_id, RepaymentInstallment.installment_no == part.number
                    )
                    .with_for_update()
                ).one()
                inst.penal_paid += part.penal
                inst.fees_paid += part.fees
                inst.interest_paid += part.interest
                inst.principal_paid += part.principal
                if (
                    inst.interest_paid >= inst.interest
                    and inst.principal_paid >= inst.principal
                    and inst.fees_paid >= inst.fees
                    and inst.penal_paid >= inst.penal
                ):
                    inst.status, inst.paid_at = InstallmentStatus.PAID, now
                    session.execute(
                        update(PaymentLink)
                        .where(PaymentLink.loan_id == rec.loan_id, PaymentLink.installment_no == part.number)
                        .values(status=PaymentLinkStatus.PAID)
                    )
            if rec.rescheduled_from is not None:
                # An advance to principal re-amortised the future: replace those rows.
                session.execute(
                    delete(RepaymentInstallment).where(
                        RepaymentInstallment.loan_id == rec.loan_id,
                        RepaymentInstallment.installment_no >= rec.rescheduled_from,
                    )
                )
                balance = rec.outstanding_principal
                for inst_state in rec.rescheduled:
                    balance -= inst_state.principal
                    session.add(_installment_row(rec.loan_id, inst_state, balance))
            session.execute(
                update(Loan)
                .where(Loan.id == rec.loan_id)
                .values(
                    outstanding_principal=rec.outstanding_principal,
                    next_due_at=rec.next_due_at,
                    total_collected=Loan.total_collected + pay.amount,
                )
            )

        try:
            await self._tx(write)
        except (DataError, ValidationError) as exc:  # retrying cannot fix these: the workflow parks the payment
            raise unrecordable(exc) from exc

    @activity.defn
    async def levy_penal(self, levy: PenalLevy) -> None:
        """A penal charge on an overdue installment: its own receivable, never principal or interest."""

        def write(session: Session) -> None:
            if not _post(session, levy.loan_id, levy.key, ledger.penal_charge(levy.amount)):
                return
            session.execute(
                update(RepaymentInstallment)
                .where(
                    RepaymentInstallment.loan_id == levy.loan_id,
                    RepaymentInstallment.installment_no == levy.installment_no,
                )
                .values(penal=RepaymentInstallment.penal + levy.amount)
            )

        await self._tx(write)

    @activity.defn
    async def record_delinquency(self, rec: DelinquencyRecord) -> None:
        def write(session: Session) -> None:
            values: dict[str, Any] = {"dpd": rec.dpd, "asset_class": rec.asset_class}
            if rec.class_changed and rec.as_of is not None:
                values["asset_class_since"] = rec.as_of
            session.execute(update(Loan).where(Loan.id == rec.loan_id).values(**values))

        await self._tx(write)

    @activity.defn
    async def mark_overdue(self, rec: OverdueRecord) -> None:
        def write(session: Session) -> None:
            session.execute(
                update(RepaymentInstallment)
                .where(
                    RepaymentInstallment.loan_id == rec.loan_id,
                    RepaymentInstallment.installment_no == rec.installment_no,
                    RepaymentInstallment.status == InstallmentStatus.PENDING,
                )
                .values(status=InstallmentStatus.OVERDUE)
            )

        await self._tx(write)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.record_status,
            self.verify_pan,
            self.pull_bureau,
            self.prepare_agreement,
            self.record_agreement_outcome,
            self.initiate_disbursal,
            self.record_disbursal,
            self.ensure_payment_link,
            self.record_payment,
            self.mark_overdue,
            self.levy_penal,
            self.record_delinquency,
            self.park_payment,
            self.record_credit_balance,
        ]
