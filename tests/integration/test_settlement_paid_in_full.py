"""A borrower under an approved settlement who pays more than everything owed is paid up, not settled: over the
public API and the sandbox's gateway, an overdue loan gets a settlement (proposed by a collection manager, approved
by a collection head); the borrower pays the overdue link they were sent before, then the settlement's link. The two
cover everything owed, so nothing is waived: the loan is never SETTLED nor flagged SETTLED for the bureaus, the
settlement reads PAID_IN_FULL, no principal is written off, and only the money beyond what was owed is kept as
credit balance (settlement-applies-all-v1; before it the loan closed SETTLED with ₹16,499 written off and the
borrower's ₹17,837 overdue payment kept to refund)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from db.models import LedgerEntry, LedgerTransaction, Loan, PaymentLink, PaymentTransaction
from los.demo import Driver
from los.demo_collections import HEAD, MANAGER, _begin, _overdue, _sms_link
from tests.conftest import eventually


@pytest.fixture
def demo_brand(db, sandbox) -> dict:  # noqa: ANN001
    from los.seed import seed_brand

    code = f"p{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Paid in full {code}", period_seconds=5)


async def _settlement_approved(
    driver: Driver, index: int, amount_of: Callable[[int], int]
) -> tuple[dict[str, str], Any, float, str, int]:
    """An overdue demo loan, the overdue link the borrower was sent, and a settlement of ``amount_of(everything
    owed)`` proposed by a manager and approved by a head: (headers, journey, deadline, overdue link, amount)."""
    headers, j, _, deadline = await _begin(driver, index)
    loan = await _overdue(driver, headers, j, deadline)
    overdue_url = (loan.get("paymentLink") or {}).get("url") or await _sms_link(driver, j.phone, "overdue", deadline)
    quote = await driver.partner(MANAGER, "GET", f"/loans/{j.loan_id}/foreclosure-quote")
    amount = amount_of(quote["total"])
    await driver.partner(MANAGER, "POST", f"/collection/{j.loan_id}/settlement", json={
        "amount": amount, "reason": "hardship",
    })  # fmt: skip
    await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/settlement/approve", json={"reason": "ok"})
    return headers, j, deadline, overdue_url, amount


async def test_a_settlement_paid_beyond_everything_owed_closes_the_loan_paid_not_settled(  # noqa: ANN001
    app, demo_brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, deadline, overdue_url, amount = await _settlement_approved(
            driver,
            3,
            lambda total: total - 1_000_00,  # a settlement just under everything owed
        )
        settle_url = await _sms_link(driver, j.phone, "settle loan", deadline)

        # the old link, paid late, and at once the settlement's (both before the gateway's webhooks reach the loan, so
        # before the settlement's link would be made again for the rest): together more than everything owed
        await driver.pay_link(overdue_url)
        await driver.pay_link(settle_url)
        loan = await driver.wait_for(
            headers, j.loan_id, lambda x: x["status"] in ("OVERPAID", "COMPLETED", "SETTLED"), "the loan paid", deadline
        )
        assert loan["status"] == "OVERPAID", loan["status"]  # paid up; the money beyond it waits to be refunded
        rows = await driver.partner(MANAGER, "GET", f"/collection/{j.loan_id}/settlements")
        assert rows[0]["status"] == "PAID_IN_FULL" and rows[0]["collected"] > amount, rows[0]
        with db.unit_of_work() as s:
            row = s.get_one(Loan, j.loan_id)
            assert row.bureau_flag is None and row.status == "OVERPAID"
            kinds = set(s.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.loan_id == j.loan_id)))
            assert "WRITE_OFF" not in kinds and "WAIVER" not in kinds, kinds
            paid = sum(s.scalars(select(PaymentTransaction.amount).where(PaymentTransaction.loan_id == j.loan_id)))
            excess = sum(
                s.scalars(select(PaymentTransaction.excess_part).where(PaymentTransaction.loan_id == j.loan_id))
            )
            assert 0 < excess < paid - amount  # only what went beyond everything owed is credit balance
            net = sum(
                s.scalars(
                    select(LedgerEntry.amount)
                    .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                    .where(LedgerTransaction.loan_id == j.loan_id)
                )
            )
            assert net == 0
    finally:
        await driver.close()


async def test_paid_in_full_by_another_way_the_settlement_link_is_no_longer_offered(  # noqa: ANN001
    app, demo_brand, sandbox, db
) -> None:
    """Everything owed paid by NEFT (an offline payment of the staff's foreclosure quote) while a settlement is
    approved: the settlement reads PAID_IN_FULL and its link, never paid, is no longer offered, here or at the
    gateway."""
    from tests.integration.test_offline_payments import attach_proof, decide, record

    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, _, deadline = await _begin(driver, 4)
        await _overdue(driver, headers, j, deadline)
        quote = await driver.partner(MANAGER, "GET", f"/loans/{j.loan_id}/foreclosure-quote")
        await driver.partner(MANAGER, "POST", f"/collection/{j.loan_id}/settlement", json={
            "amount": quote["total"] // 2, "reason": "hardship",
        })  # fmt: skip
        await driver.partner(HEAD, "POST", f"/collection/{j.loan_id}/settlement/approve", json={"reason": "ok"})
        await _sms_link(driver, j.phone, "settle loan", deadline)
        # more than everything owed (the demo product's quote, by calendar dates, leaves out the interest and penal
        # its seconds-long periods ran up): the rest is credit balance
        r = await record(driver, j.loan_id, amount=f"{(quote['total'] + 10_000_00) / 100:.2f}", allowExcess=True)
        assert r.status_code == 201, r.text
        assert (await attach_proof(driver, r.json()["id"])).status_code == 200
        assert (await decide(driver, "approve", r.json()["id"])).status_code == 200
        await driver.wait_for(
            headers, j.loan_id, lambda x: x["status"] in ("OVERPAID", "COMPLETED", "SETTLED"), "the loan paid", deadline
        )
        rows = await driver.partner(MANAGER, "GET", f"/collection/{j.loan_id}/settlements")
        assert rows[0]["status"] == "PAID_IN_FULL", rows[0]
        with db.unit_of_work() as s:
            links = s.execute(
                select(PaymentLink.purpose, PaymentLink.status).where(PaymentLink.loan_id == j.loan_id)
            ).all()
            assert ("SETTLEMENT", "CANCELLED") in links and ("SETTLEMENT", "ACTIVE") not in links, links
            (settlement_link,) = s.scalars(
                select(PaymentLink.link_id).where(PaymentLink.loan_id == j.loan_id, PaymentLink.purpose == "SETTLEMENT")
            ).all()
        # and at its gateway: the borrower's SMS link can no longer take money
        at_gateway = await driver.sandbox.get(f"/razorpay/payment_links/{settlement_link}")
        assert at_gateway.json()["status"] == "cancelled", at_gateway.text
    finally:
        await driver.close()


async def test_a_settlement_part_paid_by_an_old_link_is_offered_again_for_the_rest(  # noqa: ANN001
    app, demo_brand, sandbox, db
) -> None:
    """A settlement of half of what is owed is approved and its link sent; the borrower then pays the overdue link
    they had before. The settlement's link is made again for what is still to pay (the first SUPERSEDED here and
    cancelled at the gateway) and sent by SMS; paid, the loan is SETTLED for the agreed amount in all
    (settlement-link-follows-payments-v1)."""
    driver = Driver(app.api.url, sandbox.url, demo_brand["brand_code"])
    try:
        headers, j, deadline, overdue_url, amount = await _settlement_approved(driver, 5, lambda total: total // 2)
        first_url = await _sms_link(driver, j.phone, "settle loan", deadline)
        paid_old = (await driver.pay_link(overdue_url))["amount"]
        assert 0 < paid_old < amount

        async def remade() -> str | None:
            url = await _sms_link(driver, j.phone, "settle loan", deadline)
            return url if url != first_url else None

        second_url = await eventually(remade, timeout=30)
        with db.unit_of_work() as s:
            links = s.execute(
                select(PaymentLink.link_id, PaymentLink.amount, PaymentLink.status).where(
                    PaymentLink.loan_id == j.loan_id, PaymentLink.purpose == "SETTLEMENT"
                )
            ).all()
        by_status = {status: (link_id, link_amount) for link_id, link_amount, status in links}
        assert by_status["ACTIVE"][1] == amount - paid_old, links
        assert by_status["SUPERSEDED"][1] == amount and by_status["ACTIVE"][0] in second_url, links
        first = await driver.sandbox.get(f"/razorpay/payment_links/{by_status['SUPERSEDED'][0]}")
        assert first.json()["status"] == "cancelled", first.text

        await driver.pay_link(second_url)
        loan = await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "SETTLED", "settled", deadline)
        assert loan["status"] == "SETTLED"
        with db.unit_of_work() as s:
            paid = sum(s.scalars(select(PaymentTransaction.amount).where(PaymentTransaction.loan_id == j.loan_id)))
        assert paid == amount  # the agreed amount, in all
        rows = await driver.partner(MANAGER, "GET", f"/collection/{j.loan_id}/settlements")
        assert (rows[0]["status"], rows[0]["collected"]) == ("PAID", amount), rows[0]
    finally:
        await driver.close()
