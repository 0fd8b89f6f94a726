"""Who the applicant is: PAN, Aadhaar e-KYC (OTP initiated and submitted through workflow updates), the mobile
number's links (mobile-to-PAN, mobile-to-address) and DigiLocker."""

from __future__ import annotations

import asyncio
import base64
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.kyc.common import AADHAAR, KycBase, digilocker_state, score_of
from activities.kyc.queries import verified_call
from activities.pii import redact
from activities.providers.base import BusinessRefusal
from activities.providers.matching import name_match_score
from db import aadhaar_vault
from db.models import Brand, Customer, Loan
from domain import kyc as kyc_rules
from domain.brand_config import BrandConfig
from domain.outcomes import KycStepStatus
from los.crypto import unseal
from workflows.contracts import KycStepRequest, KycStepResult


def _fill_address(c: Customer, address: Any) -> None:
    """An address from an issued document, kept only where the customer gave none."""
    if address is not None and not c.address:
        c.address, c.city = address.line, address.city
        c.state, c.pincode = address.state, address.pincode


class IdentityActivities(KycBase):
    # ------------------------------------------------------------------ PAN
    @activity.defn
    async def kyc_pan(self, req: KycStepRequest) -> KycStepResult:
        """PAN with the KYC vendor; the name and DOB on it are stored and feed later checks."""
        return await self._run_step(req, self._pan)

    async def _pan(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        res = await self._failover("kyc", brand, "verify_pan", customer.pan or "")
        pan = res.value
        await self._record(
            req, customer.id, "PAN", res.vendor, "VERIFIED" if pan.valid else "FAILED", pan.raw, res.attempts_as_dicts()
        )
        if not pan.valid:
            return KycStepResult("PAN", KycStepStatus.FAILED, pan.reason or "PAN not verified", res.vendor)
        dob = date.fromisoformat(pan.dob) if pan.dob else None

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            c.pan_verified, c.pan_name = True, pan.name
            c.full_name = c.full_name or pan.name
            c.dob = c.dob or dob
            c.onboarding_step = "PAN_VERIFIED"

        await self._tx(save)
        facts: dict[str, Any] = {"pan_name": pan.name, "pan_verified": True}
        if dob:
            facts["age"] = kyc_rules.age_on(dob, date.today())
        return KycStepResult("PAN", KycStepStatus.PASSED, provider=res.vendor, facts=facts)

    # ------------------------------------------------------------------ mobile
    @activity.defn
    async def kyc_mobile(self, req: KycStepRequest) -> KycStepResult:
        """Mobile-to-PAN and mobile-to-address (fraud checks): facts for the rules; a PAN registered to this
        mobile that is not the applicant's fails when the brand asks for it (``mobile_pan_must_match``)."""
        return await self._run_step(req, self._mobile)

    async def _mobile(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        to_pan = await self._failover("kyc", brand, "mobile_to_pan", customer.phone)
        to_addr = await self._failover("kyc", brand, "mobile_to_address", customer.phone)
        pan_match = bool(to_pan.value.found and to_pan.value.pan == customer.pan)
        address_score = None
        if to_addr.value.found and to_addr.value.address is not None and customer.address:
            address_score = name_match_score(to_addr.value.address.line, customer.address)
        await self._record(
            req,
            customer.id,
            "MOBILE",
            to_pan.vendor,
            "MATCH" if pan_match else "NO_MATCH",
            {"pan": to_pan.value.raw, "address": to_addr.value.raw},
            to_pan.attempts_as_dicts() + to_addr.attempts_as_dicts(),
            score_of(address_score),
        )
        if to_pan.value.found and not pan_match and BrandConfig.of(brand.config).mobile_pan_must_match:
            return KycStepResult(
                "MOBILE", KycStepStatus.FAILED, "mobile number is linked to another PAN", to_pan.vendor
            )
        facts: dict[str, Any] = {"mobile_pan_match": pan_match}
        if address_score is not None:
            facts["mobile_address_score"] = score_of(address_score)
        return KycStepResult("MOBILE", KycStepStatus.PASSED, provider=to_pan.vendor, facts=facts)

    # ------------------------------------------------------------------ DigiLocker
    @activity.defn
    async def kyc_digilocker(self, req: KycStepRequest) -> KycStepResult:
        """DigiLocker (optional path): the customer authorises at DigiLocker, which redirects to the API with a
        code (``ref_id`` here); the issued PAN must be the applicant's, its name is matched to the PAN name."""
        return await self._run_step(req, self._digilocker)

    async def _digilocker(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        if not req.ref_id:
            state = digilocker_state(loan.id, self.secret)
            res = await self._failover(
                "kyc",
                brand,
                "start_session",
                redirect_url=f"{self.api_url}/api/v1/web/kyc/digilocker/callback",
                state=state,
            )
            await self._sms(
                brand,
                customer.phone,
                "DIGILOCKER",
                f"{brand.name}: share your documents from DigiLocker: {res.value.authorization_url}",
            )
            return KycStepResult(
                "DIGILOCKER",
                KycStepStatus.WAITING,
                "authorise DigiLocker",
                res.vendor,
                reference=res.value.authorization_url,
            )
        try:
            res = await self._failover("kyc", brand, "fetch_documents", req.ref_id)
        except BusinessRefusal as exc:  # a stale or wrong code: the customer can authorise again
            return KycStepResult("DIGILOCKER", KycStepStatus.WAITING, str(exc))
        pan_doc = res.value.of_type("PAN")
        score = score_of(name_match_score(pan_doc.name, customer.pan_name)) if pan_doc else None
        await self._record(
            req,
            customer.id,
            "DIGILOCKER",
            res.vendor,
            "FETCHED",
            {"documents": [d.doc_type for d in res.value.documents]},
            res.attempts_as_dicts(),
            score,
        )
        if pan_doc is None or pan_doc.number != customer.pan:
            return KycStepResult(
                "DIGILOCKER", KycStepStatus.FAILED, "DigiLocker PAN is not the applicant's", res.vendor
            )
        aadhaar = res.value.of_type("AADHAAR")

        def save(session: Session) -> None:
            if aadhaar is not None:
                _fill_address(session.get_one(Customer, customer.id), aadhaar.address)

        await self._tx(save)
        return KycStepResult(
            "DIGILOCKER",
            KycStepStatus.PASSED,
            provider=res.vendor,
            score=str(score) if score else None,
            facts={"digilocker_name_match": score, "digilocker_documents": len(res.value.documents)},
        )

    # ------------------------------------------------------------------ Aadhaar (customer updates)
    @activity.defn
    async def aadhaar_initiate(self, req: KycStepRequest) -> KycStepResult:
        """Send the Aadhaar OTP. The number is read from the Aadhaar Data Vault by ``aadhaar_ref`` (UIDAI Aadhaar
        Data Vault circular, 2017), opened here only, and erased from the vault once the vendor has answered (sent
        or refused): a retry after that answers from what the vault kept (vendor, reference). Requests recorded
        before the vault carry ``aadhaar_sealed`` (purpose :data:`AADHAAR`), or earlier still ``aadhaar_number``.
        The result holds the provider's reference, never the number (a refusal's text is redacted); a token that
        reads nothing (unknown, another loan's, erased or expired) is FAILED, so the customer enters it again."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        if req.aadhaar_ref:
            entry = await self._tx(lambda s: aadhaar_vault.read(s, req.aadhaar_ref or "", loan_id=loan.id))
            if entry is not None and entry.vendor_reference:  # sent already, by an attempt that did not report
                return KycStepResult(
                    "AADHAAR", KycStepStatus.WAITING, provider=entry.vendor, reference=entry.vendor_reference
                )
            opened = unseal(self.secret, AADHAAR, entry.number_sealed) if entry and entry.number_sealed else None
        elif req.aadhaar_sealed:
            opened = unseal(self.secret, AADHAAR, req.aadhaar_sealed)
        else:
            opened = req.aadhaar_number or ""
        if opened is None:  # erased, expired or sealed under a key no longer held: nothing to retry
            return KycStepResult(
                "AADHAAR", KycStepStatus.FAILED, "the Aadhaar number could not be read; enter it again"
            )
        try:
            number = kyc_rules.validate_aadhaar(opened)
            res = await self._failover("kyc", brand, "aadhaar_otp_initiate", number)
        except Exception as exc:  # a refusal or a bad number: the customer's request is refused
            if isinstance(exc, BusinessRefusal) or exc.__class__.__name__ == "ValidationError":
                if req.aadhaar_ref:  # the purpose has ended
                    await self._tx(lambda s: aadhaar_vault.erase(s, req.aadhaar_ref or ""))
                return KycStepResult("AADHAAR", KycStepStatus.FAILED, redact(str(exc)))
            raise

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            c.aadhaar_masked = kyc_rules.mask_aadhaar(number)
            c.aadhaar_hash = kyc_rules.aadhaar_hash(number, self.secret)
            if req.aadhaar_ref:  # the OTP is sent: the number's purpose has ended
                sent = res.value.reference_id
                aadhaar_vault.erase(session, req.aadhaar_ref, vendor=res.vendor, vendor_reference=sent)

        await self._tx(save)
        return KycStepResult("AADHAAR", KycStepStatus.WAITING, provider=res.vendor, reference=res.value.reference_id)

    @activity.defn
    async def aadhaar_answered(self, loan_id: str) -> None:
        """Nothing to do: the handoff after a verified Aadhaar OTP (``aadhaar-answer-first-v2``). The KYC lookups
        after Aadhaar are local activities, which hold the workflow task that starts them, and with it the answer of
        the OTP's update completed in that task; the workflow runs this activity task first, so that task ends with
        the answer and the lookups start in the next one. Dispatched eagerly to the worker that completed the task,
        it costs milliseconds (a timer in its place waits for the server's timer queue, about a second)."""
        activity.logger.debug("Aadhaar OTP answered for loan %s; the next KYC steps follow", loan_id)

    @activity.defn
    async def aadhaar_submit(self, req: KycStepRequest) -> KycStepResult:
        """Check the customer's OTP; on success the e-KYC data (address, DOB, gender, photo) is stored. Idempotent by
        ``req.idempotency_key``: once this OTP's check is recorded VERIFIED (the last write, after the customer's
        data), a run again (a local activity whose workflow task was lost) answers from that record instead of
        sending the OTP to the vendor a second time, which would find it used."""
        done = await self._tx(lambda s: verified_call(s, f"{req.idempotency_key}:aadhaar"))
        if done is not None:  # the score as first answered (the column keeps two decimals: 100.00 for 100.0)
            return _aadhaar_passed(done.provider, score_of(float(done.score)) if done.score is not None else None)
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            res = await self._failover("kyc", brand, "aadhaar_otp_submit", req.reference or "", req.otp or "")
        except BusinessRefusal as exc:
            return KycStepResult("AADHAAR", KycStepStatus.FAILED, redact(str(exc)))
        kyc = res.value
        if not kyc.verified:
            return KycStepResult("AADHAAR", KycStepStatus.FAILED, redact(kyc.reason or "wrong OTP"), res.vendor)
        score = score_of(name_match_score(kyc.name, customer.pan_name or customer.full_name))
        photo_key = None
        if kyc.photo_base64:  # the e-KYC photo, kept in private storage like the documents
            photo_key = f"photos/{brand.id}/{customer.id}/aadhaar.jpg"
            await asyncio.to_thread(self.storage.put, photo_key, base64.b64decode(kyc.photo_base64), "image/jpeg")

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            c.aadhaar_verified = True
            c.photo_key = photo_key or c.photo_key
            _fill_address(c, kyc.address)
            c.dob = c.dob or kyc.dob
            c.gender = c.gender or kyc.gender
            c.onboarding_step = "AADHAAR_VERIFIED"

        await self._tx(save)
        await self._record(  # last: its presence says the whole check is done (see above)
            req,
            customer.id,
            "AADHAAR",
            res.vendor,
            "VERIFIED",
            {k: v for k, v in kyc.raw.items() if k not in ("photo", "photo_base64")},
            res.attempts_as_dicts(),
            score,
        )
        return _aadhaar_passed(res.vendor, score)


def _aadhaar_passed(provider: str, score: Decimal | None) -> KycStepResult:
    """The Aadhaar step passed with ``provider``'s verification and the name-match ``score`` (0–100, or None)."""
    return KycStepResult(
        "AADHAAR",
        KycStepStatus.PASSED,
        provider=provider,
        score=str(score) if score else None,
        facts={"aadhaar_verified": True, "aadhaar_name_match": score},
    )
