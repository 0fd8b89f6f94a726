"""Activities of the loan's KYC phase and credit decision.

Each KYC step reads what the customer gave (database), asks the brand's providers (with failover: which
vendor answered, and every attempt, is recorded on ``provider_calls``), writes the outcome and returns the
facts later rules read. A step whose input is missing answers WAITING; the workflow then waits for the
customer. The decision activity pulls the bureau (reusing a report younger than 24 hours), runs the
brand's hard rules (BRE) and evaluation engine, stores every rule's outcome, and allocates a
manual-review loan to a loan executive.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import DbActivities
from activities.notify import notify
from activities.pii import redact
from activities.providers import build, call_with_failover
from activities.providers.base import BusinessRefusal
from activities.providers.failover import Attempt
from activities.providers.matching import name_match_score
from db.models import (
    AaConsent,
    BankAccount,
    BlocklistEntry,
    Brand,
    BsaReport,
    BureauReport,
    Customer,
    CustomerDocument,
    Employment,
    EvaluationItem,
    Loan,
    LoanDecision,
    PartnerUnavailabilityDate,
    ProviderCall,
    StaffBrandRole,
    StaffUser,
)
from db.session import Database
from domain import assignment, bre, evaluation
from domain import kyc as kyc_rules
from domain.errors import LosError
from los.crypto import unseal
from workflows.contracts import DecisionRequest, DecisionResult, KycStepRequest, KycStepResult

T = TypeVar("T")
BUREAU_REUSE = timedelta(hours=24)
OPEN_REVIEW = ("UNDER_REVIEW",)


def _score(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2)))


class KycActivities(DbActivities):
    def __init__(self, db: Database, http: httpx.AsyncClient, storage: Any, api_url: str, secret: bytes):
        self.db = db
        self.http = http
        self.storage = storage
        self.api_url = api_url.rstrip("/")
        self.secret = secret  # keys the Aadhaar hash

    async def _record(
        self,
        req: KycStepRequest,
        customer_id: str,
        kind: str,
        vendor: str,
        outcome: str,
        response: dict,
        attempts: list,
        score: Decimal | None = None,
    ) -> None:
        def write(session: Session) -> None:
            session.execute(
                insert(ProviderCall)
                .values(
                    loan_id=req.loan_id,
                    customer_id=customer_id,
                    kind=kind,
                    provider=vendor,
                    idempotency_key=req.idempotency_key + f":{kind.lower()}",
                    outcome=outcome,
                    response=response,
                    attempts=attempts,
                    score=score,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )

        await self._tx(write)

    async def _failover(self, kind: str, brand: Brand, op: str, *args: Any, **kwargs: Any) -> Any:
        """One provider operation through the brand's vendors; a refusal is an answer (returned as None
        with the reason), a fault of every vendor raises so the activity retries."""
        return await call_with_failover(kind, brand.config, self.http, op, *args, **kwargs)

    # ------------------------------------------------------------------ steps
    @activity.defn
    async def kyc_step(self, req: KycStepRequest) -> KycStepResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        handler = {
            "PAN": self._pan,
            "MOBILE": self._mobile,
            "BANK_ACCOUNT": self._bank_account,
            "EMPLOYMENT": self._employment,
            "CKYC": self._ckyc,
            "BANK_STATEMENT": self._bank_statement,
            "DIGILOCKER": self._digilocker,
        }.get(req.step)
        if handler is None:
            return KycStepResult(req.step, "SKIPPED", f"step {req.step} is not automated")
        try:
            result = await handler(req, loan, customer, brand)
            # a vendor's reason may quote what it was sent: only the redacted text reaches the workflow
            return replace(result, reason=redact(result.reason)) if result.reason else result
        except BusinessRefusal as exc:
            await self._record(
                req,
                customer.id,
                req.step,
                getattr(exc, "vendor", None) or "-",
                "REFUSED",
                {"reason": str(exc)},
                list(getattr(exc, "attempts", ())),
            )
            return KycStepResult(req.step, "FAILED", redact(str(exc)))

    async def _pan(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        res = await self._failover("kyc", brand, "verify_pan", customer.pan or "")
        pan = res.value
        await self._record(
            req, customer.id, "PAN", res.vendor, "VERIFIED" if pan.valid else "FAILED", pan.raw, res.attempts_as_dicts()
        )
        if not pan.valid:
            return KycStepResult("PAN", "FAILED", pan.reason or "PAN not verified", res.vendor)
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
        return KycStepResult("PAN", "PASSED", provider=res.vendor, facts=facts)

    async def _mobile(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        """Mobile-to-PAN and mobile-to-address (fraud checks): facts for the rules; a PAN registered to
        this mobile that is not the applicant's fails when the brand asks for it."""
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
            _score(address_score),
        )
        if to_pan.value.found and not pan_match and brand.config.get("mobile_pan_must_match"):
            return KycStepResult("MOBILE", "FAILED", "mobile number is linked to another PAN", to_pan.vendor)
        facts: dict[str, Any] = {"mobile_pan_match": pan_match}
        if address_score is not None:
            facts["mobile_address_score"] = _score(address_score)
        return KycStepResult("MOBILE", "PASSED", provider=to_pan.vendor, facts=facts)

    async def _bank_account(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        def find(session: Session) -> BankAccount | None:
            q = select(BankAccount).where(BankAccount.customer_id == customer.id)
            q = q.where(BankAccount.id == req.ref_id) if req.ref_id else q.where(BankAccount.is_primary)
            return session.scalars(q).first()

        account = await self._tx(find)
        if account is None:
            return KycStepResult("BANK_ACCOUNT", "WAITING", "add a bank account")
        res = await self._failover(
            "pennydrop",
            brand,
            "verify_account",
            account_number=unseal(self.secret, BANK_ACCOUNT, account.account_sealed) or "",
            ifsc=account.ifsc,
            name=customer.pan_name,
            reference_id=loan.id,
            idempotency_key=f"{req.idempotency_key}:{account.id}",
        )
        drop = res.value
        threshold = Decimal(str(brand.config.get("name_match_threshold", 80)))
        score = _score(name_match_score(drop.beneficiary_name, customer.pan_name or customer.full_name))
        ok = drop.account_exists and score is not None and score >= threshold
        await self._record(
            req,
            customer.id,
            "PENNY_DROP",
            res.vendor,
            "VERIFIED" if ok else "FAILED",
            drop.raw,
            res.attempts_as_dicts(),
            score,
        )

        def save(session: Session) -> None:
            session.execute(
                update(BankAccount)
                .where(BankAccount.id == account.id)
                .values(
                    beneficiary_name=drop.beneficiary_name,
                    bank_name=drop.bank_name,
                    name_match_score=score,
                    penny_drop_status="VERIFIED" if ok else "FAILED",
                    provider=res.vendor,
                )
            )

        await self._tx(save)
        if not drop.account_exists:
            return KycStepResult("BANK_ACCOUNT", "FAILED", drop.reason or "account not found", res.vendor)
        if not ok:
            return KycStepResult(
                "BANK_ACCOUNT", "FAILED", f"beneficiary name match {score} below {threshold}", res.vendor, str(score)
            )
        return KycStepResult(
            "BANK_ACCOUNT", "PASSED", provider=res.vendor, score=str(score), facts={"bank_name_match": score}
        )

    async def _employment(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        def find(session: Session) -> Employment | None:
            q = select(Employment).where(Employment.customer_id == customer.id)
            q = q.where(Employment.id == req.ref_id) if req.ref_id else q.order_by(Employment.created_at.desc())
            return session.scalars(q).first()

        job = await self._tx(find)
        if job is None:
            return KycStepResult("EMPLOYMENT", "WAITING", "add your employment")
        uan = job.uan
        attempts: list = []
        if not uan:
            lookup = await self._failover("employment", brand, "phone_to_uan", customer.phone)
            attempts += lookup.attempts_as_dicts()
            uan = lookup.value.uans[0] if lookup.value.found and lookup.value.uans else None
        if not uan:
            await self._record(req, customer.id, "EMPLOYMENT", "-", "NOT_FOUND", {}, attempts)
            return KycStepResult("EMPLOYMENT", "FAILED", "no UAN found for this mobile number")
        res = await self._failover("employment", brand, "uan_to_employment", uan)
        history = res.value
        current = next((r for r in history.records if r.exited_on is None), None)
        employer_score = _score(name_match_score(current.employer, job.employer_name)) if current else None
        # EPFO confirms a current employment; how well the declared employer's name matches is a fact of its own
        verified = bool(history.found and current)
        months = None
        if current and current.joined_on:
            today = date.today()
            months = (today.year - current.joined_on.year) * 12 + today.month - current.joined_on.month

        def save(session: Session) -> None:
            row = session.get_one(Employment, job.id)
            row.uan, row.verified, row.provider = uan, verified, res.vendor
            row.details = {
                "employer": current.employer if current else None,
                "joined_on": current.joined_on.isoformat() if current and current.joined_on else None,
                "latest_wage": current.latest_wage if current else None,
                "employer_match": str(employer_score) if employer_score is not None else None,
            }
            if current and current.joined_on and not row.joined_on:
                row.joined_on = current.joined_on

        await self._tx(save)
        await self._record(
            req,
            customer.id,
            "EMPLOYMENT",
            res.vendor,
            "VERIFIED" if verified else "UNVERIFIED",
            history.raw,
            attempts + res.attempts_as_dicts(),
            employer_score,
        )
        facts: dict[str, Any] = {
            "employment_verified": verified,
            "monthly_salary": job.monthly_salary,
            "employer_name_match": employer_score,
        }
        if months is not None:
            facts["employment_months"] = months
        if current and current.latest_wage:
            facts["epf_wage"] = current.latest_wage
        return KycStepResult("EMPLOYMENT", "PASSED", provider=res.vendor, facts=facts)

    async def _ckyc(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        """CKYC search + download by PAN; a match score over name, DOB and address (seed 004)."""
        res = await self._failover("ckyc", brand, "fetch", customer.pan or "", dob=customer.dob or date(1900, 1, 1))
        record = res.value
        if record is None:
            await self._record(req, customer.id, "CKYC", res.vendor, "NOT_FOUND", {}, res.attempts_as_dicts())
            return KycStepResult("CKYC", "PASSED", "no CKYC record", res.vendor, facts={"ckyc_found": False})
        name = name_match_score(record.name, customer.pan_name or customer.full_name) or 0.0
        dob = 100.0 if customer.dob and record.dob == customer.dob else 0.0
        address = name_match_score(record.address.line, customer.address) if customer.address else None
        parts = [(name, 0.5), (dob, 0.3)] + ([(address, 0.2)] if address is not None else [])
        score = _score(sum(v * w for v, w in parts) / sum(w for _, w in parts))
        await self._record(req, customer.id, "CKYC", res.vendor, "MATCHED", record.raw, res.attempts_as_dicts(), score)
        threshold = Decimal(str(brand.config.get("ckyc_match_threshold", 0)))
        if score is not None and score < threshold:
            return KycStepResult("CKYC", "FAILED", f"CKYC match {score} below {threshold}", res.vendor, str(score))
        return KycStepResult(
            "CKYC", "PASSED", provider=res.vendor, score=str(score), facts={"ckyc_found": True, "ckyc_score": score}
        )

    async def _digilocker(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        """DigiLocker (optional path): the customer authorises at DigiLocker, which redirects to the API with a
        code (``ref_id`` here); the issued PAN must be the applicant's, its name is matched to the PAN name."""
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
                "DIGILOCKER", "WAITING", "authorise DigiLocker", res.vendor, reference=res.value.authorization_url
            )
        try:
            res = await self._failover("kyc", brand, "fetch_documents", req.ref_id)
        except BusinessRefusal as exc:  # a stale or wrong code: the customer can authorise again
            return KycStepResult("DIGILOCKER", "WAITING", str(exc))
        pan_doc = res.value.of_type("PAN")
        score = _score(name_match_score(pan_doc.name, customer.pan_name)) if pan_doc else None
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
            return KycStepResult("DIGILOCKER", "FAILED", "DigiLocker PAN is not the applicant's", res.vendor)
        aadhaar = res.value.of_type("AADHAAR")

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            if aadhaar is not None and aadhaar.address is not None and not c.address:
                c.address, c.city = aadhaar.address.line, aadhaar.address.city
                c.state, c.pincode = aadhaar.address.state, aadhaar.address.pincode

        await self._tx(save)
        return KycStepResult(
            "DIGILOCKER",
            "PASSED",
            provider=res.vendor,
            score=str(score) if score else None,
            facts={"digilocker_name_match": score, "digilocker_documents": len(res.value.documents)},
        )

    async def _bank_statement(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        if brand.config.get("aa_enabled"):
            return await self._account_aggregator(req, loan, customer, brand)

        def find(session: Session) -> CustomerDocument | None:
            q = select(CustomerDocument).where(
                CustomerDocument.customer_id == customer.id, CustomerDocument.doc_type == "BANK_STATEMENT"
            )
            q = (
                q.where(CustomerDocument.id == req.ref_id)
                if req.ref_id
                else q.order_by(CustomerDocument.created_at.desc())
            )
            return session.scalars(q).first()

        doc = await self._tx(find)
        if doc is None:
            return KycStepResult("BANK_STATEMENT", "WAITING", "upload a bank statement")
        pdf = await asyncio.to_thread(self.storage.get, doc.storage_key)
        password = unseal(self.secret, STATEMENT_PASSWORD, doc.password_sealed) if doc.password_sealed else None
        try:
            res = await self._failover(
                "bsa",
                brand,
                "analyse_statement",
                pdf=pdf,
                reference_id=loan.id,
                idempotency_key=f"{req.idempotency_key}:{doc.id}",
                password=password,
            )
        except BusinessRefusal as exc:
            if exc.code not in STATEMENT_PASSWORD_CODES:
                raise
            # Not a reason to refuse the loan: the customer uploads it again with (the right) password.
            await self._record(
                req,
                customer.id,
                "BANK_STATEMENT",
                exc.vendor or "-",
                "REFUSED",
                {"reason": str(exc)},
                list(exc.attempts),
            )
            wanted = "the right password" if exc.code == "STATEMENT_PASSWORD_INCORRECT" else "its password"
            return KycStepResult(
                "BANK_STATEMENT", "WAITING", f"the statement is password-protected: upload it again with {wanted}"
            )
        return await self._store_bsa(
            req, loan, customer, res.value, res.vendor, "UPLOAD", doc.id, res.attempts_as_dicts()
        )

    async def _account_aggregator(
        self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand
    ) -> KycStepResult:
        """AA: consent request → consent URL to the customer → AA webhook → fetch data → analysis."""

        def latest(session: Session) -> AaConsent | None:
            return session.scalars(
                select(AaConsent).where(AaConsent.loan_id == loan.id).order_by(AaConsent.created_at.desc())
            ).first()

        consent = await self._tx(latest)
        if consent is None:
            res = await self._failover(
                "aa",
                brand,
                "create_consent",
                phone=customer.phone,
                reference_id=loan.id,
                callback_url=f"{self.api_url}/api/v1/webhooks/{brand.id}/aa",
                idempotency_key=f"loan-{loan.id}:aa:consent",
            )

            def save(session: Session) -> None:
                session.execute(
                    insert(AaConsent)
                    .values(
                        brand_id=brand.id,
                        customer_id=customer.id,
                        loan_id=loan.id,
                        provider=res.vendor,
                        consent_handle=res.value.consent_handle,
                        consent_url=res.value.consent_url,
                        status=res.value.status,
                        expires_at=res.value.expires_at,
                    )
                    .on_conflict_do_nothing(index_elements=["consent_handle"])
                )

            await self._tx(save)
            await self._sms(
                brand,
                customer.phone,
                "AA_CONSENT",
                f"{brand.name}: share your bank statement securely: {res.value.consent_url}",
            )
            return KycStepResult(
                "BANK_STATEMENT", "WAITING", "consent requested", res.vendor, reference=res.value.consent_handle
            )
        # A consent lives at the aggregator that issued it: its status and data come from that vendor only
        # (another vendor would not know the handle). A fault there raises, so the activity retries.
        issuer = build("aa", brand.config, self.http, vendor=consent.provider)
        status = await issuer.consent_status(consent.consent_handle)
        if status != consent.status:

            def save_status(session: Session) -> None:
                session.execute(update(AaConsent).where(AaConsent.id == consent.id).values(status=status))

            await self._tx(save_status)
        if status in ("REJECTED", "REVOKED", "EXPIRED"):
            return KycStepResult(
                "BANK_STATEMENT", "FAILED", f"account aggregator consent {status.lower()}", consent.provider
            )
        if status != "APPROVED":
            return KycStepResult("BANK_STATEMENT", "WAITING", "waiting for consent", consent.provider)
        started = time.monotonic()
        report = await issuer.fetch_data(consent.consent_handle)
        attempt = Attempt(consent.provider, "ok", None, int((time.monotonic() - started) * 1000))
        return await self._store_bsa(req, loan, customer, report, consent.provider, "AA", None, [attempt.as_dict()])

    async def _store_bsa(
        self,
        req: KycStepRequest,
        loan: Loan,
        customer: Customer,
        report: Any,
        vendor: str,
        source: str,
        document_id: str | None,
        attempts: list,
    ) -> KycStepResult:
        credits = [c.amount for c in report.salary_credits][-3:]
        avg_salary = sum(credits) // len(credits) if credits else 0
        emi = sum(d.amount for d in report.emi_debits) // max(
            1, len({(d.on.year, d.on.month) for d in report.emi_debits})
        )
        summary = {
            "avg_salary": avg_salary,
            "salary_credits": len(report.salary_credits),
            "monthly_emi": emi,
            "average_balance": report.average_balance,
            "bounces": len(report.bounces),
        }

        def save(session: Session) -> None:
            session.add(
                BsaReport(
                    customer_id=customer.id,
                    loan_id=loan.id,
                    source=source,
                    provider=vendor,
                    document_id=document_id,
                    status="COMPLETED",
                    summary=summary,
                    report=report.raw,
                )
            )

        await self._tx(save)
        await self._record(req, customer.id, "BSA", vendor, "COMPLETED", summary, attempts)
        return KycStepResult(
            "BANK_STATEMENT", "PASSED", provider=vendor, facts={f"bsa_{k}": v for k, v in summary.items()}
        )

    async def _sms(self, brand: Brand, phone: str, template: str, text: str) -> None:
        try:
            await self._failover("sms", brand, "send_sms", to=phone, text=text, template=template)
        except Exception as exc:  # noqa: BLE001 - a message never fails the step
            activity.logger.warning("SMS %s not sent: %s", template, exc)

    # ------------------------------------------------------------------ Aadhaar (customer updates)
    @activity.defn
    async def aadhaar_initiate(self, req: KycStepRequest) -> KycStepResult:
        """Send the Aadhaar OTP. The number comes sealed (``aadhaar_sealed``, purpose :data:`AADHAAR`) and is
        opened only here; histories from before sealing carry ``aadhaar_number``. The result holds the
        provider's reference, never the number (a refusal's text is redacted)."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        if req.aadhaar_sealed:
            opened = unseal(self.secret, AADHAAR, req.aadhaar_sealed)
            if opened is None:  # sealed under another field key: nothing to retry
                return KycStepResult("AADHAAR", "FAILED", "the Aadhaar number could not be read; enter it again")
        else:
            opened = req.aadhaar_number or ""
        try:
            number = kyc_rules.validate_aadhaar(opened)
            res = await self._failover("kyc", brand, "aadhaar_otp_initiate", number)
        except Exception as exc:  # a refusal or a bad number: the customer's request is refused
            if isinstance(exc, BusinessRefusal) or exc.__class__.__name__ == "ValidationError":
                return KycStepResult("AADHAAR", "FAILED", redact(str(exc)))
            raise

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            c.aadhaar_masked = kyc_rules.mask_aadhaar(number)
            c.aadhaar_hash = kyc_rules.aadhaar_hash(number, self.secret)

        await self._tx(save)
        return KycStepResult("AADHAAR", "WAITING", provider=res.vendor, reference=res.value.reference_id)

    @activity.defn
    async def aadhaar_submit(self, req: KycStepRequest) -> KycStepResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        try:
            res = await self._failover("kyc", brand, "aadhaar_otp_submit", req.reference or "", req.otp or "")
        except BusinessRefusal as exc:
            return KycStepResult("AADHAAR", "FAILED", redact(str(exc)))
        kyc = res.value
        if not kyc.verified:
            return KycStepResult("AADHAAR", "FAILED", redact(kyc.reason or "wrong OTP"), res.vendor)
        score = _score(name_match_score(kyc.name, customer.pan_name or customer.full_name))
        await self._record(
            req,
            customer.id,
            "AADHAAR",
            res.vendor,
            "VERIFIED",
            {k: v for k, v in kyc.raw.items() if k not in ("photo", "photo_base64")},
            res.attempts_as_dicts(),
            score,
        )

        photo_key = None
        if kyc.photo_base64:  # the e-KYC photo, kept in private storage like the documents
            photo_key = f"photos/{brand.id}/{customer.id}/aadhaar.jpg"
            await asyncio.to_thread(self.storage.put, photo_key, base64.b64decode(kyc.photo_base64), "image/jpeg")

        def save(session: Session) -> None:
            c = session.get_one(Customer, customer.id)
            c.aadhaar_verified = True
            c.photo_key = photo_key or c.photo_key
            if kyc.address is not None and not c.address:
                c.address, c.city = kyc.address.line, kyc.address.city
                c.state, c.pincode = kyc.address.state, kyc.address.pincode
            c.dob = c.dob or kyc.dob
            c.gender = c.gender or kyc.gender
            c.onboarding_step = "AADHAAR_VERIFIED"

        await self._tx(save)
        return KycStepResult(
            "AADHAAR",
            "PASSED",
            provider=res.vendor,
            score=str(score) if score else None,
            facts={"aadhaar_verified": True, "aadhaar_name_match": score},
        )

    # ------------------------------------------------------------------ decision
    @activity.defn
    async def decide_credit(self, req: DecisionRequest) -> DecisionResult:
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        report = await self._bureau(req, loan, customer, brand)
        facts = {k: _revive(v) for k, v in req.facts.items()}
        facts.update(
            {
                "bureau.score": report.score,
                "bureau.active_loans": report.raw.get("active_loans"),
                "bureau.enquiries_30d": report.raw.get("enquiries_30d"),
            }
        )
        try:
            return await self._tx(lambda session: self._decide(session, req, loan, customer, brand, report, facts))
        except LosError as exc:  # the brand's rules are misconfigured: retrying will not help
            raise ApplicationError(
                f"brand configuration: {exc.message}", type="BrandConfigError", non_retryable=True
            ) from exc

    async def _bureau(self, req: DecisionRequest, loan: Loan, customer: Customer, brand: Brand) -> Any:
        """The brand's bureau with failover; a report on the same customer younger than 24 h is reused."""

        def recent(session: Session) -> BureauReport | None:
            return session.scalars(
                select(BureauReport)
                .where(
                    BureauReport.customer_id == customer.id,
                    BureauReport.reused_from.is_(None),
                    BureauReport.created_at > datetime.now(UTC) - BUREAU_REUSE,
                )
                .order_by(BureauReport.created_at.desc())
            ).first()

        cached = await self._tx(recent)
        if cached is not None and cached.loan_id != loan.id:

            def reuse(session: Session) -> None:
                session.execute(
                    insert(BureauReport)
                    .values(
                        loan_id=loan.id,
                        customer_id=customer.id,
                        provider=cached.provider,
                        score=cached.score,
                        report=cached.report,
                        reused_from=cached.id,
                    )
                    .on_conflict_do_nothing(index_elements=["loan_id"])
                )
                session.execute(update(Loan).where(Loan.id == loan.id).values(credit_score=cached.score))

            await self._tx(reuse)
            return _StoredReport(cached.score, cached.report)
        res = await self._failover(
            "bureau",
            brand,
            "pull",
            customer.pan or "",
            customer.pan_name or customer.full_name,
            f"{req.idempotency_key}:bureau",
        )
        rep = res.value
        raw = dict(rep.raw)
        raw.setdefault("accounts_parsed", [_account_dict(a) for a in rep.accounts])
        raw.setdefault("active_loans", rep.active_loans)
        raw.setdefault("enquiries_30d", rep.enquiries_30d)
        raw["vendor"] = res.vendor
        raw["attempts"] = res.attempts_as_dicts()

        def save(session: Session) -> None:
            session.execute(
                insert(BureauReport)
                .values(
                    loan_id=loan.id,
                    customer_id=customer.id,
                    provider=res.vendor,
                    score=rep.score,
                    report=raw,
                )
                .on_conflict_do_nothing(index_elements=["loan_id"])
            )
            session.execute(update(Loan).where(Loan.id == loan.id).values(credit_score=rep.score))
            session.execute(
                insert(ProviderCall)
                .values(
                    loan_id=loan.id,
                    customer_id=customer.id,
                    kind="BUREAU",
                    provider=res.vendor,
                    idempotency_key=f"{req.idempotency_key}:bureau",
                    outcome="PULLED",
                    response={"score": rep.score},
                    attempts=res.attempts_as_dicts(),
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )

        await self._tx(save)
        return _StoredReport(rep.score, raw)

    def _decide(
        self,
        session: Session,
        req: DecisionRequest,
        loan: Loan,
        customer: Customer,
        brand: Brand,
        report: _StoredReport,
        facts: dict[str, Any],
    ) -> DecisionResult:
        cfg = brand.config
        today = date.today()
        # --- BRE (hard rules) -------------------------------------------------------------------
        blocklist = bre.Blocklist.from_entries(
            [
                (e.kind, e.value)
                for e in session.scalars(select(BlocklistEntry).where(BlocklistEntry.brand_id == brand.id))
            ]
        )
        # the brand's "bre" settings, or for older brands the same names at the top of the config
        config = bre.BreConfig.from_dict(cfg.get("bre") or cfg, strict=False, blocklist=blocklist)
        last_rejected = session.scalar(
            select(func.max(Loan.closed_at)).where(
                Loan.customer_id == customer.id, Loan.status == "REJECTED", Loan.id != loan.id
            )
        )
        other_brand_active = 0
        if config.enable_central_dedup and customer.pan:
            other_brand_active = (
                session.scalar(
                    select(func.count())
                    .select_from(Loan)
                    .join(Customer, Customer.id == Loan.customer_id)
                    .where(
                        Customer.pan == customer.pan,
                        Loan.brand_id != brand.id,
                        Loan.status.in_(["DISBURSED", "OVERDUE", "DISBURSAL_PENDING", "AGREEMENT_SIGNED"]),
                    )
                )
                or 0
            )
        # verified income first (bank statement), then the employment step's, then what the customer declared
        salary = (
            facts.get("kyc.bsa_avg_salary")
            or facts.get("kyc.monthly_salary")
            or session.scalar(
                select(Employment.monthly_salary)
                .where(Employment.customer_id == customer.id)
                .order_by(Employment.created_at.desc())
                .limit(1)
            )
        )
        facts_in = bre.BreInput(
            application_date=today,
            bureau_score=report.score,
            bureau_accounts=report.accounts(),
            active_loans=report.raw.get("active_loans"),
            enquiries_30d=report.raw.get("enquiries_30d"),
            pan=customer.pan,
            aadhaar_hash=customer.aadhaar_hash,
            phone=customer.phone,
            device_id=customer.device_id,
            dob=customer.dob,
            monthly_salary=int(salary) if salary is not None else None,
            last_rejected_on=last_rejected.date() if last_rejected else None,
            other_brand_active_loans=other_brand_active,
        )
        result = bre.run_bre(config, facts_in)
        self._store_decision(
            session, loan.id, "BRE", result.outcome, None, result.to_details(), f"{req.idempotency_key}:bre"
        )
        if not result.passed:
            return DecisionResult("REJECT", [f"BRE_{reason}" for reason in result.reasons])

        # --- evaluation engine ------------------------------------------------------------------
        items = session.scalars(
            select(EvaluationItem).where(EvaluationItem.brand_id == brand.id, EvaluationItem.is_active)
        ).all()
        version = str(cfg.get("evaluation_version", "V1"))
        minimum, auto = cfg.get("min_credit_score", 650), cfg.get("auto_sanction_score", 750)
        default_items = [  # without configured items: the score bands the walking skeleton used
            {
                "name": "Bureau score at or above minimum",
                "metric": "bureau.score",
                "comparator": ">=",
                "threshold": str(minimum),
                "weight": 1,
                "hard_reject": True,
            },
            {
                "name": "Bureau score at or above auto-sanction",
                "metric": "bureau.score",
                "comparator": ">=",
                "threshold": str(auto),
                "weight": 1,
            },
        ]
        configured = [
            {
                "name": i.name,
                "metric": i.metric,
                "comparator": i.comparator,
                "threshold": i.threshold,
                "weight": i.weight,
                "hard_reject": i.hard_reject,
                "version": i.version,
            }
            for i in items
        ]
        policy = evaluation.EvaluationPolicy.from_dict(
            {
                "version": version,
                "auto_sanction_threshold": cfg.get("auto_sanction_threshold", 100),
                "manual_review_threshold": cfg.get("manual_review_threshold", 50),
                "items": configured or [dict(item, version=version) for item in default_items],
            }
        )
        eval_facts = {k: v for k, v in facts.items() if v is not None}
        outcome = evaluation.evaluate(policy, eval_facts)
        self._store_decision(
            session,
            loan.id,
            "EVALUATION",
            outcome.outcome,
            outcome.score,
            outcome.to_details(),
            f"{req.idempotency_key}:evaluation",
        )
        session.execute(update(Loan).where(Loan.id == loan.id).values(evaluation_score=outcome.score))
        decision = str(outcome.decision)
        if decision == "REJECT":
            return DecisionResult("REJECT", [outcome.reason], str(outcome.score))
        assigned = None
        if decision == "MANUAL_REVIEW":
            assigned = self._allocate(session, req, loan, brand, today)
        return DecisionResult(decision, [outcome.reason], str(outcome.score), assigned)

    def _allocate(self, session: Session, req: DecisionRequest, loan: Loan, brand: Brand, on: date) -> str | None:
        """Round-robin over the staff holding the brand's allocation role (by default the credit executives,
        the first stage of the sanction hierarchy) with a workload cap, skipping those on leave."""
        staff = session.execute(
            select(StaffUser.id, StaffBrandRole.brand_id, StaffBrandRole.role, StaffUser.is_active)
            .join(StaffBrandRole, StaffBrandRole.staff_id == StaffUser.id)
            .where(StaffBrandRole.brand_id == brand.id)
        ).all()
        workload = dict(
            session.execute(
                select(Loan.assigned_to, func.count())
                .where(Loan.brand_id == brand.id, Loan.status.in_(OPEN_REVIEW), Loan.assigned_to.is_not(None))
                .group_by(Loan.assigned_to)
            ).all()
        )
        leave = {
            (s, d)
            for s, d in session.execute(
                select(PartnerUnavailabilityDate.staff_id, PartnerUnavailabilityDate.day).where(
                    PartnerUnavailabilityDate.day == on
                )
            ).all()
        }
        last = session.scalar(
            select(Loan.assigned_to)
            .where(Loan.brand_id == brand.id, Loan.assigned_to.is_not(None))
            .order_by(Loan.assigned_at.desc())
            .limit(1)
        )
        candidates = [
            assignment.StaffCandidate(
                s.id,
                s.brand_id,
                s.role,
                s.is_active,
                workload.get(s.id, 0),
                frozenset(d for sid, d in leave if sid == s.id),
            )
            for s in staff
        ]
        picked = assignment.assign(
            candidates,
            brand_id=brand.id,
            role=str(brand.config.get("allocation_role", "CREDIT_EXECUTIVE")),
            on=on,
            last_assigned_id=last,
            cap=brand.config.get("allocation_cap", 50),
        )
        self._store_decision(
            session,
            loan.id,
            "ALLOCATION",
            "ASSIGNED" if picked.assigned else "UNALLOCATED",
            None,
            [picked.to_dict()],
            f"{req.idempotency_key}:allocation",
        )
        if picked.assigned:
            session.execute(
                update(Loan)
                .where(Loan.id == loan.id)
                .values(assigned_to=picked.staff_id, assigned_at=datetime.now(UTC))
            )
            notify(
                session,
                str(picked.staff_id),
                brand.id,
                "NEW_ASSIGNMENT",
                "New loan for review",
                f"Loan {loan.id} needs a credit review",
                {"loanId": loan.id, "customerId": loan.customer_id},
                f"{req.idempotency_key}:allocation:notify",
            )
        return picked.staff_id

    @staticmethod
    def _store_decision(
        session: Session, loan_id: str, stage: str, outcome: str, score: Decimal | None, details: list, key: str
    ) -> None:
        session.execute(
            insert(LoanDecision)
            .values(
                loan_id=loan_id,
                stage=stage,
                outcome=str(outcome),
                score=score,
                details=_jsonable(details),
                idempotency_key=key,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )

    def all(self) -> list[Callable[..., Any]]:
        return [self.kyc_step, self.aadhaar_initiate, self.aadhaar_submit, self.decide_credit]


class _StoredReport:
    """A bureau report as stored (fresh or reused): score plus the raw answer the rules read."""

    def __init__(self, score: int, raw: dict):
        self.score = score
        self.raw = raw
        self.active_loans = raw.get("active_loans")

    def accounts(self) -> list[bre.BureauAccount]:
        out = []
        for a in self.raw.get("accounts_parsed") or []:
            history = [(date.fromisoformat(m), int(d)) for m, d in a.get("dpd_by_month", [])]
            out.append(bre.BureauAccount(dpd_history=tuple(history), is_active=a.get("status") == "ACTIVE"))
        return out


def _account_dict(a: Any) -> dict:
    """A bureau account with its DPD history dated month by month (bureaus report up to last month)."""
    today = date.today().replace(day=1)
    months = []
    for k, dpd in enumerate(a.dpd_history):  # [0] is last month's reported DPD
        y, m = divmod(today.month - 2 - k, 12)
        months.append((date(today.year + y, m + 1, 1).isoformat(), int(dpd)))
    return {"status": a.status, "account_type": a.account_type, "dpd_by_month": months}


def _revive(value: Any) -> Any:
    """Facts cross the workflow as JSON: a decimal score comes back as a string."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return value


def digilocker_state(loan_id: str, secret: bytes) -> str:
    """The DigiLocker ``state``: the loan id and a MAC, so a forged callback cannot touch another loan."""
    import hmac

    mac = hmac.new(secret, f"digilocker:{loan_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{loan_id}.{mac}"


STATEMENT_PASSWORD = "statement-password"  # the los.crypto purpose of a statement's sealed password
BANK_ACCOUNT = "bank-account"  # the los.crypto purpose of a sealed bank account number
AADHAAR = "aadhaar"  # the los.crypto purpose of an Aadhaar number sealed on its way through the workflow
STATEMENT_PASSWORD_CODES = frozenset({"STATEMENT_PASSWORD_REQUIRED", "STATEMENT_PASSWORD_INCORRECT"})
