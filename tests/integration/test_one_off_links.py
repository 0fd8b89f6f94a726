"""A borrower's one-off link (``POST /web/loans/{id}/pay``) over the real API, database and the sandbox's Razorpay
over HTTP: the same ask on one day gives the same link; once that link is paid, the same amount asked again the
same day gets a new link that takes money (the day's reference would give the paid link back at the gateway)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import PaymentLink
from los.demo import Driver
from tests.conftest import eventually
from tests.integration.test_offline_payments import disbursed_loan


def _links(db, loan_id: str) -> dict[str, str]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.execute(
            select(PaymentLink.link_id, PaymentLink.status).where(
                PaymentLink.loan_id == loan_id, PaymentLink.purpose == "PREPAYMENT"
            )
        ).all()
        return {r[0]: r[1] for r in rows}


async def test_the_same_prepayment_asked_again_after_its_link_was_paid_gets_a_new_link(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        pay = f"/api/v1/web/loans/{loan_id}/pay"

        async def ask() -> dict:
            answer = await driver.api.post(pay, json={"amount": "5000"}, headers=customer)
            assert answer.status_code == 200, answer.text
            return answer.json()

        first = await ask()
        assert (await ask())["url"] == first["url"]  # asked twice before paying: the same link
        (paid_link,) = _links(db, loan_id)
        assert (await driver.sandbox.post(f"/razorpay/pay/{paid_link}")).status_code == 200
        await eventually(lambda: _links(db, loan_id) == {paid_link: "PAID"}, timeout=60, interval=0.25)

        again = await ask()
        assert again["url"] != first["url"] and again["amount"] == 5000_00
        (new_link,) = [link for link in _links(db, loan_id) if link != paid_link]
        assert _links(db, loan_id) == {paid_link: "PAID", new_link: "ACTIVE"}
        assert (await ask())["url"] == again["url"]  # and that one is the day's link now
        assert (await driver.sandbox.post(f"/razorpay/pay/{new_link}")).status_code == 200  # it takes money
        await eventually(lambda: _links(db, loan_id) == {paid_link: "PAID", new_link: "PAID"}, timeout=60)
    finally:
        await driver.close()
