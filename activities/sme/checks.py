"""The checks of a financing request (``workflows.invoice_financing``, CHECKING): duplicate invoice, the business
(GSTIN active and its PAN the business's, the company record active, directors' PAN through the KYC layer, the
payout account penny-dropped), the buyer (GSTIN active, the invoice in the seller's GSTR-1), the risk score, and
the brand's lender terms. A vendor's "no" is an answer (``CheckAnswer.ok`` False, the reason in words); a vendor
down past its retries, or none configured, raises and the workflow holds the request for staff."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities import providers
from activities.providers.base import BusinessRefusal
from activities.sme.common import SmeBase, loaded, refusal
from db.models import BankAccount, SmeDirector
from db.sme import earlier_invoices, invoice_key
from domain.sme.duplicates import find_duplicate
from domain.sme.matching import LenderTerms
from domain.sme.scoring import ScoreInputs, risk_score
from domain.sme.settings import sme_settings
from domain.sme.status import REASON_TEXT, RefusalReason
from los.crypto import BANK_ACCOUNT, unseal
from workflows.contracts.sme import CheckAnswer, ScoreAnswer, SmeRequestRef, SmeTerms


def _months(since: date | None, today: date) -> int:
    return 0 if since is None else (today.year - since.year) * 12 + today.month - since.month


class SmeChecks(SmeBase):
    """Duplicate, business, buyer, score and terms."""

    @activity.defn(name="sme_check_duplicate")
    async def check_duplicate(self, ref: SmeRequestRef) -> CheckAnswer:
        """Refused when the brand already has this invoice (``domain.sme.duplicates``), naming the earlier one."""

        def judge(session: Session) -> CheckAnswer:
            ctx = loaded(ref.request_id)(session)
            dup = find_duplicate(invoice_key(ctx.invoice), earlier_invoices(session, ctx.brand.id, ctx.invoice))
            if dup is None:
                return CheckAnswer(True)
            text = f"{REASON_TEXT[dup.reason]} (invoice {dup.invoice_id})"
            return CheckAnswer(False, dup.reason, text, {"invoiceId": dup.invoice_id})

        return await self._tx(judge)

    @activity.defn(name="sme_verify_business")
    async def verify_business(self, ref: SmeRequestRef) -> CheckAnswer:
        """The business verified once (a VERIFIED business is not asked again): GSTIN active and carrying the
        business PAN, the company (CIN) active, directors from MCA recorded and their PAN checked, the payout
        account penny-dropped. Raises (held for staff) when a vendor is down or none is configured."""
        ctx = await self._tx(loaded(ref.request_id))
        business, config = ctx.business, dict(ctx.brand.config or {})
        if business.status == "VERIFIED":
            return CheckAnswer(True)
        try:
            karza = self.vendor(config, "gstin")
            gst = await karza.gstin(business.gstin)
            company = await karza.company(business.cin) if business.cin else None
            account_ok = await self._penny_drop(ctx.customer.id, business.legal_name, config, ref.request_id)
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        reason = None
        if gst is None or not gst.active:
            reason = f"GSTIN {business.gstin} is {gst.status if gst else 'not registered'}"
        elif gst.gstin[2:12] != business.pan:
            reason = "the GSTIN does not belong to the business PAN"
        elif business.cin and (company is None or not company.active):
            reason = f"company {business.cin} is {company.status if company else 'not found'} at MCA"
        elif not account_ok:
            reason = "the business's bank account could not be verified"
        detail = {"gstin": gst.raw if gst else None, "company": company.raw if company else None}
        await self._tx(lambda s: self._record_business(s, business.id, reason, detail, gst, company))
        if reason is not None:
            return CheckAnswer(False, RefusalReason.BUSINESS_UNVERIFIED, reason)
        await self._directors_kyc(business.id, config)
        return CheckAnswer(True)

    async def _penny_drop(self, customer_id: str, name: str, config: dict[str, Any], key: str) -> bool:
        """The business's primary account verified (penny drop through the brand's ``pennydrop`` vendors)."""
        account = await self._tx(
            lambda s: s.scalars(
                select(BankAccount).where(BankAccount.customer_id == customer_id, BankAccount.is_primary)
            ).first()
        )
        if account is None:
            return False
        if account.penny_drop_status == "VERIFIED":
            return True
        bank = providers.build("pennydrop", config, self.http)
        number = unseal(self.secret, BANK_ACCOUNT, account.account_sealed) or ""
        result = await bank.verify_account(
            account_number=number, ifsc=account.ifsc, name=name, reference_id=key, idempotency_key=f"sme-pd-{key}"
        )

        def write(session: Session) -> None:
            row = session.get_one(BankAccount, account.id)
            row.penny_drop_status = str(result.status)
            row.beneficiary_name = result.beneficiary_name
            row.provider = bank.config.vendor
            row.verified_at = datetime.now(UTC) if str(result.status) == "VERIFIED" else None

        await self._tx(write)
        return str(result.status) == "VERIFIED"

    @staticmethod
    def _record_business(session: Session, business_id: str, reason: str | None, detail: dict, gst, company) -> None:  # noqa: ANN001
        from db.models import SmeBusiness

        row = session.get_one(SmeBusiness, business_id, with_for_update=True)
        row.status, row.reason, row.verification = ("FAILED", reason, detail) if reason else ("VERIFIED", None, detail)
        row.updated_at = datetime.now(UTC)
        if reason is None:
            row.verified_at = datetime.now(UTC)
            row.constitution = gst.constitution if gst else row.constitution
            row.incorporated_on = (company.incorporated_on if company else None) or (gst.registered_on if gst else None)
            known = {d.din for d in session.scalars(select(SmeDirector).where(SmeDirector.business_id == row.id))}
            for d in company.directors if company else ():
                if d.din not in known:
                    session.add(SmeDirector(business_id=row.id, brand_id=row.brand_id, name=d.name, din=d.din))

    async def _directors_kyc(self, business_id: str, config: dict[str, Any]) -> None:
        """Each director with a PAN entered and not yet checked: the KYC layer's PAN check (best effort: a KYC
        vendor fault leaves the director PENDING for staff; it does not refuse the business)."""
        pending = await self._tx(
            lambda s: [
                (d.id, d.pan)
                for d in s.scalars(select(SmeDirector).where(SmeDirector.business_id == business_id)).all()
                if d.pan and d.kyc_status == "PENDING"
            ]
        )
        for director_id, pan in pending:
            try:
                result = await providers.build("kyc", config, self.http).verify_pan(pan)
            except Exception:  # noqa: BLE001 - best effort: staff see it PENDING
                activity.logger.warning("director %s: PAN check not done", director_id)
                continue

            def write(session: Session, director_id: str = director_id, result: Any = result) -> None:
                row = session.get_one(SmeDirector, director_id)
                row.kyc_status = "VERIFIED" if result.valid else "FAILED"
                row.kyc_detail = {"name": result.name, "reason": result.reason}

            await self._tx(write)

    @activity.defn(name="sme_verify_buyer")
    async def verify_buyer(self, ref: SmeRequestRef) -> CheckAnswer:
        """The buyer's GSTIN active, and (when the brand asks for it, the default) the invoice in the seller's
        GSTR-1 as a supply to the buyer. Refused BUYER_UNVERIFIED with the vendor's words."""
        ctx = await self._tx(loaded(ref.request_id))
        config, inv = dict(ctx.brand.config or {}), ctx.invoice
        try:
            karza = self.vendor(config, "gstin")
            buyer = await karza.gstin(inv.buyer_gstin)
            if buyer is None or not buyer.active:
                status = buyer.status if buyer else "not registered"
                return CheckAnswer(False, RefusalReason.BUYER_UNVERIFIED, f"the buyer's GSTIN is {status}")
            if sme_settings(config).buyer_confirmation_required:
                found = await karza.confirm_invoice(inv.seller_gstin, inv.buyer_gstin, inv.number, inv.amount)
                if not found.found:
                    return CheckAnswer(False, RefusalReason.BUYER_UNVERIFIED, found.reason, {"buyer": buyer.legal_name})
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        return CheckAnswer(True, detail={"buyer": buyer.legal_name})

    @activity.defn(name="sme_score")
    async def score(self, ref: SmeRequestRef) -> ScoreAnswer:
        """The risk score from the GST returns (Karza), the bank statement summary (Perfios) and the commercial
        bureau (CRIF), recorded on the request."""
        ctx = await self._tx(loaded(ref.request_id))
        config, business = dict(ctx.brand.config or {}), ctx.business
        try:
            periods = await self.vendor(config, "returns").returns(business.gstin)
            statement = await self.vendor(config, "summary").summary(business.gstin, ref.request_id)
            bureau = await self.vendor(config, "report").report(
                business.pan, business.legal_name, f"sme-{ref.request_id}"
            )
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        today = datetime.now(UTC).date()
        inputs = ScoreInputs(
            periods, statement.average_balance, statement.bounces, bureau.score,
            _months(business.incorporated_on, today), ctx.invoice.amount,
        )  # fmt: skip
        result = risk_score(inputs)

        def write(session: Session) -> None:
            row = loaded(ref.request_id, lock=True)(session).request
            row.score, row.grade, row.score_factors = result.score, result.grade, dict(result.factors)

        await self._tx(write)
        return ScoreAnswer(result.score, result.grade, dict(result.factors))

    @activity.defn(name="sme_terms")
    async def terms(self, ref: SmeRequestRef) -> SmeTerms:
        """The lenders to match (the brand's own book from its ``sme`` settings) and its timings. Partner lenders'
        terms join this list when that work lands (``domain.sme.matching.match_offers`` takes any lenders)."""
        ctx = await self._tx(loaded(ref.request_id))
        settings = sme_settings(ctx.brand.config or {})
        lenders: list[LenderTerms] = [settings.own_book]
        return SmeTerms(
            lenders, settings.offer_validity_days, settings.reminder_days_before_due, settings.overdue_reminder_days
        )
