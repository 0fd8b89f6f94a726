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


async def test_two_asks_at_once_that_make_two_links_answer_the_one_recorded_first(  # noqa: ANN001
    app, brand, sandbox, db, monkeypatch
) -> None:
    """Two asks for the same prepayment at once, each making its own link (one failed over to another gateway): the
    link recorded first is answered to both; the other is recorded CANCELLED (a payment on it still finds its loan)
    and cancelled at its gateway, so one link takes the money."""
    from api import one_off_links

    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        real_create_link = one_off_links.create_link
        first: dict[str, str] = {}

        async def the_other_ask_records_first(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            made = await real_create_link(*args, **kwargs)
            vendor, other = await real_create_link(*args, **{**kwargs, "reference_id": f"{kwargs['reference_id']}:o"})
            with db.unit_of_work() as s:
                s.add(PaymentLink(loan_id=loan_id, installment_no=0, provider=vendor, link_id=other.link_id,
                                  url=other.url, amount=5000_00, purpose="PREPAYMENT", status="ACTIVE"))  # fmt: skip
            first.update(link_id=other.link_id, url=other.url)
            return made

        monkeypatch.setattr(one_off_links, "create_link", the_other_ask_records_first)
        answer = await driver.api.post(f"/api/v1/web/loans/{loan_id}/pay", json={"amount": "5000"}, headers=customer)
        assert answer.status_code == 200, answer.text
        assert answer.json()["url"] == first["url"]
        rows = _links(db, loan_id)
        (ours,) = [link for link in rows if link != first["link_id"]]
        assert rows == {first["link_id"]: "ACTIVE", ours: "CANCELLED"}
        assert (await driver.sandbox.post(f"/razorpay/pay/{ours}")).status_code == 400  # cancelled at the gateway
        assert (await driver.sandbox.post(f"/razorpay/pay/{first['link_id']}")).status_code == 200
    finally:
        await driver.close()


async def test_record_one_off_answers_only_an_active_link(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """``record_one_off`` on the real database: a link the gateway gave back that is recorded but no longer ACTIVE
    (cancelled, or paid) is never answered: the key's ACTIVE link is, or nothing; a new link made while another is
    ACTIVE is kept CANCELLED and marked to be cancelled at its gateway."""
    from db.payment_links import Offered, record_one_off
    from tests.integration.test_link_no_longer_due import _applied_loan

    loan_id = await _applied_loan(app, sandbox, brand)
    key = {"loan_id": loan_id, "amount": 5000_00, "purpose": "PREPAYMENT"}

    def add(link_id: str, status: str) -> None:
        with db.unit_of_work() as s:
            s.add(PaymentLink(installment_no=0, provider="razorpay", link_id=link_id, url=f"u-{link_id}", status=status,
                              **key))  # fmt: skip

    def record(link_id: str) -> Offered | None:
        with db.unit_of_work() as s:
            return record_one_off(s, provider="razorpay", link_id=link_id, url=f"u-{link_id}", **key)

    add("plink_gone", "CANCELLED")
    assert record("plink_gone") is None  # recorded, no longer ACTIVE, and nothing ACTIVE to answer instead
    add("plink_open", "ACTIVE")
    assert record("plink_gone") == Offered("u-plink_open", "razorpay", "plink_open")  # the ACTIVE one, nothing lost
    assert record("plink_open") == Offered("u-plink_open", "razorpay", "plink_open")
    assert record("plink_new") == Offered("u-plink_open", "razorpay", "plink_open", made_lost=True)
    assert _links(db, loan_id) == {"plink_gone": "CANCELLED", "plink_open": "ACTIVE", "plink_new": "CANCELLED"}
