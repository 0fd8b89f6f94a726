"""The invoice financing workflow's first phase: the checks (duplicate, business, buyer), the risk score and the
lenders' offers (CHECKING → OFFERED or REFUSED, NEEDS_ATTENTION when a vendor is down), then the offers' wait
(OFFERED → accepted, cancelled, or EXPIRED). Rules are ``domain.sme``; side effects activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.invoice_base import CHECKS, InvoiceBase, S, ist_date

with workflow.unsafe.imports_passed_through():
    from domain.sme.matching import match_offers
    from domain.sme.status import RefusalReason
    from workflows.contracts import sme as c


class InvoiceChecks(InvoiceBase):
    """SUBMITTED / CHECKING and OFFERED."""

    async def _checks(self) -> None:
        if self.state.status == S.SUBMITTED:
            await self._move(S.CHECKING)
        try:
            for check in ("sme_check_duplicate", "sme_verify_business", "sme_verify_buyer"):
                answer: c.CheckAnswer = await self._provider(check, c.CheckAnswer)
                if not answer.ok:
                    return await self._refuse_request(answer.reason or RefusalReason.BUSINESS_UNVERIFIED, answer.text)
            score: c.ScoreAnswer = await self._provider("sme_score", c.ScoreAnswer)
        except ActivityError as exc:  # a vendor down past its retries: staff retry when it is back
            return await self._hold(CHECKS, f"a check could not be completed: {exc.cause or exc}")
        self.state.score, self.state.grade = score.score, score.grade
        settings: c.SmeTerms = await self._db("sme_terms", self._ref(), c.SmeTerms)
        now = workflow.now()
        offers = match_offers(self.inp.amount, score.score, ist_date(now), self.inp.due_date, settings.lenders)
        if not offers:
            too_low = all(score.score < lender.min_score for lender in settings.lenders)
            return await self._refuse_request(RefusalReason.SCORE_TOO_LOW if too_low else RefusalReason.NO_OFFER)
        expires = now + timedelta(days=settings.offer_validity_days)
        record = c.OffersRecord(self.inp.request_id, score.score, score.grade, offers, expires)
        await self._db("sme_record_offers", record)
        self.state.offers, self.state.offers_expire_at = offers, expires
        await self._move(S.OFFERED)
        await self._notice("OFFERED", {"offers": len(offers), "best": offers[0].advance})

    async def _offered(self) -> None:
        expires = self.state.offers_expire_at or workflow.now()
        left = max(timedelta(seconds=1), expires - workflow.now())
        moved = await self._wait(lambda: self.state.status != S.OFFERED or self.busy, left)
        if not moved:
            self.busy = True  # no acceptance may slip in while the expiry is recorded
            await self._move(S.EXPIRED, "no offer was accepted in time")
            await self._notice("EXPIRED", {})
        else:
            await self._until_moved()
