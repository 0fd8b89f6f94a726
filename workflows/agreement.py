"""Origination's agreement and eSign (see ``workflows.loan``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.outcomes import AgreementStatus
    from domain.status import LoanStatus
    from workflows.contracts import (
        AgreementOutcome,
        AgreementRequest,
        EsignEvent,
        LoanWorkflowResult,
    )
    from workflows.options import (
        AGREEMENT_TIMEOUT,
        DB_RETRY,
        DB_TIMEOUT,
        PROVIDER_RETRY,
    )

from workflows.base import LoanBase


class AgreementPhase(LoanBase):
    """Origination, third part: the loan agreement rendered and sent for eSign, and the borrower's signature
    (or its expiry or refusal)."""

    async def _sign_agreement(self, key: str) -> LoanWorkflowResult | None:
        """AGREEMENT_SIGNED (None), or the loan's end (EXPIRED) when the borrower does not sign in time or
        declines."""
        inp = self.inp
        agreement = await workflow.execute_activity_method(
            LoanActivities.prepare_agreement,
            AgreementRequest(
                inp.loan_id,
                inp.brand_id,
                inp.policy.esign_provider,
                f"{key}:agreement:1",
                inp.terms,
                inp.policy.esign_expiry_seconds,
                workflow.now(),
            ),
            start_to_close_timeout=AGREEMENT_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
            summary="Render agreement PDF and send for eSign",
        )
        await self._move(LoanStatus.AGREEMENT_PENDING, f"eSign docket {agreement.docket_id}")
        try:
            await workflow.wait_condition(
                lambda: self.esign_event is not None,
                timeout=timedelta(seconds=inp.policy.esign_expiry_seconds),
                timeout_summary="eSign expiry",
            )
        except asyncio.TimeoutError:
            await self._record_agreement(agreement.docket_id, AgreementStatus.EXPIRED)
            return await self._end(LoanStatus.EXPIRED, "agreement not signed before expiry")
        assert self.esign_event is not None
        await self._record_agreement(agreement.docket_id, self.esign_event.status)
        if self.esign_event.status != AgreementStatus.SIGNED:
            return await self._end(LoanStatus.EXPIRED, f"eSign {self.esign_event.status.lower()}")
        await self._move(LoanStatus.AGREEMENT_SIGNED, f"signed, docket {agreement.docket_id}")
        return None

    async def _record_agreement(self, docket_id: str, status: AgreementStatus) -> None:
        await workflow.execute_activity_method(
            LoanActivities.record_agreement_outcome,
            AgreementOutcome(self.inp.loan_id, docket_id, status, workflow.now()),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Agreement {status.lower()}",
        )

    @workflow.signal(description="The eSign vendor's webhook: the agreement was signed, declined or expired.")
    def esign_completed(self, event: EsignEvent) -> None:
        if self.esign_event is None:
            self.esign_event = event
