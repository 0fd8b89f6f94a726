"""Loan ops' money-out routes through the real API and database: the loans on hold, the loan-ops queue, a loan's
transfer attempts (and the same list on the staff loan detail), and the refusals of the hold and agreement
decisions that come before any workflow call (reason, permission, brand).

The read routes are fed rows written straight to the database: a loan on hold with its HOLD history, and a signed
loan with a verified primary account and two transfer attempts, the first FAILED. Their answers are validated
against the models the routes declare. The decisions' own paths (resume, reject, cancel taken by the workflow)
need a running loan workflow and are tested end to end elsewhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from api.loan_views import HeldLoanPage, LoansOpsPage, StaffLoanDetail, TransferList
from db.models import BankAccount, Customer, Disbursal, Loan, LoanProduct, LoanStatusHistory
from los.demo import Driver
from los.seed import seed_brand
from tests.integration.test_loan_read_models import check

FULL_NUMBER = "50100234561234"


def _refused(resp: httpx.Response, status: int, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    if field is not None:
        assert field in [e["field"] for e in resp.json()["errors"]], resp.text


def _loan(db, brand_id: str, status: str, **extra: Any) -> tuple[str, str]:  # noqa: ANN001
    """A customer and a loan of theirs in ``status``, straight in the database: (loan id, customer id)."""
    with db.unit_of_work() as s:
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id)).first()
        customer = Customer(brand_id=brand_id, phone=f"9{uuid.uuid4().int % 10**9:09d}", full_name="Asha Verma")
        s.add(customer)
        s.flush()
        loan_id = str(uuid.uuid4())
        s.add(
            Loan(
                id=loan_id,
                brand_id=brand_id,
                customer_id=customer.id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=40_000_00,
                tenure=3,
                annual_rate_bps=2400,
                status=status,
                **extra,
            )
        )
        return loan_id, customer.id


def _history(db, loan_id: str, *moves: tuple[str, str, str | None, str | None, dict | None]) -> None:  # noqa: ANN001
    at = datetime.now(UTC) - timedelta(hours=len(moves))
    with db.unit_of_work() as s:
        for seq, (src, to, action, reason, details) in enumerate(moves):
            s.add(
                LoanStatusHistory(
                    loan_id=loan_id,
                    seq=seq,
                    from_status=src,
                    to_status=to,
                    action=action,
                    reason=reason,
                    details=details,
                    created_at=at + timedelta(hours=seq),
                )
            )


async def test_needs_attention_queue_and_hold_refusals(app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:8]}", name="Other")
    held, _ = _loan(db, brand["brand_id"], "NEEDS_ATTENTION")
    _history(
        db,
        held,
        (None, "APPLIED", None, "applied", None),
        ("SANCTIONED", "NEEDS_ATTENTION", "HOLD", "agreement: no eSign vendor", {"step": "agreement"}),
        ("NEEDS_ATTENTION", "SANCTIONED", "RESUME", "fixed", None),
        ("AGREEMENT_SIGNED", "NEEDS_ATTENTION", "HOLD", "disbursal: account closed", {"step": "disbursal"}),
    )
    _loan(db, brand["brand_id"], "AGREEMENT_SIGNED")  # not on hold: not in the queue
    foreign, _ = _loan(db, other["brand_id"], "NEEDS_ATTENTION")

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    outsider = Driver(app.api.url, sandbox.url, other["brand_code"])
    api = driver.api
    base = f"/api/v1/partner/brand/{brand['brand_id']}"
    try:
        ops = await driver.staff_headers("LOAN_EXECUTIVE")
        admin = await driver.staff_headers("ADMIN")
        credit = await driver.staff_headers("CREDIT_EXECUTIVE")

        resp = await api.get(f"{base}/queues/needs-attention", headers=ops)
        assert resp.status_code == 200, resp.text
        page = check(HeldLoanPage, resp.json())
        assert [row.id for row in page.items] == [held] and page.total == 1  # type: ignore[attr-defined]
        row = page.items[0]  # type: ignore[attr-defined]
        assert (row.status, row.hold_step, row.hold_reason) == ("NEEDS_ATTENTION", "disbursal", "account closed")
        assert datetime.fromisoformat(row.held_since) > datetime.now(UTC) - timedelta(hours=2)
        assert (await api.get(f"{base}/queues/needs-attention", headers=admin)).status_code == 200
        # filters and pagination are the loan list's
        empty = (await api.get(f"{base}/queues/needs-attention", headers=ops, params={"minAmount": 50_000_00})).json()
        assert empty["items"] == [] and empty["total"] == 0
        _refused(await api.get(f"{base}/queues/needs-attention", headers=credit), 403)
        outsider_ops = await outsider.staff_headers("LOAN_EXECUTIVE")
        _refused(await api.get(f"{base}/queues/needs-attention", headers=outsider_ops), 404)

        # reject and cancel need a reason: 422 naming it, before any workflow call
        for action in ("hold/reject", "agreement/cancel"):
            url = f"{base}/loans/{held}/{action}"
            _refused(await api.post(url, headers=ops), 422, "reason")
            _refused(await api.post(url, json={}, headers=ops), 422, "reason")
            _refused(await api.post(url, json={"reason": "   "}, headers=ops), 422, "reason")
        # a role without loan ops' permission; another brand's loan; another brand's staff
        for action in ("hold/resume", "hold/reject", "agreement/cancel"):
            _refused(await api.post(f"{base}/loans/{held}/{action}", json={"reason": "x"}, headers=credit), 403)
            _refused(await api.post(f"{base}/loans/{foreign}/{action}", json={"reason": "x"}, headers=ops), 404)
            resp = await api.post(f"{base}/loans/{held}/{action}", json={"reason": "x"}, headers=outsider_ops)
            _refused(resp, 404)
        _refused(await api.post(f"{base}/loans/{held}/hold/resume", json={"reasn": "x"}, headers=ops), 422)
        # the route reaches the workflow: this seeded loan has none, so no decision can be taken (409)
        _refused(await api.post(f"{base}/loans/{held}/hold/resume", headers=ops), 409)
    finally:
        await driver.close()
        await outsider.close()


def _signed_loan_with_transfers(db, brand_id: str) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    loan_id, customer_id = _loan(db, brand_id, "DISBURSAL_PENDING", net_disbursed=38_820_00)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        old = BankAccount(
            customer_id=customer_id,
            account_sealed="sealed-old",
            account_fingerprint=uuid.uuid4().hex,
            account_last4="9876",
            ifsc="SBIN0000001",
            penny_drop_status="FAILED",
            is_primary=False,
        )
        account = BankAccount(
            customer_id=customer_id,
            account_sealed="sealed",  # the number is never read by these routes
            account_fingerprint=uuid.uuid4().hex,
            account_last4=FULL_NUMBER[-4:],
            ifsc="HDFC0001234",
            bank_name="HDFC Bank",
            beneficiary_name="ASHA VERMA",
            name_match_score=Decimal("92.50"),
            penny_drop_status="VERIFIED",
            provider="sandbox",
            is_primary=True,
            verified_at=now - timedelta(hours=5, minutes=30),
        )
        s.add_all([old, account])
        s.flush()
        common = {"loan_id": loan_id, "amount": 38_820_00, "provider": "idfc", "mode": "IMPS"}
        first = Disbursal(
            idempotency_key=f"{loan_id}:disbursal:1",
            status="FAILED",
            bank_account_id=old.id,
            account_last4="9876",
            ifsc="SBIN0000001",
            transfer_id="pout_1",
            failure_reason="beneficiary account closed",
            outcome_source="webhook",
            approved_by="LOAN_EXECUTIVE:ops@example.com",
            created_at=now - timedelta(hours=2),
            sent_at=now - timedelta(hours=2),
            **common,
        )
        second = Disbursal(
            idempotency_key=f"{loan_id}:disbursal:2",
            status="PENDING",
            bank_account_id=account.id,
            account_last4=FULL_NUMBER[-4:],
            ifsc="HDFC0001234",
            transfer_id="pout_2",
            approved_by="LOAN_EXECUTIVE:ops@example.com",
            created_at=now - timedelta(hours=1),
            sent_at=now - timedelta(hours=1),
            **common,
        )
        s.add_all([first, second])
        s.flush()
        return loan_id, {"account": account.id, "first": first.id, "second": second.id}


async def test_loans_ops_queue_and_transfers(app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:8]}", name="Other")
    loan_id, ids = _signed_loan_with_transfers(db, brand["brand_id"])
    bare, _ = _loan(db, brand["brand_id"], "AGREEMENT_SIGNED")  # no account, no attempt yet
    foreign, _ = _signed_loan_with_transfers(db, other["brand_id"])

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    base = f"/api/v1/partner/brand/{brand['brand_id']}"
    try:
        ops = await driver.staff_headers("LOAN_EXECUTIVE")
        credit = await driver.staff_headers("CREDIT_EXECUTIVE")

        resp = await api.get(f"{base}/queues/loans-ops", headers=ops, params={"sort": "oldest"})
        assert resp.status_code == 200, resp.text
        assert FULL_NUMBER not in resp.text
        page = check(LoansOpsPage, resp.json())
        rows = {row.id: row for row in page.items}  # type: ignore[attr-defined]
        assert set(rows) == {loan_id, bare}
        row = rows[loan_id]
        assert (row.amount_paise, row.net_disbursed_paise) == (40_000_00, 38_820_00)
        b = row.beneficiary
        assert (b.bank_account_id, b.account_masked, b.ifsc) == (ids["account"], "XXXX1234", "HDFC0001234")
        assert (b.bank_name, b.holder_name) == ("HDFC Bank", "ASHA VERMA")
        pd = b.penny_drop
        assert (pd.status, pd.name_match_score, pd.age_hours) == ("VERIFIED", "92.50", 5) and pd.verified_at
        t = row.latest_transfer
        assert (t.id, t.status, t.utr, t.failure_reason) == (ids["second"], "PENDING", None, None)
        assert rows[bare].beneficiary is None and rows[bare].latest_transfer is None
        assert rows[bare].net_disbursed_paise == 40_000_00  # no upfront charges recorded: the whole amount
        _refused(await api.get(f"{base}/queues/loans-ops", headers=credit), 403)

        # every attempt, oldest first; the same list on the staff detail
        resp = await api.get(f"{base}/loans/{loan_id}/transfers", headers=ops)
        assert resp.status_code == 200, resp.text
        assert FULL_NUMBER not in resp.text
        listed = check(TransferList, resp.json())
        first, second = listed.transfers  # type: ignore[attr-defined]
        assert [first.id, second.id] == [ids["first"], ids["second"]]
        assert (first.status, first.failure_reason, first.outcome_source) == (
            "FAILED",
            "beneficiary account closed",
            "webhook",
        )
        assert (first.account_masked, first.ifsc, first.mode, first.amount_paise) == (
            "XXXX9876",
            "SBIN0000001",
            "IMPS",
            38_820_00,
        )
        assert (second.account_masked, second.transfer_id, second.settled_at) == ("XXXX1234", "pout_2", None)
        assert first.idempotency_key.endswith(":disbursal:1") and first.approved_by and first.sent_at

        detail = await api.get(f"{base}/loans/{loan_id}", headers=credit)  # any staff viewer
        assert detail.status_code == 200, detail.text
        assert check(StaffLoanDetail, detail.json()).transfers == listed.transfers  # type: ignore[attr-defined]
        empty = await api.get(f"{base}/loans/{bare}/transfers", headers=ops)
        assert empty.json() == {"loanId": bare, "transfers": []}

        _refused(await api.get(f"{base}/loans/{foreign}/transfers", headers=ops), 404)
        _refused(await api.get(f"{base}/loans/{foreign}", headers=ops), 404)
    finally:
        await driver.close()
