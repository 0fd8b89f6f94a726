"""The penal waiver of a servicing loan, on the servicing decisions' router (``api.partner.servicing_actions``):
``POST collection/{loanId}/waiver`` waives unpaid penal charges and answers the waiver's id; ``GET
collection/{loanId}/waivers`` lists the loan's waivers (RBI, *Penal Charges in Loan Accounts*, 18 August 2023:
penal charges may be waived, never capitalised)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.deps import UpdateBound
from api.loan_views import INSTANT
from api.partner.common import Db, Temporal, Viewer, find_loan, iso
from api.partner.servicing_actions import (
    PREFIX,
    DecisionResult,
    Manager,
    Reason,
    _policy,
    _result,
    _send,
    router,
)
from api.responses import ApiModel
from api.types import PositivePaise
from db.models import Waiver
from domain.status import LoanStatus
from workflows.contracts import WaiverRequest
from workflows.loan import LoanWorkflow


class WaiverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositivePaise = Field(description="penal charges to waive, paise (at most those unpaid)")
    reason: Reason


class WaiverView(ApiModel):
    """A penal waiver: how much, from which installments, by whom and why."""

    id: str
    amount_paise: int = Field(description="penal charges waived, paise")
    installments: dict[str, int] = Field(description="installment number → penal waived on it, paise")
    reason: str
    staff_id: str = Field(description="who waived them")
    created_at: str = Field(description=INSTANT)


@router.post(f"{PREFIX}/waiver", response_model=DecisionResult)
def waive_penal(
    brand_id: str, loan_id: str, body: WaiverIn, staff: Manager, session: Db, client: Temporal, bound: UpdateBound
) -> dict:
    """Waive unpaid penal charges (oldest first) within the role's limit (the brand's ``waiverLimits``; RBI: penal
    charges may be waived, never capitalised). The payment link follows the new amount due. Answers ``result``
    WAIVED and the waiver's ``id`` (``GET waivers``)."""
    loan = find_loan(session, brand_id, loan_id)
    policy = _policy(session, brand_id)
    request = WaiverRequest(
        staff.id, staff.email or "", staff.role or "", brand_id, body.amount, body.reason,
        limit=policy.waiver_limit(staff.role or ""),
    )  # fmt: skip
    answer, status = _send(session, client, bound, loan, LoanWorkflow.waive_penal, request)
    # a worker from before the waiver answered its id answers the loan's status
    waiver_id = None if answer in LoanStatus.__members__ else answer
    return _result(loan_id, status, "WAIVED", waiver_id)


@router.get(f"{PREFIX}/waivers", response_model=list[WaiverView])
def waivers(brand_id: str, loan_id: str, staff: Viewer, session: Db) -> list[dict[str, Any]]:
    """The loan's penal waivers, newest first."""
    loan = find_loan(session, brand_id, loan_id)
    rows = session.scalars(
        select(Waiver).where(Waiver.loan_id == loan.id).order_by(Waiver.created_at.desc(), Waiver.id)
    ).all()
    return [
        {
            "id": r.id,
            "amountPaise": r.amount,
            "installments": {str(k): int(v) for k, v in (r.components or {}).items()},
            "reason": r.reason,
            "staffId": r.staff_id,
            "createdAt": iso(r.created_at),
        }
        for r in rows
    ]
