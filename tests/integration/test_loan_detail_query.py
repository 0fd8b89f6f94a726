"""The loan detail read in one statement (``api.loan_detail_query``) answers, to the byte, what the nine ORM queries
it replaced answered (the oracle below is that code): every part, the rows' order, which payment link is the
loan's, the credit balance, the staff-only parts and the keys' order, on a loan with one row of each kind (and
edge values: instants with no fraction or trailing zeros, nulls, a parked amount beyond any integer type, text
outside ASCII) and on a loan with nothing yet, in UTC and in IST sessions."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.views import loan_detail, loan_summary, staff_loan_summary
from db.models import (
    BureauReport,
    Customer,
    Loan,
    LoanAgreement,
    LoanProduct,
    LoanStatusHistory,
    ParkedPayment,
    PaymentLink,
    PaymentTransaction,
    Refund,
    RepaymentInstallment,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def oracle(session: Session, loan: Loan, staff: bool) -> dict[str, Any]:
    """The detail as the ORM queries built it before (``api.views.loan_detail`` until 5 December 2026), with the id as
    the last sort key where rows can tie (before, their order among themselves was whatever PostgreSQL gave)."""
    out = loan_summary(loan)
    H, R = LoanStatusHistory, RepaymentInstallment
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
        for h in session.scalars(select(H).where(H.loan_id == loan.id).order_by(H.seq))
    ]
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
        for r in session.scalars(select(R).where(R.loan_id == loan.id).order_by(R.installment_no))
    ]
    a = session.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == loan.id)).first()
    out["agreement"] = None if a is None else {
        "status": a.status, "docketId": a.docket_id, "signingUrl": a.signing_url, "provider": a.esign_provider,
        "expiresAt": _iso(a.expires_at), "signedAt": _iso(a.signed_at), "sha256": a.sha256,
    }  # fmt: skip
    L = PaymentLink
    link = session.scalars(
        select(L)
        .where(L.loan_id == loan.id, L.status == "ACTIVE", L.installment_no > 0)
        .order_by(L.installment_no, L.created_at.desc(), L.id)
    ).first()
    out["paymentLink"] = None if link is None else {
        "installmentNo": link.installment_no, "url": link.url, "linkId": link.link_id, "amountPaise": link.amount,
    }  # fmt: skip
    P = PaymentTransaction
    out["payments"] = [
        {
            "gateway": p.gateway, "paymentId": p.gateway_payment_id, "amountPaise": p.amount,
            "principalPaise": p.principal_part, "interestPaise": p.interest_part, "excessPaise": p.excess_part,
            "collectedAt": _iso(p.collected_at),
        }
        for p in session.scalars(select(P).where(P.loan_id == loan.id).order_by(P.collected_at, P.id))
    ]  # fmt: skip
    received = session.scalar(select(func.coalesce(func.sum(P.excess_part), 0)).where(P.loan_id == loan.id))
    paid = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.loan_id == loan.id, Refund.status == "PROCESSED")
    )
    out["creditBalancePaise"] = int(received or 0) - int(paid or 0)
    if staff:
        out.update(staff_loan_summary(loan))
        K = ParkedPayment
        out["parkedPayments"] = [
            {
                "gateway": k.gateway, "paymentId": k.gateway_payment_id, "amountPaise": str(k.amount),
                "reason": k.reason, "status": k.status, "parkedAt": _iso(k.created_at),
            }
            for k in session.scalars(select(K).where(K.loan_id == loan.id).order_by(K.created_at, K.id))
        ]  # fmt: skip
        out["review"] = {
            "stage": loan.review_stage,
            "scoreOverride": str(loan.score_override) if loan.score_override is not None else None,
            "scoreOverrideReason": loan.score_override_reason,
            "sanctionConditions": loan.sanction_conditions,
        }
        b = session.scalars(select(BureauReport).where(BureauReport.loan_id == loan.id)).first()
        out["bureau"] = None if b is None else {
            "provider": b.provider, "score": b.score, "pulledAt": _iso(b.created_at),
        }  # fmt: skip
    return out


def _loan(session: Session, brand_id: str) -> Loan:
    product = session.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id)).first()
    assert product is not None
    customer = Customer(brand_id=brand_id, phone=f"9{random.randrange(10**8, 10**9)}", full_name="Ananya Iyer")
    session.add(customer)
    session.flush()
    loan_id = str(uuid.uuid4())
    loan = Loan(
        id=loan_id, brand_id=brand_id, customer_id=customer.id, product_id=product.id, workflow_id=f"loan-{loan_id}",
        amount=50_000_00, tenure=3, annual_rate_bps=2400, status="ACTIVE", outstanding_principal=33_000_00,
    )  # fmt: skip
    session.add(loan)
    session.flush()
    return loan


def _fill(session: Session, loan: Loan) -> None:
    """One or more rows of every part, with instants that PostgreSQL and Python write differently unless the detail
    writes them again (no fraction, trailing zeros), nulls, and rows whose order matters."""
    t0 = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
    add = session.add_all
    add(
        [
            LoanStatusHistory(loan_id=loan.id, seq=0, to_status="APPLIED", actor="customer:x", created_at=t0),
            LoanStatusHistory(
                loan_id=loan.id, seq=2, from_status="SANCTIONED", to_status="ACTIVE", reason="disbursed ₹50,000",
                actor="system", created_at=t0 + timedelta(hours=2, microseconds=120_000),
            ),
            LoanStatusHistory(
                loan_id=loan.id, seq=1, from_status="APPLIED", to_status="SANCTIONED", actor="SANCTION_HEAD:a@b.in",
                action="APPROVE", actor_id=str(uuid.uuid4()), details={"conditions": "salary slip", "n": [1, 2.5]},
                created_at=t0 + timedelta(hours=1, microseconds=7),
            ),
        ]
    )  # fmt: skip
    for n in (2, 1, 3):
        add(
            [
                RepaymentInstallment(
                    loan_id=loan.id, installment_no=n, due_at=t0 + timedelta(days=30 * n), principal=16_000_00 + n,
                    interest=900_00 - n, total=16_900_00, balance_after=50_000_00 - 16_000_00 * n, penal=n * 11,
                    principal_paid=16_000_00 if n == 1 else 0, interest_paid=900_00 if n == 1 else 5, fees_paid=n,
                    penal_paid=0, status="PAID" if n == 1 else "PENDING",
                    paid_at=t0 + timedelta(days=29, microseconds=500_000) if n == 1 else None,
                )
            ]
        )  # fmt: skip
    add(
        [
            LoanAgreement(
                loan_id=loan.id, storage_key="k", sha256="ab" * 32, docket_id=None, signing_url="https://sign/x",
                esign_provider="leegality", status="SIGNED", expires_at=None, signed_at=t0 + timedelta(minutes=5),
            ),
            # the loan's link: the ACTIVE one of the earliest installment, the newest of them
            PaymentLink(loan_id=loan.id, installment_no=0, provider="razorpay", link_id=f"plink_{uuid.uuid4().hex}",
                        url="https://rzp/one-off", amount=5, status="ACTIVE", created_at=t0 + timedelta(days=40)),
            PaymentLink(loan_id=loan.id, installment_no=3, provider="razorpay", link_id=f"plink_{uuid.uuid4().hex}",
                        url="https://rzp/3", amount=16_900_00, status="ACTIVE", created_at=t0 + timedelta(days=41)),
            PaymentLink(loan_id=loan.id, installment_no=2, provider="cashfree", link_id=f"cf_{uuid.uuid4().hex}",
                        url="https://cf/2-old", amount=16_900_00, status="ACTIVE", created_at=t0 + timedelta(days=31)),
            PaymentLink(loan_id=loan.id, installment_no=2, provider="razorpay", link_id=f"plink_{uuid.uuid4().hex}",
                        url="https://rzp/2-new", amount=16_911_00, status="ACTIVE", created_at=t0 + timedelta(days=35)),
            PaymentLink(loan_id=loan.id, installment_no=1, provider="razorpay", link_id=f"plink_{uuid.uuid4().hex}",
                        url="https://rzp/1", amount=16_900_00, status="PAID", created_at=t0 + timedelta(days=1)),
            PaymentTransaction(loan_id=loan.id, gateway="razorpay", gateway_payment_id="pay_2", amount=1_000_00,
                               excess_part=1_000_00, collected_at=t0 + timedelta(days=30, microseconds=10)),
            PaymentTransaction(loan_id=loan.id, gateway="razorpay", gateway_payment_id="pay_1", amount=16_900_00,
                               principal_part=16_000_00, interest_part=900_00, collected_at=t0 + timedelta(days=29)),
            # rows written in one transaction tie on their instant: two payments, two parked, two links
            *(PaymentTransaction(loan_id=loan.id, gateway="cashfree", gateway_payment_id=f"cf_tie_{n}", amount=n,
                                 collected_at=t0 + timedelta(days=33)) for n in (1, 2, 3)),
            *(ParkedPayment(loan_id=loan.id, gateway="razorpay", gateway_payment_id=f"pay_tie_{n}", amount=n,
                            reason="no loan", payload={}, created_at=t0 + timedelta(days=3)) for n in (1, 2)),
            *(PaymentLink(loan_id=loan.id, installment_no=2, provider="razorpay", link_id=f"pt{n}_{uuid.uuid4().hex}",
                          url=f"https://rzp/2-tie-{n}", amount=16_911_00 + n, status="ACTIVE",
                          created_at=t0 + timedelta(days=35)) for n in (1, 2)),
            Refund(brand_id=loan.brand_id, loan_id=loan.id, amount=400_00, status="PROCESSED"),
            Refund(brand_id=loan.brand_id, loan_id=loan.id, amount=100_00, status="PENDING_APPROVAL"),
            ParkedPayment(loan_id=loan.id, gateway="cashfree", gateway_payment_id="cf_9",
                          amount=Decimal(10**30 + 7), reason="amount beyond any loan", payload={},
                          created_at=t0 + timedelta(days=2)),
            BureauReport(loan_id=loan.id, provider="cibil", score=742, report={},
                         created_at=t0 + timedelta(minutes=1, microseconds=300_000)),
        ]
    )  # fmt: skip
    session.flush()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_one_statement_answers_what_the_orm_queries_answered(db, brand, zone: str) -> None:  # noqa: ANN001
    with db.unit_of_work() as session:
        session.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))
        empty, full = _loan(session, brand["brand_id"]), _loan(session, brand["brand_id"])
        _fill(session, full)
        session.expire_all()  # read everything back from the database, as a request does
        for loan in (empty, full):
            for staff in (False, True):
                got, want = loan_detail(session, loan, staff), oracle(session, loan, staff)
                assert orjson.dumps(got) == orjson.dumps(want), (zone, staff, got, want)
        full_detail = loan_detail(session, full, staff=True)
        session.rollback()
    # the oracle is not trivially empty: every part of the full loan has rows, in the order asked for
    assert [h["seq"] for h in full_detail["statusHistory"]] == [0, 1, 2]
    assert [r["installmentNo"] for r in full_detail["schedule"]] == [1, 2, 3]
    assert full_detail["paymentLink"]["url"].startswith("https://rzp/2-")  # the newest links of installment 2 tie
    assert [p["paymentId"] for p in full_detail["payments"]][:2] == ["pay_1", "pay_2"]
    assert sorted(p["paymentId"] for p in full_detail["payments"][2:]) == ["cf_tie_1", "cf_tie_2", "cf_tie_3"]
    assert full_detail["creditBalancePaise"] == 600_00
    assert [k["amountPaise"] for k in full_detail["parkedPayments"]][0] == str(10**30 + 7)
    assert full_detail["bureau"]["score"] == 742
    assert full_detail["statusHistory"][2]["at"].endswith(("00.120000+00:00", "00.120000+05:30"))
