"""What the borrower's app reads of a loan's KYC phase (``GET /api/v1/web/loans/{id}?include=kyc``): the workflow's
``kyc_status`` answer, with the Account Aggregator's consent page as a URL and ``acceptsAhead``, the inputs the app may
collect before their step waits for them (docs/app.md, "KYC while APPLIED")."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import AaConsent, Brand, CustomerDocument, Loan
from domain.brand_config import BrandConfig
from domain.documents import DocumentType
from workflows.loan import LoanWorkflow


def kyc_view(session: Session, loan: Loan, progress: dict) -> dict:
    """``progress`` (the workflow's ``kyc_status`` answer) as the app reads it: ``with_consent_link``, plus
    ``acceptsAhead`` (``accepts_ahead``). Reads only; ``progress`` itself is left unchanged."""
    view = with_consent_link(session, loan, progress)
    return {**view, "acceptsAhead": accepts_ahead(session, loan, progress)}


def accepts_ahead(session: Session, loan: Loan, progress: dict) -> list[str]:
    """The KYC steps whose input the borrower may give now, before the step comes to wait for it: ``["BANK_STATEMENT"]``
    while the brand takes statements by upload (not through an Account Aggregator, whose consent the step itself asks
    for), the step has no result, does not wait for the customer yet (then it is ``waitingFor``) and no statement the
    step would read was uploaded: none within the brand's ``statementMaxAgeDays`` (30; an older one is not read,
    ``activities.kyc.queries.bank_statement_for``). The upload goes to the loan's workflow as the step's input
    (``kyc_input``), and the step reads it when it runs, while the checks before it (PAN, Aadhaar, the lookups) are
    still under way: the borrower does not wait for them. Reads only."""
    steps = progress.get("steps") or []
    if "BANK_STATEMENT" not in steps or "BANK_STATEMENT" in (progress.get("results") or {}):
        return []
    if progress.get("waitingFor") == "BANK_STATEMENT":
        return []
    brand = session.get(Brand, loan.brand_id)
    if brand is None or BrandConfig.of(brand.config).aa_enabled:
        return []
    max_age = timedelta(days=BrandConfig.of(brand.config).statement_max_age_days)
    uploaded = session.scalars(
        select(CustomerDocument.id).where(
            CustomerDocument.customer_id == loan.customer_id,
            CustomerDocument.doc_type == DocumentType.BANK_STATEMENT.value,
            CustomerDocument.created_at >= func.now() - max_age,
        )
    ).first()
    return [] if uploaded is not None else ["BANK_STATEMENT"]


async def kyc_status(request: Request, loan: Loan) -> dict | None:
    """Where the loan's KYC phase is (what it waits for from the customer), from its workflow."""
    try:
        client = await request.app.state.temporal.get()
        handle = client.get_workflow_handle(loan.workflow_id)
        return await asyncio.wait_for(handle.query(LoanWorkflow.kyc_status), timeout=3)
    except Exception:  # noqa: BLE001 - the detail is still useful without it
        return None


def with_consent_link(session: Session, loan: Loan, progress: dict) -> dict:
    """The KYC progress with ``links.BANK_STATEMENT`` as the Account Aggregator's consent page (an http(s) URL).

    Loans whose statement step first ran before the activity returned the consent page carry the consent
    *handle* there (recorded in their history, so every replay gives it back). The borrower's app can only open
    a URL, so while the step waits the handle is replaced by the page of that consent of the loan
    (``aa_consents``, found by its unique handle). A link the workflow already gives as a URL (the AA one since
    the fix, DigiLocker's), no link at all (the upload path), or a handle no consent of this loan has, is left as
    it is. Reads only; ``progress`` is the workflow's ``kyc_status`` answer, returned as it is or as a copy."""
    links = dict(progress.get("links") or {})
    current = links.get("BANK_STATEMENT")
    if progress.get("waitingFor") != "BANK_STATEMENT" or not current or current.startswith(("https://", "http://")):
        return progress
    url = session.scalars(
        select(AaConsent.consent_url).where(AaConsent.consent_handle == current, AaConsent.loan_id == loan.id)
    ).first()
    if not url:
        return progress
    links["BANK_STATEMENT"] = url
    return {**progress, "links": links}
