"""At a loan's closure: its No Dues / No Objection certificate (``issue_closure_certificate``) and, when it closed in
good standing, a reloan offer (``offer_reloan``).

The certificate is ``activities/templates/noc.html`` printed by the worker's PDF renderer, numbered, stored privately
and recorded by :func:`db.closure.issue_certificate` — the same function the staff API calls to regenerate one after
the loan's workflow has ended. The customer is told by the NOC_ISSUED notice (SMS, WhatsApp, email: the brand's
channels and templates) with the download link ``/api/v1/web/loans/{loanId}/noc``. RBI's directions on releasing
documents on repayment (13 September 2023) ask for the release within 30 days of closure; here it is at once.

The reloan rules are ``domain.reloan`` over the brand's ``reloan`` setting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import render_html
from activities.loan.common import LoanBase
from activities.messaging.send import Sender
from db import closure
from domain.brand_config import BrandConfig
from domain.reloan import ineligibility, reloan_offer
from workflows.contracts import CertificateRequest, ReloanRequest
from workflows.options import IST


def noc_link(api_url: str, loan_id: str) -> str:
    """Where the customer downloads the loan's current certificate."""
    return f"{api_url}/api/v1/web/loans/{loan_id}/noc"


class ClosureDocActivities(LoanBase):
    """Closure certificates and reloan offers."""

    async def _render(self, context: dict[str, Any]) -> bytes:
        return await self.renderer.pdf(render_html("noc.html", context))

    @activity.defn
    async def issue_closure_certificate(self, req: CertificateRequest) -> dict:
        """Issue the loan's closure certificate of ``req.kind`` (NO_DUES or SETTLED) once: numbered
        ``NOC/<BRANDCODE>/<FY>/<seq>``, rendered, stored, recorded as the loan's next version; with ``req.send`` the
        NOC_ISSUED notice goes out once with the download link. A retry finds the certificate it issued and makes
        no other. Returns ``{certificateNo, version, kind}``. An unknown kind or loan is not retried
        (``ValidationError`` / ``NotFound``)."""
        await self._tx(self._context(req.loan_id))  # NotFound, not retried
        notify = self._notifier(req.loan_id) if req.send else None
        try:
            issued = await closure.issue_certificate(
                self.db,
                self.storage,
                self._render,
                loan_id=req.loan_id,
                kind=req.kind,
                staff_id=req.staff_id,
                notify=notify,
            )
        except ValueError as exc:
            raise ApplicationError(str(exc), type="ValidationError", non_retryable=True) from exc
        return issued.as_dict()

    def _notifier(self, loan_id: str) -> Any:
        async def notify(issued: closure.IssuedCertificate) -> None:
            await Sender(self.db, self.http, self.api_url).notice(
                loan_id,
                "NOC_ISSUED",
                f"noc:{issued.certificate_no}",
                {
                    "certificate_no": issued.certificate_no,
                    "noc_link": noc_link(self.api_url, loan_id),
                    "kind": issued.kind,
                },
            )

        return notify

    @activity.defn
    async def offer_reloan(self, req: ReloanRequest) -> dict | None:
        """Offer the customer a new loan if ``req.loan_id`` closed in good standing (``domain.reloan``: closed as
        REPAID or FORECLOSED, its worst DPD within the brand's ``reloan.maxDpd``, reloans enabled): one offer per
        closed loan, the amount stepped up per the brand's rule (paise), open ``offerDays`` from the closure date
        (IST); the RELOAN_OFFER notice tells the customer once. Returns ``{offerId, amount, expiresOn}`` (ISO date)
        or None when the loan does not qualify."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))
        policy = BrandConfig.of(brand.config).reloan_policy()
        closed_on = (loan.closed_at or datetime.now(UTC)).astimezone(IST).date()
        offer = reloan_offer(loan.amount, loan.max_dpd or 0, loan.closed_as, policy, closed_on)
        if offer is None:
            activity.logger.info(
                "loan %s earns no reloan: %s",
                loan.id,
                ineligibility(loan.max_dpd or 0, loan.closed_as, policy) or "amount comes to nothing",
            )
            return None

        def write(session: Session) -> tuple[str, int, str]:
            row = closure.insert_offer(
                session,
                brand_id=brand.id,
                customer_id=customer.id,
                previous_loan_id=loan.id,
                amount=offer.amount,
                expires_on=offer.expires_on,
            )
            return row.id, row.amount, row.expires_on.isoformat()

        offer_id, amount, expires_on = await self._tx(write)
        await Sender(self.db, self.http, self.api_url).notice(
            loan.id, "RELOAN_OFFER", f"reloan:{offer_id}", {"amount": amount, "expires_on": expires_on}
        )
        return {"offerId": offer_id, "amount": amount, "expiresOn": expires_on}


__all__ = ["ClosureDocActivities", "noc_link"]
