"""Co-lending's loss cover, escrow and ops routes, under /api/v1/partner/brand/{brandId}/co-lending (on
``api.partner.colending.router``; docs/co-lending.md):

- ``GET dlg`` (``reports.view``): each agreement's default-loss guarantee: its terms, the partner's disbursed
  portfolio, the cap (cover bps of it), the cover in force, used and left; ``PUT dlg/{partnerCode}``
  (``settings.manage``, audited): set it (RBI Guidelines on Default Loss Guarantee in Digital Lending,
  DOR.CRE.REC.21/21.07.001/2023-24, 8 June 2023: cover at most 5 %, invoked within 120 days overdue, kept as cash,
  a fixed deposit or a bank guarantee); ``GET dlg/{partnerCode}/invocations``: one row per loan it paid for.
- ``GET escrow?asOf=`` (``reports.view``): what the escrow account owes each lender: apportioned from collections,
  remitted, awaiting approval, payable. ``POST escrow/remittances`` (``loan_ops.disburse``, the maker) records a
  remittance from the escrow to a lender, PENDING; ``POST escrow/remittances/{id}/approve`` or ``.../reject``
  (``settings.manage``, another person: 403 for the maker, 409 once decided); ``GET escrow/remittances``.
- ``POST loans/{loanId}/partner-steps/retry`` (``loan_ops.disburse``, audited): run the partner's lifecycle again
  from its first step not DONE, in the workflow ``colending-retry-<loanId>`` (``workflows.colending_retry``; the
  API runs no activity): a step DONE is never sent again, so a second call changes nothing; 409 while one runs.

Money is integer paise, dates IST; bad input answers 422 naming the field and writes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.access import Allow, audit
from api.deps import call_async, is_uuid
from api.partner.colending import BASE, IST, Manager, Reports, _co_lent, router
from api.partner.common import Db, Temporal
from api.responses import ApiModel
from api.security import Principal
from api.types import IsoDate
from db import colending as q
from db import colending_losses as lq
from db.models import CoLendingDlg, CoLendingRemittance, PartnerLender
from domain.access import Permission as P
from domain.colending.dlg import Dlg, Form
from domain.colending.escrow import Position, check_decision, check_remittance
from domain.errors import Conflict, NotFound, ServiceUnavailable, ValidationError
from workflows.colending_retry import STEPS, CoLendingRetryWorkflow, CoLendRetryInput, retry_workflow_id

Ops = Annotated[Principal, Allow(P.LOAN_OPS_DISBURSE, api_key=False)]
RETRY_WAIT_SECONDS = 20.0  # how long the retry route waits for its workflow before answering 202
Lender = Literal["ORIGINATOR", "PARTNER"]


class DlgIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    cover_bps: int = Field(ge=1, le=500, description="cover, bps of the partner's disbursed share (RBI: ≤ 5 %)")
    set_aside: int = Field(ge=0, le=10**15, description="paise kept as the cover")
    form: Form = Form.CASH
    invoke_dpd: int = Field(default=90, ge=1, le=120, description="the overdue day it is invoked on (RBI: ≤ 120)")


class DlgView(ApiModel):
    partner_code: str
    cover_bps: int
    set_aside: int
    form: str
    invoke_dpd: int
    disbursed: int = Field(description="the partner's share of the principal disbursed, paise")
    cap: int = Field(description="cover bps of disbursed, paise")
    cover: int = Field(description="the cover in force: set aside, no more than the cap")
    used: int
    left: int
    invocations: int


class InvocationView(ApiModel):
    loan_id: str
    reason: str
    dpd: int
    loss: int
    amount: int
    invoked_on: date


class EscrowRow(ApiModel):
    partner_code: str
    lender: str
    apportioned: int
    remitted: int
    pending: int
    payable: int
    as_of: date


class RemittanceIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    partner_code: str = Field(min_length=1, max_length=40)
    lender: Lender = "PARTNER"
    amount: int = Field(description="paise")
    remitted_on: date = Field(description="IST date the transfer was sent")
    reference: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9/_-]+$", description="bank reference")


class DecisionIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    reason: str | None = Field(default=None, max_length=500)


class RemittanceView(ApiModel):
    id: str
    partner_code: str
    lender: str
    amount: int
    remitted_on: date
    reference: str
    status: str
    recorded_by: str
    decided_by: str | None
    reason: str | None


class StepView(ApiModel):
    step: str
    status: str
    reference: str | None
    reason: str | None


class RetryView(ApiModel):
    loan_id: str
    workflow_id: str = Field(description="the retry's workflow, colending-retry-<loanId>")
    steps: list[StepView] = Field(description="per step run, in order; empty while the retry still runs (202)")
    complete: bool = Field(description="every step of the partner's lifecycle is DONE")


def _today() -> date:
    return datetime.now(UTC).astimezone(IST).date()


def _partner(session: Db, brand_id: str, code: str, field: str = "partnerCode") -> PartnerLender:
    partner = session.scalars(
        select(PartnerLender).where(PartnerLender.brand_id == brand_id, PartnerLender.code == code)
    ).first()
    if partner is None:
        raise NotFound("partner lender not found", field=field)
    return partner


def _dlg_view(session: Db, row: CoLendingDlg, code: str) -> dict[str, Any]:
    dlg = lq.as_dlg(row)
    disbursed, used, count = lq.dlg_usage(session, row.brand_id, row.partner_id)
    return {"partnerCode": code, "coverBps": row.cover_bps, "setAside": row.set_aside, "form": row.form,
            "invokeDpd": row.invoke_dpd, "disbursed": disbursed, "cap": dlg.cap(disbursed),
            "cover": dlg.cover(disbursed), "used": used, "left": dlg.left(disbursed, used),
            "invocations": count}  # fmt: skip


@router.get(BASE + "/dlg", response_model=list[DlgView])
def co_lending_dlg(brand_id: str, staff: Reports, session: Db) -> list[dict]:
    """Each agreement's default-loss guarantee: cover used and left (paise)."""
    rows = session.execute(
        select(CoLendingDlg, PartnerLender.code).join(PartnerLender, PartnerLender.id == CoLendingDlg.partner_id)
        .where(CoLendingDlg.brand_id == brand_id).order_by(PartnerLender.code)
    ).all()  # fmt: skip
    return [_dlg_view(session, row, code) for row, code in rows]


@router.put(BASE + "/dlg/{code}", response_model=DlgView)
def put_co_lending_dlg(request: Request, brand_id: str, code: str, body: DlgIn, staff: Manager, session: Db) -> dict:
    """Set the default-loss guarantee of the brand's agreement with partner ``code`` (409 without an agreement)."""
    partner = _partner(session, brand_id, code)
    if q.agreement_row(session, brand_id, partner.id) is None:
        raise Conflict("set the co-lending agreement with this partner first", field="partnerCode")
    Dlg(body.cover_bps, body.set_aside, body.form, body.invoke_dpd).check()
    row = lq.dlg_row(session, brand_id, partner.id)
    before = _dlg_view(session, row, code) if row is not None else None
    if row is None:
        row = CoLendingDlg(brand_id=brand_id, partner_id=partner.id)
        session.add(row)
    row.cover_bps, row.set_aside, row.form, row.invoke_dpd = body.cover_bps, body.set_aside, body.form.value, \
        body.invoke_dpd  # fmt: skip
    session.flush()
    after = _dlg_view(session, row, code)
    audit(session, request, staff, "co_lending.dlg", "colending_dlg", partner.id, before=before, after=after)
    session.commit()
    return after


@router.get(BASE + "/dlg/{code}/invocations", response_model=list[InvocationView])
def co_lending_dlg_invocations(brand_id: str, code: str, staff: Reports, session: Db) -> list[dict]:
    """The guarantee's invocations, oldest first (one per loan; an amount invoked is never reinstated)."""
    partner = _partner(session, brand_id, code)
    return [{"loanId": i.loan_id, "reason": i.reason, "dpd": i.dpd, "loss": i.loss, "amount": i.amount,
             "invokedOn": i.invoked_on} for i in lq.invocations(session, brand_id, partner.id)]  # fmt: skip


def _positions(session: Db, brand_id: str, as_of: date) -> list[dict]:
    codes = {p.id: p.code for p in session.scalars(select(PartnerLender).where(PartnerLender.brand_id == brand_id))}
    rows = []
    for (pid, lender), (apportioned, remitted, pending) in sorted(lq.escrow_totals(session, brand_id, None, as_of)
                                                                  .items()):  # fmt: skip
        pos = Position(apportioned, remitted)
        rows.append({"partnerCode": codes.get(pid, pid), "lender": lender, "apportioned": apportioned,
                     "remitted": remitted, "pending": pending, "payable": pos.payable, "asOf": as_of})  # fmt: skip
    return sorted(rows, key=lambda r: (r["partnerCode"], r["lender"]))


@router.get(BASE + "/escrow", response_model=list[EscrowRow])
def co_lending_escrow(
    brand_id: str, staff: Reports, session: Db,
    as_of: Annotated[IsoDate | None, Query(alias="asOf", description="IST date; today by default")] = None,
) -> list[dict]:  # fmt: skip
    """What the escrow account owes each lender on ``asOf``: apportioned from collections, remitted (approved
    remittances and the partner's confirmed wallet orders), awaiting approval, payable (paise)."""
    return _positions(session, brand_id, as_of or _today())


def _remittance_view(row: CoLendingRemittance, code: str) -> dict[str, Any]:
    return {"id": row.id, "partnerCode": code, "lender": row.lender, "amount": row.amount,
            "remittedOn": row.remitted_on, "reference": row.reference, "status": row.status,
            "recordedBy": row.recorded_by, "decidedBy": row.decided_by, "reason": row.reason}  # fmt: skip


@router.post(BASE + "/escrow/remittances", status_code=201, response_model=RemittanceView)
def record_escrow_remittance(request: Request, brand_id: str, body: RemittanceIn, staff: Ops, session: Db) -> dict:
    """Record a remittance from the escrow to a lender (the maker): PENDING until another person approves it. 422
    naming ``amount`` when it is more than the escrow owes the lender less remittances awaiting approval."""
    partner = _partner(session, brand_id, body.partner_code)
    if body.remitted_on > _today():
        raise ValidationError("must not be in the future", field="remittedOn")
    session.scalars(select(PartnerLender.id).where(PartnerLender.id == partner.id).with_for_update()).all()  # makers
    apportioned, remitted, pending = lq.escrow_totals(session, brand_id, None, _today()).get(
        (partner.id, body.lender), (0, 0, 0)
    )
    check_remittance(body.amount, Position(apportioned, remitted).payable, pending)
    row = CoLendingRemittance(brand_id=brand_id, partner_id=partner.id, lender=body.lender, amount=body.amount,
                              remitted_on=body.remitted_on, reference=body.reference, status="PENDING",
                              recorded_by=staff.id)  # fmt: skip
    session.add(row)
    session.flush()
    view = _remittance_view(row, partner.code)
    audit(session, request, staff, "co_lending.remittance.record", "colending_remittances", row.id, after=view)
    session.commit()
    return view


@router.get(BASE + "/escrow/remittances", response_model=list[RemittanceView])
def list_escrow_remittances(
    brand_id: str, staff: Reports, session: Db,
    status: Annotated[Literal["PENDING", "APPROVED", "REJECTED"] | None, Query()] = None,
) -> list[dict]:  # fmt: skip
    """The brand's remittances from escrow, newest first (by ``status`` when given)."""
    codes = {p.id: p.code for p in session.scalars(select(PartnerLender).where(PartnerLender.brand_id == brand_id))}
    return [_remittance_view(r, codes.get(r.partner_id, "")) for r in lq.remittances(session, brand_id, status)]


def _decide(request: Request, session: Db, brand_id: str, rid: str, staff: Principal, status: str,
            reason: str | None) -> dict:  # fmt: skip
    row = lq.remittance(session, brand_id, rid, lock=True) if is_uuid(rid) else None
    if row is None:
        raise NotFound("remittance not found")
    check_decision(row.status, row.recorded_by, staff.id)
    before = _remittance_view(row, "")
    row.status, row.decided_by, row.reason, row.decided_at = status, staff.id, reason, datetime.now(UTC)
    code = session.get_one(PartnerLender, row.partner_id).code
    view = _remittance_view(row, code)
    audit(session, request, staff, f"co_lending.remittance.{status.lower()}", "colending_remittances", row.id,
          before=before, after=view)  # fmt: skip
    session.commit()
    return view


@router.post(BASE + "/escrow/remittances/{remittance_id}/approve", response_model=RemittanceView)
def approve_escrow_remittance(
    request: Request, brand_id: str, remittance_id: str, staff: Manager, session: Db, body: DecisionIn | None = None
) -> dict:
    """Approve a PENDING remittance, as a staff member other than its maker (403 otherwise; 409 once decided)."""
    return _decide(request, session, brand_id, remittance_id, staff, "APPROVED", body.reason if body else None)


@router.post(BASE + "/escrow/remittances/{remittance_id}/reject", response_model=RemittanceView)
def reject_escrow_remittance(
    request: Request, brand_id: str, remittance_id: str, body: DecisionIn, staff: Manager, session: Db
) -> dict:
    """Reject a PENDING remittance with a reason (422 naming ``reason`` without one), as another staff member."""
    reason = (body.reason or "").strip()
    if not reason:
        raise ValidationError("a rejection needs a reason", field="reason")
    return _decide(request, session, brand_id, remittance_id, staff, "REJECTED", reason)


@router.post(
    BASE + "/loans/{loan_id}/partner-steps/retry",
    response_model=RetryView,
    responses={202: {"model": RetryView, "description": "still running after the wait: ask again later"}},
)
def retry_partner_steps(
    request: Request, response: Response, brand_id: str, loan_id: str, staff: Ops, session: Db, client: Temporal
) -> dict:
    """Run the partner's lifecycle again from its first step not DONE (a refused or failed loan creation, document
    upload, ...), each step as the loan's workflow runs it, in the workflow ``colending-retry-<loanId>``
    (``workflows.colending_retry``); stops at the first that is not DONE again (FAILED with the partner's reason,
    or UNAVAILABLE when it did not answer). A step DONE is never sent again, so a repeated call changes nothing.

    200 with the per-step results once the workflow ends within :data:`RETRY_WAIT_SECONDS`; 202 with its
    ``workflowId`` and no step results when it is still running then (its outcome is on the loan's co-lending
    view). 409 naming ``loanId`` while a retry of the loan runs; 503 when the workflow engine is unavailable.
    Audited with the steps before and after (as they stand when the call answers)."""
    row = _co_lent(session, brand_id, loan_id)
    loan_id, co_id = row.loan_id, row.id
    before = {s: dict((row.steps or {}).get(s) or {}) for s in STEPS}
    workflow_id = retry_workflow_id(loan_id)
    session.rollback()  # no transaction (nor pooled connection) held while the workflow runs
    try:
        handle = call_async(
            client.start_workflow,
            CoLendingRetryWorkflow.run,
            CoLendRetryInput(loan_id, brand_id),
            id=workflow_id,
            task_queue=request.app.state.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"Partner steps of loan {loan_id} run again",
        )
    except WorkflowAlreadyStartedError as running:
        raise Conflict("a retry of this loan's partner steps is already running", field="loanId") from running
    except RPCError as exc:
        raise ServiceUnavailable(f"workflow engine unavailable: {exc}") from exc
    results: list[dict[str, Any]] = []
    try:
        state = call_async(asyncio.wait_for, handle.result(), timeout=RETRY_WAIT_SECONDS)
        results = [{"step": s.step, "status": s.status, "reference": s.reference, "reason": s.reason}
                   for s in state.steps]  # fmt: skip
    except TimeoutError:
        response.status_code = 202
    except WorkflowFailureError as exc:  # the activity itself never fails the run; this is the engine's doing
        raise ServiceUnavailable(f"the retry did not finish: {exc.cause or exc}") from exc
    session.expire_all()  # the activity wrote the steps in its own transactions: read them afresh
    row = q.co_lent(session, loan_id)
    after = {s: dict(((row.steps if row is not None else None) or {}).get(s) or {}) for s in STEPS}
    audit(session, request, staff, "co_lending.partner_steps.retry", "colending_loans", co_id, before=before,
          after={**after, "workflowId": workflow_id})  # fmt: skip
    session.commit()
    return {"loanId": loan_id, "workflowId": workflow_id, "steps": results,
            "complete": all(after[s].get("status") == "DONE" for s in STEPS)}  # fmt: skip
