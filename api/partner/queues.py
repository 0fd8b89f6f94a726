"""The role queues: /api/v1/partner/brand/{brandId}/queues/... — the three review stages and the unallocated
pool. Each is the loan list (``api/partner/loans.py``) over a fixed selection, with the same filters, answered
through orjson like it. Loan ops' queues (loans-ops, needs-attention), whose rows carry more, are in
``api/partner/money_out.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi.responses import Response
from sqlalchemy import select

from api.access import Allow
from api.loan_views import LoanPage
from api.partner.common import Db, staff_router
from api.partner.loans import Filters, filtered
from api.security import Principal
from db.models import Loan
from domain.access import Permission as P
from domain.access import ReviewStage
from domain.status import LoanStatus

router = staff_router()

# The three review-stage queues: (stage, the permission that opens it, what it holds).
QUEUE_STAGES = {
    "credit-executive": (
        ReviewStage.CREDIT_EXECUTIVE,
        P.QUEUE_CREDIT_EXECUTIVE,
        "Loans under review waiting for a credit executive (new, or sent back).",
    ),
    "sanction-manager": (
        ReviewStage.SANCTION_MANAGER,
        P.QUEUE_SANCTION_MANAGER,
        "Loans a credit executive forwarded, waiting for a sanction manager.",
    ),
    "sanction-head": (
        ReviewStage.SANCTION_HEAD,
        P.QUEUE_SANCTION_HEAD,
        "Loans a sanction manager approved, waiting for the sanction head's final approval.",
    ),
}


def _stage_queue_route(name: str, stage: ReviewStage, permission: P, doc: str) -> None:
    def queue(brand_id: str, session: Db, filters: Filters, staff: Principal = Allow(permission)) -> Response:
        query = select(Loan).where(
            Loan.brand_id == brand_id, Loan.status == LoanStatus.UNDER_REVIEW.value, Loan.review_stage == stage.value
        )
        return filtered(session, query, staff, filters)

    queue.__doc__ = doc
    queue.__name__ = f"{name.replace('-', '_')}_queue"
    router.add_api_route(
        f"/brand/{{brand_id}}/queues/{name}", queue, methods=["GET"], name=queue.__name__, response_model=LoanPage
    )


for _name, (_stage, _permission, _doc) in QUEUE_STAGES.items():
    _stage_queue_route(_name, _stage, _permission, _doc)


@router.get("/brand/{brand_id}/queues/unallocated", response_model=LoanPage)
def unallocated_queue(
    brand_id: str, staff: Annotated[Principal, Allow(P.QUEUE_UNALLOCATED)], session: Db, filters: Filters
) -> Response:
    """Loans under review that nobody holds (auto-allocation found no one, or a stage's pool)."""
    query = select(Loan).where(
        Loan.brand_id == brand_id, Loan.status == LoanStatus.UNDER_REVIEW.value, Loan.assigned_to.is_(None)
    )
    return filtered(session, query, staff, filters.model_copy(update={"assigned_to": None}))
