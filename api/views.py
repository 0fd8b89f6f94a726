"""Read models shared by the customer and staff APIs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.loan_detail_query import detail_parts
from db.models import (
    LedgerEntry,
    LedgerTransaction,
    Loan,
)


def json_response(payload: Any) -> Response:
    """A JSON answer serialised straight by orjson: the hot read routes (loan lists, queues, the loan detail)
    skip FastAPI's generic encoder, which costs more than the queries behind them. The payload must already be
    plain JSON types (ids, ISO dates and decimal strings are built by the views)."""
    return Response(orjson.dumps(payload), media_type="application/json")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def loan_summary(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id,
        "workflowId": loan.workflow_id,
        "brandId": loan.brand_id,
        "customerId": loan.customer_id,
        "status": loan.status,
        "statusReason": loan.status_reason,
        "amountPaise": loan.amount,
        "tenure": loan.tenure,
        "annualRateBps": loan.annual_rate_bps,
        "creditScore": loan.credit_score,
        "outstandingPrincipalPaise": loan.outstanding_principal,
        "totalCollectedPaise": loan.total_collected,
        "disbursedAt": _iso(loan.disbursed_at),
        "disbursalUtr": loan.disbursal_utr,
        "nextDueAt": _iso(loan.next_due_at),
        "closedAs": loan.closed_as,
        "createdAt": _iso(loan.created_at),
    }


def staff_loan_summary(loan: Loan) -> dict[str, Any]:
    """What staff see in lists and queues: the customer view plus review stage, scores and assignment."""
    return {
        **loan_summary(loan),
        "reviewStage": loan.review_stage,
        "evaluationScore": str(loan.evaluation_score) if loan.evaluation_score is not None else None,
        "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
        "assignedTo": loan.assigned_to,
        "assignedAt": _iso(loan.assigned_at),
        "dpd": loan.dpd,
        "assetClass": loan.asset_class,
        "assetClassSince": _iso(loan.asset_class_since),  # the date whose day-end produced the class
    }


def loan_detail(session: Session, loan: Loan, staff: bool = False) -> dict[str, Any]:
    """The loan's detail: its summary (staff: the staff summary and the review state) and its parts, read in one
    statement (``api.loan_detail_query``): status history, schedule, agreement, the installment's active payment
    link, payments, credit balance and, for staff, parked payments and the bureau pull."""
    out = loan_summary(loan)
    parts = detail_parts(session, loan.id, staff=staff)
    staff_parts = {key: parts.pop(key) for key in ("parkedPayments", "bureau") if key in parts}
    out.update(parts)
    if staff:
        out.update(staff_loan_summary(loan))
        out["parkedPayments"] = staff_parts["parkedPayments"]  # received but not applicable: for ops to resolve
        out["review"] = {
            "stage": loan.review_stage,
            "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
            "scoreOverrideReason": loan.score_override_reason,
            "sanctionConditions": loan.sanction_conditions,
        }
        out["bureau"] = staff_parts["bureau"]
    return out


def loan_ledger(session: Session, loan_id: str, as_of: date | None = None) -> list[dict[str, Any]]:
    """The loan's double-entry postings in order (staff: ``GET .../loans/{id}/ledger``); with ``as_of`` only the
    transactions whose value date (IST) is on or before it."""
    query = (
        select(
            LedgerTransaction.kind,
            LedgerTransaction.idempotency_key,
            LedgerTransaction.created_at,
            LedgerTransaction.value_date,
            LedgerEntry.account,
            LedgerEntry.amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.loan_id == loan_id)
        .order_by(LedgerTransaction.created_at, LedgerEntry.id)
    )
    if as_of is not None:
        query = query.where(LedgerTransaction.value_date <= as_of)
    return [
        {
            "kind": k,
            "key": key,
            "at": _iso(at),
            "valueDate": vd.isoformat() if vd else None,
            "account": a,
            "amountPaise": amt,
        }
        for k, key, at, vd, a, amt in session.execute(query).all()
    ]


def trial_balance(rows: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
    """(account, amount) postings → one line per account: debits, credits and balance (paise), by account name."""
    lines: dict[str, list[int]] = {}
    for account, amount in rows:
        line = lines.setdefault(account, [0, 0])
        line[0 if amount > 0 else 1] += amount
    return [
        {"account": a, "debitPaise": d, "creditPaise": -c, "balancePaise": d + c} for a, (d, c) in sorted(lines.items())
    ]
