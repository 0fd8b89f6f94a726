"""CKYC: the central KYC registry's record of the applicant, matched to what they told us."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session
from temporalio import activity

from activities.kyc.common import KycBase, score_of
from activities.providers.matching import name_match_score
from db.models import Brand, Customer, Loan
from domain.brand_config import BrandConfig
from domain.outcomes import KycStepStatus
from workflows.contracts import KycStepRequest, KycStepResult

# How much each field weighs in the CKYC match score (seed 004); without an address on file, name and DOB only.
NAME_WEIGHT, DOB_WEIGHT, ADDRESS_WEIGHT = 0.5, 0.3, 0.2
KIN_DIGITS = 14


def kin_of(number: str | None) -> str | None:
    """The CKYC identifier to keep: the registry's KYC Identification Number (KIN) is 14 digits (CERSAI's
    identifier, id type ``Z`` "CKYC Identifier, 14 digit number" in the CKYC search APIs:
    https://developers.arthmate.com/docs/ckyc-api-reference-code); a masked one (the search's ``X``-prefixed form)
    or anything else is not kept: ``None``."""
    text = (number or "").strip()
    return text if len(text) == KIN_DIGITS and text.isdigit() and text.isascii() else None


class CkycActivities(KycBase):
    @activity.defn
    async def kyc_ckyc(self, req: KycStepRequest) -> KycStepResult:
        """CKYC search + download by PAN; a match score over name, DOB and address against the brand's
        ``ckyc_match_threshold``. No record is not a failure (a fact: ``ckyc_found``). A record that matches keeps
        its CKYC number (the downloaded record's 14-digit KIN) on the customer (``customers.ckyc_number``), which
        the bureau files report (RBI's Credit Information Reporting Directions, para 12(10)); a record below the
        threshold is not the applicant's as far as we know, and its number is not kept."""
        return await self._run_step(req, self._ckyc)

    async def _ckyc(self, req: KycStepRequest, loan: Loan, customer: Customer, brand: Brand) -> KycStepResult:
        res = await self._failover("ckyc", brand, "fetch", customer.pan or "", dob=customer.dob or date(1900, 1, 1))
        record = res.value
        if record is None:
            await self._record(req, customer.id, "CKYC", res.vendor, "NOT_FOUND", {}, res.attempts_as_dicts())
            return KycStepResult(
                "CKYC", KycStepStatus.PASSED, "no CKYC record", res.vendor, facts={"ckyc_found": False}
            )
        name = name_match_score(record.name, customer.pan_name or customer.full_name) or 0.0
        dob = 100.0 if customer.dob and record.dob == customer.dob else 0.0
        address = name_match_score(record.address.line, customer.address) if customer.address else None
        parts = [(name, NAME_WEIGHT), (dob, DOB_WEIGHT)] + ([(address, ADDRESS_WEIGHT)] if address is not None else [])
        score = score_of(sum(v * w for v, w in parts) / sum(w for _, w in parts))
        await self._record(req, customer.id, "CKYC", res.vendor, "MATCHED", record.raw, res.attempts_as_dicts(), score)
        threshold = Decimal(BrandConfig.of(brand.config).ckyc_match_threshold)
        if score is not None and score < threshold:
            return KycStepResult(
                "CKYC", KycStepStatus.FAILED, f"CKYC match {score} below {threshold}", res.vendor, str(score)
            )
        number = kin_of(record.ckyc_number)
        if number is not None:

            def save(session: Session) -> None:
                session.get_one(Customer, customer.id).ckyc_number = number

            await self._tx(save)
        return KycStepResult(
            "CKYC",
            KycStepStatus.PASSED,
            provider=res.vendor,
            score=str(score),
            facts={"ckyc_found": True, "ckyc_score": score},
        )
