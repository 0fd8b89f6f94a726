"""Employment: EPFO (phone → UAN when none was given, UAN → employment history) against what the applicant declared."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity

from activities.kyc import queries
from activities.kyc.common import KycBase, score_of
from activities.providers.matching import name_match_score
from db.models import Brand, Customer, Employment, Loan
from domain.outcomes import KycStepStatus
from workflows.contracts import KycStepRequest, KycStepResult


class EmploymentActivities(KycBase):
    @activity.defn
    async def kyc_employment(self, req: KycStepRequest) -> KycStepResult:
        """EPFO confirms a current employment (employer, tenure, wage); waits until the customer adds one."""
        return await self._run_step(req, self._employment)

    async def _employment(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        job = await self._tx(lambda session: queries.employment_for(session, customer.id, req.ref_id))
        if job is None:
            return KycStepResult("EMPLOYMENT", KycStepStatus.WAITING, "add your employment")
        uan = job.uan
        attempts: list = []
        if not uan:
            lookup = await self._failover("employment", brand, "phone_to_uan", customer.phone)
            attempts += lookup.attempts_as_dicts()
            uan = lookup.value.uans[0] if lookup.value.found and lookup.value.uans else None
        if not uan:
            await self._record(req, customer.id, "EMPLOYMENT", "-", "NOT_FOUND", {}, attempts)
            return KycStepResult("EMPLOYMENT", KycStepStatus.FAILED, "no UAN found for this mobile number")
        res = await self._failover("employment", brand, "uan_to_employment", uan)
        history = res.value
        current = next((r for r in history.records if r.exited_on is None), None)
        employer_score = score_of(name_match_score(current.employer, job.employer_name)) if current else None
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
        return KycStepResult("EMPLOYMENT", KycStepStatus.PASSED, provider=res.vendor, facts=facts)
