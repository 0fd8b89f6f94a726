"""The applicant's bank: penny drop on the salary account, and the bank statement — an uploaded PDF, or with the
brand's ``aa_enabled`` an Account Aggregator consent — analysed by a BSA vendor."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.kyc import queries
from activities.kyc.common import BANK_ACCOUNT, STATEMENT_PASSWORD, STATEMENT_PASSWORD_CODES, KycBase, score_of
from activities.providers import build
from activities.providers.base import BusinessRefusal
from activities.providers.failover import Attempt
from activities.providers.matching import name_match_score
from db.models import Brand, BsaReport, Customer, CustomerDocument, Loan
from domain.brand_config import BrandConfig
from domain.outcomes import KycStepStatus
from los.crypto import unseal
from workflows.contracts import BeneficiaryCheck, BeneficiaryCheckRequest, KycStepRequest, KycStepResult


@dataclass(frozen=True)
class PennyDrop:
    """A penny drop's verdict: ``ok`` (exists and the name matches), why not, the vendor and the match score."""

    ok: bool
    exists: bool
    reason: str | None
    vendor: str
    score: Decimal | None


class BankActivities(KycBase):
    # ------------------------------------------------------------------ penny drop
    @activity.defn
    async def kyc_penny_drop(self, req: KycStepRequest) -> KycStepResult:
        """Penny drop on the customer's account (step BANK_ACCOUNT); the beneficiary's name must match the PAN
        name to the brand's ``name_match_threshold`` (default 80). Waits until the customer adds an account."""
        return await self._run_step(req, self._bank_account)

    async def _bank_account(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        account = await self._tx(lambda session: queries.bank_account_for(session, customer.id, req.ref_id))
        if account is None:
            return KycStepResult("BANK_ACCOUNT", KycStepStatus.WAITING, "add a bank account")
        drop = await self._penny_drop(req, loan, customer, brand, account)
        if not drop.exists:
            return KycStepResult("BANK_ACCOUNT", KycStepStatus.FAILED, drop.reason, drop.vendor)
        if not drop.ok:
            return KycStepResult("BANK_ACCOUNT", KycStepStatus.FAILED, drop.reason, drop.vendor, str(drop.score))
        return KycStepResult(
            "BANK_ACCOUNT",
            KycStepStatus.PASSED,
            provider=drop.vendor,
            score=str(drop.score),
            facts={"bank_name_match": drop.score},
        )

    async def _penny_drop(
        self, req: KycStepRequest | BeneficiaryCheckRequest, loan: Loan, customer: Customer, brand: Brand, account: Any
    ) -> PennyDrop:
        """Penny drop on ``account`` through the brand's vendors: the account must exist and the name the bank
        holds match the PAN name to the brand's ``name_match_threshold``. Recorded on ``provider_calls`` and on
        the account (status, score, ``verified_at``)."""
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
        threshold = Decimal(BrandConfig.of(brand.config).name_match_threshold)
        score = score_of(name_match_score(drop.beneficiary_name, customer.pan_name or customer.full_name))
        ok = drop.account_exists and score is not None and score >= threshold
        status = "VERIFIED" if ok else "FAILED"
        await self._record(req, customer.id, "PENNY_DROP", res.vendor, status, drop.raw, res.attempts_as_dicts(), score)
        verified_at = datetime.now(UTC)

        def save(session: Session) -> None:
            queries.save_penny_drop(
                session,
                account.id,
                beneficiary_name=drop.beneficiary_name,
                bank_name=drop.bank_name,
                name_match_score=score,
                penny_drop_status=status,
                provider=res.vendor,
                **({"verified_at": verified_at} if ok else {}),
            )

        await self._tx(save)
        if not drop.account_exists:
            reason = drop.reason or "account not found"
        elif not ok:
            reason = f"beneficiary name match {score} below {threshold}"
        else:
            reason = None
        return PennyDrop(ok, bool(drop.account_exists), reason, res.vendor, score)

    @activity.defn
    async def reverify_beneficiary(self, req: BeneficiaryCheckRequest) -> BeneficiaryCheck:
        """The loan's beneficiary (the customer's primary account) right before a transfer: trusted when a penny
        drop verified it within the brand's ``pennydrop_max_age_hours``, else verified again now. Not verified:
        no account, the account closed, or the name the bank holds no longer matches (the workflow parks the loan).
        The account number never leaves this activity."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        account = await self._tx(lambda session: queries.bank_account_for(session, customer.id, None))
        if account is None:
            return BeneficiaryCheck(False, "the customer has no primary bank account")
        found = BeneficiaryCheck(True, None, account.id, account.account_last4, account.ifsc)
        window = timedelta(hours=BrandConfig.of(brand.config).pennydrop_max_age_hours)
        fresh = account.verified_at is not None and req.now - account.verified_at < window
        if account.penny_drop_status == "VERIFIED" and fresh:
            return found
        drop = await self._penny_drop(req, loan, customer, brand, account)
        return replace(found, verified=drop.ok, reason=drop.reason, reverified=True)

    # ------------------------------------------------------------------ bank statement
    @activity.defn
    async def kyc_bank_statement(self, req: KycStepRequest) -> KycStepResult:
        """Bank-statement analysis of the customer's upload (the one the step's input names, else their latest), only
        one uploaded within the brand's ``statement_max_age_days`` (30): an older statement is not read, and the step
        waits for a new one. With the brand's ``aa_enabled``, through an Account Aggregator consent instead. Waits for
        the upload (or the consent)."""
        return await self._run_step(req, self._bank_statement)

    async def _bank_statement(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        if BrandConfig.of(brand.config).aa_enabled:
            return await self._account_aggregator(req, loan, customer, brand)
        max_age = BrandConfig.of(brand.config).statement_max_age_days

        def find(session: Session) -> tuple[CustomerDocument | None, bool]:
            doc = queries.bank_statement_for(session, customer.id, req.ref_id, max_age)
            return doc, doc is None and queries.bank_statement_for(session, customer.id, req.ref_id) is not None

        doc, too_old = await self._tx(find)
        if doc is None:
            if too_old:  # its figures no longer tell today's income: not read
                note = f"your statement was uploaded more than {max_age} days ago: upload a recent one"
                return KycStepResult("BANK_STATEMENT", KycStepStatus.WAITING, note)
            return KycStepResult("BANK_STATEMENT", KycStepStatus.WAITING, "upload a bank statement")
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
                "BANK_STATEMENT",
                KycStepStatus.WAITING,
                f"the statement is password-protected: upload it again with {wanted}",
            )
        return await self._store_bsa(
            req, loan, customer, res.value, res.vendor, "UPLOAD", doc.id, res.attempts_as_dicts()
        )

    # ------------------------------------------------------------------ Account Aggregator
    async def _account_aggregator(
        self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand
    ) -> KycStepResult:
        """AA: consent request → consent URL to the customer → AA webhook → fetch data → analysis."""
        consent = await self._tx(lambda session: queries.latest_consent(session, loan.id))
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
                queries.insert_consent(
                    session,
                    brand_id=brand.id,
                    customer_id=customer.id,
                    loan_id=loan.id,
                    provider=res.vendor,
                    consent_handle=res.value.consent_handle,
                    consent_url=res.value.consent_url,
                    status=res.value.status,
                    expires_at=res.value.expires_at,
                )

            await self._tx(save)
            await self._sms(
                brand,
                customer.phone,
                "AA_CONSENT",
                f"{brand.name}: share your bank statement securely: {res.value.consent_url}",
            )
            return KycStepResult(
                "BANK_STATEMENT",
                KycStepStatus.WAITING,
                "consent requested",
                res.vendor,
                reference=res.value.consent_url,  # the page the borrower opens to approve (the app links to it)
            )
        # A consent lives at the aggregator that issued it: its status and data come from that vendor only
        # (another vendor would not know the handle). A fault there raises, so the activity retries.
        issuer = build("aa", brand.config, self.http, vendor=consent.provider)
        status = await issuer.consent_status(consent.consent_handle)
        if status != consent.status:
            await self._tx(lambda session: queries.set_consent_status(session, consent.id, status))
        if status in ("REJECTED", "REVOKED", "EXPIRED"):
            return KycStepResult(
                "BANK_STATEMENT", KycStepStatus.FAILED, f"account aggregator consent {status.lower()}", consent.provider
            )
        if status != "APPROVED":
            return KycStepResult("BANK_STATEMENT", KycStepStatus.WAITING, "waiting for consent", consent.provider)
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
        """The analysis as stored (``bsa_reports``) and as facts: average salary over the last three credits,
        monthly EMI debits, average balance, bounces."""
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
            "BANK_STATEMENT", KycStepStatus.PASSED, provider=vendor, facts={f"bsa_{k}": v for k, v in summary.items()}
        )
