"""The loan detail's parts in one statement: status history, schedule, agreement, payment link, payments and credit
balance (and, for staff, parked payments and the bureau pull) as JSON arrays built by PostgreSQL, one round trip
instead of nine. The loan detail is the API's most read answer (the borrower's app waits on it; docs/api.md), and
its nine small queries cost more in the API's process than the rows they fetched.

Each part is a scalar subquery of ``json_agg(json_build_array(...))`` over one table, in the order the views list
it, rows that tie on it (written in one transaction: one ``now()``) in id order, so an unchanged loan always reads
the same bytes (its ETag does not flip, api/loan_changes.py); ``api.views.loan_detail`` turns the arrays into the
answer's objects. Instants come back as PostgreSQL's JSON
text of ``timestamptz`` (ISO 8601 in the session's time zone) and are written again by Python, so an answer is
the same to the byte as one built from ORM rows (``tests/integration/test_loan_detail_query.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Select, String, bindparam, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from db.models import (
    BureauReport,
    LoanAgreement,
    LoanStatusHistory,
    ParkedPayment,
    PaymentLink,
    PaymentTransaction,
    RepaymentInstallment,
)
from db.receipts import credit_balance_of

EMPTY = literal_column("'[]'::json", JSON)


def _rows(*columns: Any, order_by: Any, where: Any) -> Any:
    """``[[col, ...], ...]`` of the rows matching ``where`` in ``order_by``'s order (``[]`` for none)."""
    table = columns[0].class_
    row = func.json_build_array(*columns)
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(row, *order_by)), EMPTY, type_=JSON))
        .select_from(table)
        .where(where)
        .scalar_subquery()
    )


def _first(*columns: Any, order_by: tuple[Any, ...] = (), where: Any) -> Any:
    """``[col, ...]`` of the first row matching ``where`` (in ``order_by``'s order), or null."""
    return (
        select(func.json_build_array(*columns, type_=JSON))
        .select_from(columns[0].class_)
        .where(where)
        .order_by(*order_by)
        .limit(1)
        .scalar_subquery()
    )


def _statement(staff: bool) -> Select:
    loan = bindparam("loan_id", type_=LoanStatusHistory.loan_id.type)
    H, R, A, L, P = LoanStatusHistory, RepaymentInstallment, LoanAgreement, PaymentLink, PaymentTransaction
    history = [H.seq, H.from_status, H.to_status, H.reason, H.actor, H.created_at]
    if staff:
        history += [H.action, H.actor_id, H.details]
    paid = R.principal_paid + R.interest_paid + R.fees_paid + R.penal_paid
    parts = [
        _rows(*history, order_by=(H.seq,), where=H.loan_id == loan).label("history"),
        _rows(
            R.installment_no,
            R.due_at,
            R.principal,
            R.interest,
            R.total,
            R.balance_after,
            R.penal,
            paid,
            R.status,
            R.paid_at,
            order_by=(R.installment_no,),
            where=R.loan_id == loan,
        ).label("schedule"),
        _first(
            A.status,
            A.docket_id,
            A.signing_url,
            A.esign_provider,
            A.expires_at,
            A.signed_at,
            A.sha256,
            where=A.loan_id == loan,
        ).label("agreement"),
        # the installment's own link (a one-off link the borrower asked for, installment 0, is not the loan's)
        _first(
            L.installment_no,
            L.url,
            L.link_id,
            L.amount,
            order_by=(L.installment_no, L.created_at.desc(), L.id),
            where=(L.loan_id == loan) & (L.status == "ACTIVE") & (L.installment_no > 0),
        ).label("link"),
        _rows(
            P.gateway,
            P.gateway_payment_id,
            P.amount,
            P.principal_part,
            P.interest_part,
            P.excess_part,
            P.collected_at,
            order_by=(P.collected_at, P.id),
            where=P.loan_id == loan,
        ).label("payments"),
        credit_balance_of(loan).label("credit_balance"),  # db.receipts: excess received less refunds paid
    ]
    if staff:
        K = ParkedPayment
        parked = (K.gateway, K.gateway_payment_id, cast(K.amount, String), K.reason, K.status, K.created_at)
        parts.append(_rows(*parked, order_by=(K.created_at, K.id), where=K.loan_id == loan).label("parked"))
        B = BureauReport
        parts.append(_first(B.provider, B.score, B.created_at, where=B.loan_id == loan).label("bureau"))
    return select(*parts)


STATEMENTS = {False: _statement(False), True: _statement(True)}


def _iso(text: str | None) -> str | None:
    """PostgreSQL's JSON text of a ``timestamptz`` → the same instant as ``datetime.isoformat`` writes it."""
    return datetime.fromisoformat(text).isoformat() if text is not None else None


def detail_parts(session: Session, loan_id: str, *, staff: bool = False) -> dict[str, Any]:
    """The loan's detail parts as the views send them: ``statusHistory``, ``schedule``, ``agreement``,
    ``paymentLink``, ``payments``, ``creditBalancePaise`` and, with ``staff``, ``parkedPayments`` and ``bureau``
    (amounts in paise, instants ISO 8601). One statement."""
    row = session.execute(STATEMENTS[staff], {"loan_id": loan_id}).one()
    out: dict[str, Any] = {
        "statusHistory": [
            {
                "seq": h[0],
                "from": h[1],
                "to": h[2],
                "reason": h[3],
                "actor": h[4],
                "at": _iso(h[5]),
                **({"action": h[6], "actorId": h[7], "details": h[8]} if staff else {}),
            }
            for h in row.history
        ],
        "schedule": [
            {
                "installmentNo": r[0],
                "dueAt": _iso(r[1]),
                "principalPaise": r[2],
                "interestPaise": r[3],
                "totalPaise": r[4],
                "balanceAfterPaise": r[5],
                "penalPaise": r[6],
                "paidPaise": r[7],
                "duePaise": r[4] + r[6] - r[7],
                "status": r[8],
                "paidAt": _iso(r[9]),
            }
            for r in row.schedule
        ],
        "agreement": None,
        "paymentLink": None,
        "payments": [
            {
                "gateway": p[0],
                "paymentId": p[1],
                "amountPaise": p[2],
                "principalPaise": p[3],
                "interestPaise": p[4],
                "excessPaise": p[5],
                "collectedAt": _iso(p[6]),
            }
            for p in row.payments
        ],
        "creditBalancePaise": int(row.credit_balance),
    }
    if (a := row.agreement) is not None:
        out["agreement"] = {
            "status": a[0],
            "docketId": a[1],
            "signingUrl": a[2],
            "provider": a[3],
            "expiresAt": _iso(a[4]),
            "signedAt": _iso(a[5]),
            "sha256": a[6],
        }
    if (link := row.link) is not None:
        out["paymentLink"] = {"installmentNo": link[0], "url": link[1], "linkId": link[2], "amountPaise": link[3]}
    if staff:
        out["parkedPayments"] = [
            {
                "gateway": k[0],
                "paymentId": k[1],
                "amountPaise": k[2],  # as received, possibly beyond any integer type
                "reason": k[3],
                "status": k[4],
                "parkedAt": _iso(k[5]),
            }
            for k in row.parked
        ]
        b = row.bureau
        out["bureau"] = None if b is None else {"provider": b[0], "score": b[1], "pulledAt": _iso(b[2])}
    return out
