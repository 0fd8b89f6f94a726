"""Loan comments of the staff workbench, under /api/v1/partner/brand/{brandId}/loans/{loanId}/comments (see
docs/workbench.md): notes staff leave on a loan, never edited, each written to the audit log. A loan of another
brand is 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from api.access import Allow, audit
from api.loan_views import INSTANT
from api.partner.common import Db, find_loan, iso, workbench_router
from api.responses import ApiModel
from api.security import Principal
from db.models import LoanComment, StaffUser
from domain.access import Permission as P

router = workbench_router()


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CommentAuthor(ApiModel):
    """The staff member who wrote the comment."""

    id: str
    name: str
    email: str


class CommentView(ApiModel):
    """A comment on a loan."""

    id: str
    loan_id: str
    comment: str
    author: CommentAuthor
    created_at: str = Field(description=INSTANT)


def _comment_view(comment: LoanComment, author: StaffUser) -> dict[str, Any]:
    return {
        "id": comment.id,
        "loanId": comment.loan_id,
        "comment": comment.comment,
        "author": {"id": author.id, "name": author.name, "email": author.email},
        "createdAt": iso(comment.created_at),
    }


@router.get("/loans/{loan_id}/comments", response_model=list[CommentView])
def list_comments(
    brand_id: str, loan_id: str, staff: Annotated[Principal, Allow(P.LOANS_VIEW)], session: Db
) -> list[dict]:
    """The loan's comments, newest first, with their authors."""
    loan = find_loan(session, brand_id, loan_id)
    rows = session.execute(
        select(LoanComment, StaffUser)
        .join(StaffUser, StaffUser.id == LoanComment.staff_id)
        .where(LoanComment.loan_id == loan.id)
        .order_by(LoanComment.created_at.desc(), LoanComment.id)
    ).all()
    return [_comment_view(c, a) for c, a in rows]


@router.post("/loans/{loan_id}/comments", status_code=201, response_model=CommentView)
def add_comment(
    request: Request,
    brand_id: str,
    loan_id: str,
    body: CommentIn,
    staff: Annotated[Principal, Allow(P.LOANS_COMMENT, api_key=False)],
    session: Db,
) -> dict:
    """Add a comment (comments are never edited)."""
    loan = find_loan(session, brand_id, loan_id)
    comment = LoanComment(brand_id=brand_id, loan_id=loan.id, staff_id=staff.id, comment=body.comment)
    session.add(comment)
    session.flush()
    session.refresh(comment)
    audit(
        session,
        request,
        staff,
        "loan.comment.add",
        "loan",
        loan.id,
        after={"commentId": comment.id, "comment": comment.comment},
    )
    view = _comment_view(comment, session.get_one(StaffUser, staff.id))
    session.commit()
    return view
