"""Read models shared by the customer and staff APIs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import receipts
from db.models import (
    BureauReport,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    LoanAgreement,
    LoanStatusHistory,
    ParkedPayment,
    PaymentLink,
    PaymentTransaction,
    RepaymentInstallment,
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
    out = loan_summary(loan)
    history = session.scalars(
        select(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan.id).order_by(LoanStatusHistory.seq)
    ).all()
    out["statusHistory"] = [
        {
            "seq": h.seq,
            "from": h.from_status,
            "to": h.to_status,
            "reason": h.reason,
            "actor": h.actor,
            "at": _iso(h.created_at),
            **({"action": h.action, "actorId": h.actor_id, "details": h.details} if staff else {}),
        }
        for h in history
    ]
    rows = session.scalars(
        select(RepaymentInstallment)
        .where(RepaymentInstallment.loan_id == loan.id)
        .order_by(RepaymentInstallment.installment_no)
    ).all()
    out["schedule"] = [
        {
            "installmentNo": r.installment_no,
            "dueAt": _iso(r.due_at),
            "principalPaise": r.principal,
            "interestPaise": r.interest,
            "totalPaise": r.total,
            "balanceAfterPaise": r.balance_after,
            "penalPaise": r.penal,
            "paidPaise": r.principal_paid + r.interest_paid + r.fees_paid + r.penal_paid,
            "duePaise": r.total + r.penal - (r.principal_paid + r.interest_paid + r.fees_paid + r.penal_paid),
            "status": r.status,
            "paidAt": _iso(r.paid_at),
        }
        for r in rows
    ]
    agreement = session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).first()
    out["agreement"] = (
        None
        if agreement is None
        else {
            "status": agreement.status,
            "docketId": agreement.docket_id,
            "signingUrl": agreement.signing_url,
            "provider": agreement.esign_provider,
            "expiresAt": _iso(agreement.expires_at),
            "signedAt": _iso(agreement.signed_at),
            "sha256": agreement.sha256,
        }
    )
    link = session.scalars(
        select(PaymentLink)
        # the installment's own link (a one-off link the borrower asked for, installment 0, is not the loan's)
        .where(PaymentLink.loan_id == loan.id, PaymentLink.status == "ACTIVE", PaymentLink.installment_no > 0)
        .order_by(PaymentLink.installment_no, PaymentLink.created_at.desc())
    ).first()
    out["paymentLink"] = (
        None
        if link is None
        else {
            "installmentNo": link.installment_no,
            "url": link.url,
            "linkId": link.link_id,
            "amountPaise": link.amount,
        }
    )
    payments = session.scalars(
        select(PaymentTransaction)
        .where(PaymentTransaction.loan_id == loan.id)
        .order_by(PaymentTransaction.collected_at)
    ).all()
    out["payments"] = [
        {
            "gateway": p.gateway,
            "paymentId": p.gateway_payment_id,
            "amountPaise": p.amount,
            "principalPaise": p.principal_part,
            "interestPaise": p.interest_part,
            "excessPaise": p.excess_part,
            "collectedAt": _iso(p.collected_at),
        }
        for p in payments
    ]
    # Money received beyond what was due (or after the loan ended): owed to the borrower (docs/servicing.md).
    out["creditBalancePaise"] = receipts.credit_balance(session, loan.id)  # less the refunds paid
    if staff:
        out.update(staff_loan_summary(loan))
        parked = session.scalars(
            select(ParkedPayment).where(ParkedPayment.loan_id == loan.id).order_by(ParkedPayment.created_at)
        ).all()
        out["parkedPayments"] = [  # received but not applicable: for ops to resolve
            {
                "gateway": p.gateway,
                "paymentId": p.gateway_payment_id,
                "amountPaise": str(p.amount),  # as received, possibly beyond any integer type
                "reason": p.reason,
                "status": p.status,
                "parkedAt": _iso(p.created_at),
            }
            for p in parked
        ]
        out["review"] = {
            "stage": loan.review_stage,
            "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
            "scoreOverrideReason": loan.score_override_reason,
            "sanctionConditions": loan.sanction_conditions,
        }
        bureau = session.scalars(select(BureauReport).where(BureauReport.loan_id == loan.id)).first()
        out["bureau"] = (
            None
            if bureau is None
            else {"provider": bureau.provider, "score": bureau.score, "pulledAt": _iso(bureau.created_at)}
        )
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
