"""A loan's autopay mandate for staff: /api/v1/partner/brand/{brandId}/loans/{loanId}/mandate — its state at the
gateway and every debit attempt with its status and reason (docs/money-in.md, "Autopay mandates"). Brand-scoped: a
loan of another brand is 404."""

from __future__ import annotations

from api.partner.common import Db, Viewer, find_loan, staff_router
from api.web.mandates import MandateView, latest_mandate, mandate_view
from domain.errors import NotFound

router = staff_router()


@router.get("/brand/{brand_id}/loans/{loan_id}/mandate", response_model=MandateView)
def loan_mandate(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> dict:
    """The loan's latest mandate (status, method, max amount, token, failure reason) and its debits, newest first;
    404 when the loan has none."""
    loan = find_loan(session, brand_id, loan_id)
    mandate = latest_mandate(session, loan.id)
    if mandate is None:
        raise NotFound("the loan has no mandate")
    return mandate_view(session, mandate)
