"""KYC results reused by the customer's next loan (a reloan, or any later application) while they are still valid.

When a loan's KYC steps have all passed, ``kyc_record_results`` stores them on the loan as its KYC decision
(``loan_decisions``, stage KYC, outcome PASS; the staff credit file shows it): per step its status (PASSED, or
REUSED with ``sourceLoanId``, the loan whose result was taken), when it was verified (``verifiedAt``: a reused
step keeps the original time, so a result is never stretched past its validity by being passed on), the vendor,
the facts later rules read, and a keyed fingerprint of the PAN it was verified under.

At the start of a later loan's KYC phase, ``kyc_reuse_lookup`` answers the steps the same customer passed within
the brand's ``reloan.kycValidityDays`` (``domain.reloan.kyc_reusable``; 0 reuses nothing) under the same PAN, newest
first, one per step; the workflow skips those steps and gives the credit decision their facts. Loans whose KYC
ended before this was recorded leave nothing to reuse.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio import activity

from activities.kyc import queries
from activities.kyc.common import KycBase, jsonable
from db.models import Loan, LoanDecision
from domain.brand_config import BrandConfig
from domain.outcomes import KycStepStatus
from domain.reloan import kyc_reusable, kyc_validity_days
from workflows.contracts import KycStepRequest, KycStepResult

STAGE = "KYC"
REUSED = "REUSED"  # a step's status in the loan's KYC results (and the workflow's kyc_results) when reused


class ReuseActivities(KycBase):
    """KYC results recorded per loan, and reused by the customer's next loan while valid."""

    def _pan_fingerprint(self, pan: str | None) -> str:
        return hmac.new(self.secret or b"", f"kyc-reuse:{pan or ''}".encode(), hashlib.sha256).hexdigest()[:32]

    @activity.defn
    async def kyc_reuse_lookup(self, req: KycStepRequest) -> list[KycStepResult]:
        """The KYC steps the loan's customer passed on an earlier loan within the brand's ``kycValidityDays`` (the
        bank statement's analysis within ``statementMaxAgeDays`` too, ``domain.reloan.kyc_validity_days``),
        under the PAN they have now: one PASSED result per step (the newest), ``reference`` the loan it was
        recorded on, ``facts`` as recorded, ``reason`` saying when it was verified. Empty when nothing is valid."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        config = BrandConfig.of(brand.config)
        validity = config.reloan_policy().kyc_validity_days
        if validity <= 0:
            return []
        now = datetime.now(UTC)
        pan = self._pan_fingerprint(customer.pan)

        def load(session: Session) -> list[tuple[str, list[Any]]]:
            rows = session.execute(
                select(LoanDecision.loan_id, LoanDecision.details)
                .join(Loan, Loan.id == LoanDecision.loan_id)
                .where(
                    Loan.customer_id == customer.id,
                    Loan.id != loan.id,
                    LoanDecision.stage == STAGE,
                    LoanDecision.created_at >= now - timedelta(days=validity),
                )
                .order_by(LoanDecision.created_at.desc())
            ).all()
            return [(row[0], list(row[1] or [])) for row in rows]

        found: dict[str, KycStepResult] = {}
        for source, entries in await self._tx(load):
            for entry in entries:
                step = entry.get("step") if isinstance(entry, dict) else None
                if not step or step in found or entry.get("pan") != pan:
                    continue
                try:
                    verified_at = datetime.fromisoformat(str(entry.get("verifiedAt")))
                except ValueError:
                    continue
                days = kyc_validity_days(step, validity, config.statement_max_age_days)
                if verified_at.tzinfo is None or not kyc_reusable(verified_at, now, days):
                    continue
                found[step] = KycStepResult(
                    step,
                    KycStepStatus.PASSED,
                    f"reused: verified {verified_at.date().isoformat()}",
                    provider=entry.get("provider"),
                    reference=source,
                    facts=dict(entry.get("facts") or {}),
                )
        return list(found.values())

    @activity.defn
    async def kyc_record_results(
        self, req: KycStepRequest, passed: list[KycStepResult], reused: list[KycStepResult]
    ) -> None:
        """Store the loan's KYC results once (key ``req.idempotency_key``): ``passed`` verified now, ``reused``
        taken from the loans their ``reference`` names (their original ``verifiedAt`` kept)."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        pan = self._pan_fingerprint(customer.pan)
        now = datetime.now(UTC).isoformat()

        def write(session: Session) -> None:
            sources: dict[str, dict[Any, Any]] = {}
            for r in reused:
                if r.reference and r.reference not in sources:
                    details = session.scalars(
                        select(LoanDecision.details).where(
                            LoanDecision.loan_id == r.reference, LoanDecision.stage == STAGE
                        )
                    ).first()
                    sources[r.reference] = {e.get("step"): e for e in details or [] if isinstance(e, dict)}
            entries: list[dict[str, Any]] = [
                {
                    "step": r.step,
                    "status": KycStepStatus.PASSED.value,
                    "verifiedAt": now,
                    "provider": r.provider,
                    "facts": jsonable(r.facts),
                    "pan": pan,
                }
                for r in passed
                if r.status == KycStepStatus.PASSED
            ]
            for r in reused:
                original = sources.get(r.reference or "", {}).get(r.step)
                if original is None:  # the source row is gone: nothing to vouch for it
                    continue
                entries.append(
                    {
                        "step": r.step,
                        "status": REUSED,
                        "sourceLoanId": r.reference,
                        "verifiedAt": original.get("verifiedAt"),
                        "provider": original.get("provider"),
                        "facts": original.get("facts") or {},
                        "pan": original.get("pan"),
                    }
                )
            queries.store_decision(session, loan.id, STAGE, "PASS", None, entries, req.idempotency_key)

        await self._tx(write)


__all__ = ["REUSED", "STAGE", "ReuseActivities"]
