"""The borrower's closed loan, /api/v1/web: the closure certificate (NDC/NOC) download and the reloan offers.

- ``GET loans/{loanId}/noc``: the loan's current certificate (its highest version) as a PDF; ``X-Certificate-No``
  and ``X-Certificate-Version`` name it. 404 before one is issued, and for anyone else's loan.
- ``GET reloan-offers``: the customer's open offers (OFFERED, not past their last day, IST); applying
  (``POST loans``) takes the newest up.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.storage import content_disposition
from api.deps import call_async, db_session
from api.guards import GUARDS
from api.loan_start import ist_today
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.web.payments import PDF_HEADERS, _my_loan, stored_file
from db import closure
from db.models import ClosureCertificate, Loan, ReloanOffer
from domain.documents import PDF
from domain.errors import NotFound

router = APIRouter(prefix="/api/v1/web", tags=["web (customer)"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
CERTIFICATE_PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "The current closure certificate (PDF), inline.", "content": {PDF: {}}},
    404: {"description": "No such loan, or no certificate issued for it yet."},
}


class ReloanOfferView(ApiModel):
    """An open reloan offer: how much the customer may borrow again, until when, and the loan that earned it."""

    id: str
    amount_paise: int = Field(description="the amount offered, paise (whole rupees)")
    expires_on: str = Field(description="the offer's last day, IST date YYYY-MM-DD")
    previous_loan_id: str = Field(description="the closed loan that earned it")
    status: str = Field(description="OFFERED")


def certificate_response(request: Request, session: Session, loan: Loan) -> Response:
    """The loan's current certificate PDF; NotFound (field ``loanId``) before one is stored."""
    cert: ClosureCertificate | None = closure.current_certificate(session, loan.id)
    if cert is None:
        raise NotFound("no closure certificate has been issued for this loan", field="loanId")
    key, number, version = cert.storage_key, cert.certificate_no, cert.version
    session.rollback()  # nothing to write: the connection goes back to the pool while the file is read
    headers = {
        **PDF_HEADERS,
        "Content-Disposition": content_disposition(f"{number.replace('/', '-')}.pdf"),
        "X-Certificate-No": number,
        "X-Certificate-Version": str(version),
    }
    return call_async(stored_file, request, key, PDF, headers, field="loanId")


@router.get("/loans/{loan_id}/noc", response_class=Response, responses=CERTIFICATE_PDF)
def my_certificate(request: Request, loan_id: str, me: Me, session: Db) -> Response:
    """The closure certificate (No Dues / No Objection, or the settlement letter) of the customer's own closed
    loan, its current version; 404 until it is issued, and for anyone else's loan."""
    return certificate_response(request, session, _my_loan(session, loan_id, me))


@router.get("/reloan-offers", response_model=list[ReloanOfferView])
def my_reloan_offers(me: Me, session: Db) -> list[dict]:
    """The customer's open reloan offers, newest first."""
    rows = session.scalars(
        select(ReloanOffer)
        .where(
            ReloanOffer.customer_id == me.id,
            ReloanOffer.brand_id == me.brand_id,
            ReloanOffer.status == "OFFERED",
            ReloanOffer.expires_on >= ist_today(),
        )
        .order_by(ReloanOffer.created_at.desc())
    ).all()
    return [
        {
            "id": r.id,
            "amountPaise": r.amount,
            "expiresOn": r.expires_on.isoformat(),
            "previousLoanId": r.previous_loan_id,
            "status": r.status,
        }
        for r in rows
    ]
