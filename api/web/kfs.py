"""The borrower's Key Fact Statement and agreement, /api/v1/web/loans/{loanId}/... (RBI KFS circular
RBI/2024-25/18, 15 April 2024; RBI (Digital Lending) Directions, 2025).

- ``GET .../kfs``: the loan's KFS from its frozen terms, issued today (IST) — as of its disbursal date once
  disbursed — with its version (``kfsHash``), its validity and the latest acceptance; ``?format=pdf`` prints it.
- ``POST .../kfs/accept``: the borrower accepts the version they read (its hash). A KFS recomputed today with
  another hash is refused (409, nothing changes); else the loan's workflow takes the acceptance (an update).
- ``GET .../agreement``: the agreement PDF (signed once stored); ``POST .../agreement/resend``: a fresh signing
  link (the workflow cancels the open docket first).

Only the borrower's own loan is found (another's is 404), and the KFS only once the loan is sanctioned (409).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import Client

from activities.documents import PdfRenderer, render_html
from api.deps import UpdateBound, call_async, db_session, is_uuid, temporal
from api.guards import GUARDS
from api.partner.agreement import AGREEMENT_PDF, PDF_HEADERS, agreement_response
from api.preview_views import KeyFactStatement
from api.responses import ApiModel
from api.security import Principal, current_customer
from api.workflow_calls import customer_update
from db.kfs import latest_kfs_acceptance, loan_kfs
from db.models import Brand, Loan, LoanStatusHistory
from domain.brand_config import BrandConfig
from domain.documents import PDF
from domain.errors import Conflict, NotFound
from domain.kfs import kfs_hash
from domain.status import LoanStatus
from workflows.contracts import AgreementResendRequest, KfsAcceptance
from workflows.loan import LoanWorkflow
from workflows.options import IST

router = APIRouter(prefix="/api/v1/web", tags=["web (customer): KFS and agreement"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]
Engine = Annotated[Client, Depends(temporal)]

# No KFS before the sanction: these statuses never reached it (NEEDS_ATTENTION only when parked before it).
NOT_SANCTIONED = frozenset({LoanStatus.APPLIED, LoanStatus.UNDER_REVIEW, LoanStatus.REJECTED})
HASH = r"^[0-9a-f]{64}$"
DATE = "IST calendar date, ISO YYYY-MM-DD"


class KfsAccepted(ApiModel):
    """An acceptance as the loan's history records it (the status move with action ``KFS_ACCEPTED``)."""

    kfs_hash: str = Field(description="SHA-256 of the accepted KFS version, hex")
    issued_on: str = Field(description=DATE)
    valid_until: str = Field(description=DATE)
    accepted_at: str = Field(description="ISO 8601 instant with offset")


class LoanKfs(ApiModel):
    """The loan's KFS issued today (IST; once disbursed, as of the disbursal date), its version and validity,
    and the latest acceptance (null before any)."""

    loan_id: str
    kfs: KeyFactStatement
    kfs_hash: str = Field(description="SHA-256 of the KFS's canonical JSON (sorted keys, no whitespace), hex")
    issued_on: str = Field(description=DATE)
    valid_until: str = Field(description=f"{DATE}: 3 working days after issue (1 for tenors under 7 days)")
    accepted: KfsAccepted | None


class KfsAcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    kfs_hash: str = Field(alias="kfsHash", pattern=HASH, description="the kfsHash of the KFS the borrower read")


class KfsAcceptResult(ApiModel):
    """The workflow's answer: the loan's status and the accepted version."""

    status: str
    kfs_hash: str


class AgreementResent(ApiModel):
    """The workflow's answer to a new signing link: the loan's status and the new docket (``kfsRequired``: the
    accepted KFS lapsed, accept a fresh one first)."""

    status: str
    docket_id: str | None
    kfs_required: bool | None = None


KFS_PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "With `format=pdf`: the KFS printed (RBI's layout).", "content": {PDF: {}}}
}


def _today() -> date:
    return datetime.now(IST).date()


def _my_loan(session: Session, loan_id: str, me: Principal) -> Loan:
    loan = session.get(Loan, loan_id) if is_uuid(loan_id) else None
    if loan is None or loan.customer_id != me.id:
        raise NotFound("loan not found")
    return loan


def _sanctioned(session: Session, loan: Loan) -> None:
    """409 unless the loan has been sanctioned (a loan parked in NEEDS_ATTENTION counts if it was)."""
    reached = loan.status not in NOT_SANCTIONED
    if loan.status == LoanStatus.NEEDS_ATTENTION:
        reached = (
            session.scalars(
                select(LoanStatusHistory.id).where(
                    LoanStatusHistory.loan_id == loan.id, LoanStatusHistory.to_status == LoanStatus.SANCTIONED.value
                )
            ).first()
            is not None
        )
    if not reached:
        raise Conflict(f"loan is {loan.status}; the Key Fact Statement is issued once it is sanctioned", field="status")


_RENDERER_LOCK = threading.Lock()


def _renderer(request: Request) -> PdfRenderer:
    """The API process's one PDF renderer, made on first use (Chromium starts on the first print)."""
    with _RENDERER_LOCK:  # routes run in threads: two first prints must not each start a Chromium
        renderer = getattr(request.app.state, "pdf_renderer", None)
        if renderer is None:
            renderer = request.app.state.pdf_renderer = PdfRenderer(request.app.state.settings.chromium_path)
        return renderer


@router.get("/loans/{loan_id}/kfs", response_model=LoanKfs, responses=KFS_PDF)
def my_kfs(
    request: Request,
    loan_id: str,
    me: Me,
    session: Db,
    format: Annotated[Literal["json", "pdf"], Query(description="json (default) or pdf")] = "json",
) -> dict | Response:
    """The loan's Key Fact Statement from its frozen terms, issued today (IST), with its hash and validity."""
    loan = _my_loan(session, loan_id, me)
    _sanctioned(session, loan)
    on = loan.disbursed_at.astimezone(IST).date() if loan.disbursed_at else _today()
    kfs, as_dict = loan_kfs(session, loan.id, on)
    digest = kfs_hash(as_dict)
    if format == "pdf":
        brand = session.get_one(Brand, loan.brand_id)
        config = BrandConfig.of(brand.config)
        context = {
            "kfs": as_dict,
            "kfs_hash": digest,
            "brand_name": brand.name,
            "lender_legal_name": config.lender_legal_name,
            "logo_url": config.logo_url,
        }
        session.rollback()  # the connection goes back to the pool while Chromium prints
        pdf = call_async(_renderer(request).pdf, render_html("kfs.html", context))
        headers = {**PDF_HEADERS, "X-Content-SHA256": hashlib.sha256(pdf).hexdigest(), "X-KFS-Hash": digest}
        return Response(pdf, media_type=PDF, headers=headers)
    accepted = latest_kfs_acceptance(session, loan.id)
    return {
        "loanId": loan.id,
        "kfs": as_dict,
        "kfsHash": digest,
        "issuedOn": on.isoformat(),
        "validUntil": as_dict["valid_until"],
        "accepted": _acceptance(accepted),
    }


def _acceptance(details: dict | None) -> dict | None:
    if not details:
        return None
    return {key: str(details.get(key) or "") for key in ("kfsHash", "issuedOn", "validUntil", "acceptedAt")}


@router.post("/loans/{loan_id}/kfs/accept", response_model=KfsAcceptResult)
def accept_kfs(loan_id: str, body: KfsAcceptIn, me: Me, session: Db, client: Engine, bound: UpdateBound) -> dict:
    """The borrower accepts the KFS they read: its hash must be today's (else 409, fetch it again)."""
    loan = _my_loan(session, loan_id, me)
    _sanctioned(session, loan)
    on = _today()
    kfs, as_dict = loan_kfs(session, loan.id, on)
    if kfs_hash(as_dict) != body.kfs_hash:
        raise Conflict("the KFS changed; fetch it again", field="kfsHash")
    assert kfs.valid_until is not None  # loan_kfs always sets it
    acceptance = KfsAcceptance(
        customer_id=me.id,
        kfs_hash=body.kfs_hash,
        issued_on=on,
        valid_until=kfs.valid_until,
        accepted_at=datetime.now(UTC),
    )
    workflow_id = loan.workflow_id
    session.rollback()
    return call_async(customer_update, client, workflow_id, LoanWorkflow.accept_kfs, acceptance, timeout=bound)


@router.get("/loans/{loan_id}/agreement", response_class=Response, responses=AGREEMENT_PDF)
def my_agreement(request: Request, loan_id: str, me: Me, session: Db) -> Response:
    """The loan's agreement PDF: the signed one once stored, else the one sent for signature."""
    return agreement_response(request, session, _my_loan(session, loan_id, me))


@router.post("/loans/{loan_id}/agreement/resend", response_model=AgreementResent)
def resend_agreement(loan_id: str, me: Me, session: Db, client: Engine, bound: UpdateBound) -> dict:
    """A fresh signing link: the open eSign docket is cancelled at its vendor and a new one sent."""
    loan = _my_loan(session, loan_id, me)
    workflow_id = loan.workflow_id
    session.rollback()
    request = AgreementResendRequest(customer_id=me.id)
    return call_async(customer_update, client, workflow_id, LoanWorkflow.resend_agreement, request, timeout=bound)
