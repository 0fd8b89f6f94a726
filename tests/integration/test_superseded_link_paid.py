"""A link the borrower paid just as the loan superseded it (a penal charge levied, the amount due changed): the
gateway refuses to cancel a paid link, and ``ensure_payment_link`` then makes no link for the new amount while the
loan has not recorded that payment, since the borrower would pay the new amount too. The paid link is HELD: each
later ask weighs it again (still in flight, its payment recorded, or its 24-hour window over), and an attempt that
fails between asking the gateway and writing changes nothing. A paid link whose payment the loan has recorded
already (Razorpay's ``payment.captured`` names no link, so its row stays ACTIVE), a link not paid, and a gateway that
will not cancel an unpaid link each give the new amount its link at once. Against the real database and each
gateway's sandbox twin over HTTP (Razorpay's fetch by id, Cashfree's link fetch, Paytring's order fetch)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities, link_holds
from activities.loan import links as links_module
from activities.storage import LocalStorage
from db.models import PaymentLink, PaymentTransaction, RepaymentInstallment
from tests.integration.test_gateway_webhooks import _use_gateways
from tests.integration.test_link_no_longer_due import _applied_loan
from workflows.contracts import PaymentLinkRequest

#: where the links' webhooks go in this test: nowhere (the loan never hears of the payment by itself)
NOWHERE = "http://127.0.0.1:9"


def _links(db, loan_id: str, installment_no: int) -> list[tuple[int, str]]:  # noqa: ANN001
    """The installment's links as sorted (amount, status) pairs."""
    with db.unit_of_work() as s:
        rows = s.execute(
            select(PaymentLink.amount, PaymentLink.status).where(
                PaymentLink.loan_id == loan_id, PaymentLink.installment_no == installment_no
            )
        ).all()
    return sorted((amount, status) for amount, status in rows)


async def _pay(url: str) -> None:
    """The borrower opens the link at the gateway and pays it in full."""
    async with httpx.AsyncClient() as http:
        (await http.get(url)).raise_for_status()
        (await http.post(url)).raise_for_status()


@pytest.mark.parametrize("primary", ["razorpay", "cashfree", "paytring"])
async def test_no_new_link_while_the_superseded_one_was_paid(
    app, brand, sandbox, db, storage_dir, renderer, monkeypatch, caplog, primary: str
) -> None:  # noqa: ANN001
    _use_gateways(db, brand["brand_id"], primary)
    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        for number in range(1, 8):
            s.add(RepaymentInstallment(loan_id=loan_id, installment_no=number, due_at=now, principal=100_00,
                                       interest=10_00, total=110_00, balance_after=100_00))  # fmt: skip
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, NOWHERE)
    env = ActivityEnvironment()

    def ask(number: int, amount: int) -> PaymentLinkRequest:
        return PaymentLinkRequest(loan_id, brand["brand_id"], primary, number, amount)

    def recorded(number: int, amount: int, **parts: int) -> None:
        """The loan records a payment from this gateway (by Razorpay's payment.captured, naming no link)."""
        with db.unit_of_work() as s:
            s.add(PaymentTransaction(loan_id=loan_id, gateway=primary, gateway_payment_id=f"pay_{loan_id[:8]}_{number}",
                                     amount=amount, **parts))  # fmt: skip

    # 1: its link is paid, then a penal charge makes 115.00 due before the payment reaches the loan: no link, and
    # the paid link HELD. What the loan recorded at another gateway, or before the link was made, is not that payment.
    await _pay(await env.run(activities.ensure_payment_link, ask(1, 110_00)))
    other = "cashfree" if primary != "cashfree" else "razorpay"
    with db.unit_of_work() as s:
        s.add(PaymentTransaction(loan_id=loan_id, gateway=other, gateway_payment_id=f"pay_{loan_id[:8]}_other",
                                 amount=110_00, excess_part=110_00))  # fmt: skip
        s.add(PaymentTransaction(loan_id=loan_id, gateway=primary, gateway_payment_id=f"pay_{loan_id[:8]}_before",
                                 amount=110_00, excess_part=110_00, collected_at=now - timedelta(hours=1)))  # fmt: skip
    assert await env.run(activities.ensure_payment_link, ask(1, 115_00)) == ""
    assert _links(db, loan_id, 1) == [(110_00, "HELD")]  # nothing to pay twice
    assert await env.run(activities.ensure_payment_link, ask(1, 115_00)) == ""  # asked again: still held
    assert _links(db, loan_id, 1) == [(110_00, "HELD")]
    # the payment reaches the loan and pays all but the penal charge: the held link is PAID, the charge gets a link
    recorded(1, 110_00, interest_part=10_00, principal_part=95_00, penal_part=5_00)
    assert (await env.run(activities.ensure_payment_link, ask(1, 5_00))).startswith("http")
    assert _links(db, loan_id, 1) == [(5_00, "ACTIVE"), (110_00, "PAID")]

    # 2: its link is paid and the loan recorded that payment before it asked (its row still ACTIVE): what is left gets
    # its link at once
    await _pay(await env.run(activities.ensure_payment_link, ask(2, 110_00)))
    recorded(2, 110_00, interest_part=10_00, principal_part=100_00)
    assert (await env.run(activities.ensure_payment_link, ask(2, 5_00))).startswith("http")
    assert _links(db, loan_id, 2) == [(5_00, "ACTIVE"), (110_00, "PAID")]

    # 3: its link is not paid: the gateway cancels it and the new amount gets a link of its own
    unpaid = await env.run(activities.ensure_payment_link, ask(3, 110_00))
    fresh = await env.run(activities.ensure_payment_link, ask(3, 115_00))
    assert fresh.startswith("http") and fresh != unpaid
    assert _links(db, loan_id, 3) == [(110_00, "SUPERSEDED"), (115_00, "ACTIVE")]
    async with httpx.AsyncClient() as http:  # the superseded link takes no money any more
        refused = await http.post(unpaid)
    assert refused.status_code >= 400, refused.text

    # 4: the gateway does not cancel (down for that call) a link that is not paid: the new amount gets its link
    await env.run(activities.ensure_payment_link, ask(4, 110_00))

    async def not_cancelled(*args, **kwargs) -> bool:  # noqa: ANN002, ANN003
        return False

    monkeypatch.setattr(links_module, "cancel_link", not_cancelled)
    assert (await env.run(activities.ensure_payment_link, ask(4, 115_00))).startswith("http")
    assert _links(db, loan_id, 4) == [(110_00, "SUPERSEDED"), (115_00, "ACTIVE")]
    monkeypatch.undo()

    # 4b: a paid link whose gateway cannot say what it took (down): replaced, as before holds
    await _pay(await env.run(activities.ensure_payment_link, ask(4, 120_00)))

    async def unreadable(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        return None  # the gateway does not answer

    monkeypatch.setattr(links_module, "link_amount_paid", unreadable)
    assert (await env.run(activities.ensure_payment_link, ask(4, 125_00))).startswith("http")
    assert _links(db, loan_id, 4) == [(110_00, "SUPERSEDED"), (115_00, "SUPERSEDED"), (120_00, "SUPERSEDED"),
                                      (125_00, "ACTIVE")]  # fmt: skip
    monkeypatch.undo()

    # 5: a paid link whose payment never reaches the loan holds its successor back for the gateways' webhook retry
    # window (24 hours from when it was first held); the first ask after it makes the successor
    await _pay(await env.run(activities.ensure_payment_link, ask(5, 110_00)))
    assert await env.run(activities.ensure_payment_link, ask(5, 115_00)) == ""
    _age_hold(db, loan_id, 5, link_holds.HOLD_WINDOW - timedelta(minutes=1))
    assert await env.run(activities.ensure_payment_link, ask(5, 115_00)) == ""  # still inside the window
    _age_hold(db, loan_id, 5, timedelta(minutes=2))
    with caplog.at_level(logging.WARNING):
        assert (await env.run(activities.ensure_payment_link, ask(5, 115_00))).startswith("http")
    assert _links(db, loan_id, 5) == [(110_00, "SUPERSEDED"), (115_00, "ACTIVE")]
    assert "reconcile the payment" in caplog.text  # the payment the gateway took and the loan never received

    # 6: the amount due comes back to the held link's (the penal charge waived): still held, nothing offered
    await _pay(await env.run(activities.ensure_payment_link, ask(6, 110_00)))
    assert await env.run(activities.ensure_payment_link, ask(6, 115_00)) == ""
    assert await env.run(activities.ensure_payment_link, ask(6, 110_00)) == ""
    assert _links(db, loan_id, 6) == [(110_00, "HELD")]

    monkeypatch.setattr(links_module, "link_amount_paid", unreadable)  # a held link was paid: it stays held
    assert await env.run(activities.ensure_payment_link, ask(6, 115_00)) == ""
    assert _links(db, loan_id, 6) == [(110_00, "HELD")]
    monkeypatch.undo()

    # 7: an attempt that fails after asking the gateway changes no link; its retry holds
    await _pay(await env.run(activities.ensure_payment_link, ask(7, 110_00)))

    def broken(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        raise RuntimeError("the database went away")

    monkeypatch.setattr(link_holds, "settle_links", broken)
    with pytest.raises(RuntimeError):
        await env.run(activities.ensure_payment_link, ask(7, 115_00))
    assert _links(db, loan_id, 7) == [(110_00, "ACTIVE")]
    monkeypatch.undo()
    assert await env.run(activities.ensure_payment_link, ask(7, 115_00)) == ""
    assert _links(db, loan_id, 7) == [(110_00, "HELD")]


def _age_hold(db, loan_id: str, installment_no: int, by: timedelta) -> None:  # noqa: ANN001
    """Move the installment's hold ``by`` into the past (as if it began that much earlier)."""
    with db.unit_of_work() as s:
        s.execute(
            update(PaymentLink)
            .where(PaymentLink.loan_id == loan_id, PaymentLink.installment_no == installment_no,
                   PaymentLink.held_since.is_not(None))
            .values(held_since=PaymentLink.held_since - by)
        )  # fmt: skip
