"""Prepayment and closure for staff: /api/v1/partner/brand/{brandId}/loans/{loanId}/foreclosure-quote — the same quote
the borrower sees (``api.web.repayment``), from the loan's own workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.partner.common import Db, Temporal, Viewer, find_loan, staff_router
from api.types import IsoDate
from api.web.repayment import ForeclosureQuoteView, _quote_date, foreclosure_quote

router = staff_router()


@router.get("/brand/{brand_id}/loans/{loan_id}/foreclosure-quote", response_model=ForeclosureQuoteView)
def staff_foreclosure_quote(
    brand_id: str,
    loan_id: str,
    staff: Viewer,
    session: Db,
    client: Temporal,
    on: Annotated[IsoDate | None, Query(description="IST date, YYYY-MM-DD (default today)")] = None,
) -> dict:
    """What closes the loan on ``on``: principal, interest to that date, charges due, the foreclosure charge."""
    loan = find_loan(session, brand_id, loan_id)
    session.rollback()
    return foreclosure_quote(client, loan, _quote_date(on))
