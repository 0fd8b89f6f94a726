"""Origination outside the KYC phase: PAN and bureau for loans started before it (``activities/kyc/`` does both
for every later loan), and the agreement — its PDF, the eSign docket, the signing link sent to the customer and
the signature's outcome."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities import providers
from activities.documents import render_html
from activities.loan import queries
from activities.loan.common import LoanBase, refusal
from activities.providers.base import BusinessRefusal
from activities.providers.failover import call_with_failover
from activities.providers.heartbeat import keep_alive
from db.kfs import agreement_context, schedule_rows
from domain import schedule
from domain.money import format_inr
from domain.outcomes import AgreementStatus, ProviderCallStatus
from workflows.contracts import (
    AgreementOutcome,
    AgreementRequest,
    AgreementResult,
    BureauResult,
    KycResult,
    ProviderRequest,
    SignedAgreement,
    SignedAgreementRequest,
)
from workflows.options import IST


class OriginationActivities(LoanBase):
    # ------------------------------------------------------------------ KYC and bureau (loans before the KYC phase)
    @activity.defn
    async def verify_pan(self, req: ProviderRequest) -> KycResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            kyc = providers.build("kyc", brand.config, self.http)
            result = await kyc.verify_pan(customer.pan or "")
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        outcome = ProviderCallStatus.VERIFIED if result.valid else ProviderCallStatus.FAILED
        await self._record_call(req, "KYC_PAN", outcome, result.raw)
        if result.valid and result.name:
            name = result.name

            def save_name(session: Session) -> None:
                queries.set_customer_name(session, customer.id, name)

            await self._tx(save_name)
        return KycResult(result.valid, result.name, result.reason, kyc.config.vendor)

    @activity.defn
    async def pull_bureau(self, req: ProviderRequest) -> BureauResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            bureau = providers.build("bureau", brand.config, self.http)
            report = await bureau.pull(customer.pan or "", customer.full_name, req.idempotency_key)
        except BusinessRefusal as exc:
            raise refusal(exc) from exc

        def write(session: Session) -> None:
            queries.insert_bureau_report(
                session, loan_id=req.loan_id, provider=bureau.config.vendor, score=report.score, report=report.raw
            )
            queries.update_loan(session, req.loan_id, credit_score=report.score)

        await self._tx(write)
        return BureauResult(report.score, bureau.config.vendor)

    # ------------------------------------------------------------------ agreement + eSign
    @activity.defn
    async def prepare_agreement(self, req: AgreementRequest) -> AgreementResult:
        """Render the agreement (the KFS as its annex, the sanction conditions, the brand's logo and legal name),
        store it, and open an eSign docket at the brand's vendor, failing over to the next. A docket it replaces
        is cancelled at its vendor first; if that one was signed meanwhile, it is answered instead (only one docket
        can ever be signed). Loans before MONEY_OUT_PATCH (no ``kfs_hash``) get the agreement of their time."""
        found = await self._tx(lambda s: queries.agreement_of(s, req.loan_id))
        if found is not None and found.docket_id and found.signing_url and found.docket_id != req.replaces_docket:
            if req.kfs_hash is None or found.status == AgreementStatus.SENT:
                return AgreementResult(found.docket_id, found.signing_url, found.storage_key, found.sha256)
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        if req.replaces_docket and found is not None and found.docket_id == req.replaces_docket:
            try:
                esign = providers.build("esign", brand.config, self.http, vendor=found.esign_provider)
                await esign.cancel_docket(req.replaces_docket)
            except BusinessRefusal as exc:
                if exc.code != "ALREADY_SIGNED":
                    raise refusal(exc) from exc
                return AgreementResult(found.docket_id, found.signing_url or "", found.storage_key, found.sha256)
            await self._tx(lambda s: queries.close_sent_agreement(s, req.loan_id, AgreementStatus.CANCELLED, None))
        if req.kfs_hash is None:
            html = render_html("agreement_v1.html", self._v1_context(req, loan, customer, brand))
        else:
            context = await self._tx(lambda s: agreement_context(s, req.loan_id, req.now.astimezone(IST).date()))
            html = render_html("agreement.html", context)
        pdf = await self.renderer.pdf(html)
        key = f"agreements/{loan.brand_id}/{loan.id}/{req.idempotency_key.rsplit(':', 1)[-1]}.pdf"
        async with keep_alive("storing the PDF"):
            await asyncio.to_thread(self.storage.put, key, pdf)
        digest = hashlib.sha256(pdf).hexdigest()
        try:
            opened = await call_with_failover(
                "esign",
                brand.config,
                self.http,
                lambda esign: esign.create_docket(
                    reference_id=loan.id,
                    pdf=pdf,
                    signer_name=customer.full_name or customer.phone,
                    signer_phone=customer.phone,
                    signer_email=customer.email,
                    expires_in_seconds=req.expires_in_seconds,
                    callback_url=self._callback(brand.id, esign.config.vendor),
                    idempotency_key=req.idempotency_key,
                ),
            )
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        docket = opened.value

        def write(session: Session) -> None:
            queries.save_sent_agreement(
                session,
                loan.id,
                storage_key=key,
                sha256=digest,
                docket_id=docket.docket_id,
                signing_url=docket.signing_url,
                esign_provider=opened.vendor,
                expires_at=req.now + timedelta(seconds=req.expires_in_seconds),
                kfs_hash=req.kfs_hash,
            )

        await self._tx(write)
        await self._notify(
            brand,
            customer.phone,
            "ESIGN_LINK",
            f"{brand.name}: your loan is sanctioned. Sign your agreement: {docket.signing_url}",
        )
        return AgreementResult(docket.docket_id, docket.signing_url, key, digest)

    @staticmethod
    def _v1_context(req: AgreementRequest, loan: Any, customer: Any, brand: Any) -> dict[str, Any]:
        t = req.terms
        plan = schedule.generate(t.schedule_terms(req.now.date()))
        rows = plan.rows
        return {
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
            "schedule": schedule_rows(rows),
        }

    @activity.defn
    async def cancel_docket(self, req: SignedAgreementRequest) -> bool:
        """Cancel the loan's unsigned docket ``req.docket_id`` at the vendor that holds it. False when the vendor says
        it was signed meanwhile (that signature stands)."""
        found = await self._tx(lambda s: queries.agreement_of(s, req.loan_id))
        if found is None or found.docket_id != req.docket_id or found.status != AgreementStatus.SENT:
            return True  # not out for signature any more: nothing to cancel
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            esign = providers.build("esign", brand.config, self.http, vendor=found.esign_provider)
            await esign.cancel_docket(req.docket_id)
        except BusinessRefusal as exc:
            if exc.code == "ALREADY_SIGNED":
                return False
            raise refusal(exc) from exc
        return True  # the row's own outcome is recorded by the step that follows (EXPIRED, or CANCELLED when replaced)

    @activity.defn
    async def store_signed_agreement(self, req: SignedAgreementRequest) -> SignedAgreement:
        """Fetch the signed PDF from the vendor that holds the docket, store it privately with its SHA-256, and
        send the borrower the link (RBI Digital Lending Directions: executed documents go to the borrower)."""
        found = await self._tx(lambda s: queries.agreement_of(s, req.loan_id))
        if found is None or found.docket_id != req.docket_id:
            raise refusal(BusinessRefusal(f"no agreement with docket {req.docket_id}", code="NO_AGREEMENT"))
        if found.signed_storage_key and found.signed_sha256:
            return SignedAgreement(found.signed_storage_key, found.signed_sha256)
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            esign = providers.build("esign", brand.config, self.http, vendor=found.esign_provider)
            pdf = await esign.signed_document(req.docket_id)
        except BusinessRefusal as exc:
            raise refusal(exc) from exc
        key = f"agreements/{loan.brand_id}/{loan.id}/signed-{req.docket_id}.pdf"
        async with keep_alive("storing the PDF"):
            await asyncio.to_thread(self.storage.put, key, pdf)
        digest = hashlib.sha256(pdf).hexdigest()
        await self._tx(lambda s: queries.save_signed_agreement(s, req.loan_id, req.docket_id, key, digest))
        link = f"{self.api_url}/api/v1/web/loans/{loan.id}/agreement"
        await self._notify(
            brand,
            customer.phone,
            "AGREEMENT_SIGNED",
            f"{brand.name}: your signed loan agreement (with its Key Fact Statement) is ready: {link}",
        )
        await self._email(
            brand,
            customer.email,
            f"{brand.name}: your signed loan agreement",
            f"Dear {customer.full_name or 'customer'},\n\nYour loan agreement, with its Key Fact Statement as annex, "
            f"is signed. It is attached (SHA-256 {digest}) and stays available at {link}.\n\n{brand.name}",
            [(f"loan-agreement-{loan.id[:8]}.pdf", "application/pdf", pdf)],
            reference=f"{loan.id}:agreement:{req.docket_id}",
        )
        return SignedAgreement(key, digest)

    @activity.defn
    async def record_agreement_outcome(self, outcome: AgreementOutcome) -> None:
        signed = outcome.status == AgreementStatus.SIGNED

        def write(session: Session) -> None:
            queries.close_sent_agreement(session, outcome.loan_id, outcome.status, outcome.at if signed else None)

        await self._tx(write)
