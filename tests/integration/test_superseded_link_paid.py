"""A link the borrower paid just as the loan superseded it (a penal charge levied, the amount due changed): the
gateway refuses to cancel a paid link, and ``ensure_payment_link`` then makes no link for the new amount, since the
borrower would pay that too; the payment on the old link is on its way by webhook, and the loan asks again once it
is applied. A link not paid is cancelled and replaced as before. Against the real database and each gateway's
sandbox twin over HTTP (Razorpay's fetch by id, Cashfree's fetch, Paytring's order fetch)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities
from activities.storage import LocalStorage
from db.models import PaymentLink, RepaymentInstallment
from tests.integration.test_gateway_webhooks import _use_gateways
from tests.integration.test_link_no_longer_due import _applied_loan
from workflows.contracts import PaymentLinkRequest


def _links(db, loan_id: str, installment_no: int) -> dict[int, str]:  # noqa: ANN001
    """The installment's links as {amount: status} (one row per amount here)."""
    with db.unit_of_work() as s:
        rows = s.execute(
            select(PaymentLink.amount, PaymentLink.status).where(
                PaymentLink.loan_id == loan_id, PaymentLink.installment_no == installment_no
            )
        ).all()
    return {amount: status for amount, status in rows}


@pytest.mark.parametrize("primary", ["razorpay", "cashfree", "paytring"])
async def test_no_new_link_while_the_superseded_one_was_paid(
    app, brand, sandbox, db, storage_dir, renderer, primary: str
) -> None:  # noqa: ANN001
    _use_gateways(db, brand["brand_id"], primary)
    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        for number in (1, 2):
            s.add(RepaymentInstallment(loan_id=loan_id, installment_no=number, due_at=now, principal=100_00,
                                       interest=10_00, total=110_00, balance_after=100_00))  # fmt: skip
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()

    def ask(number: int, amount: int) -> PaymentLinkRequest:
        return PaymentLinkRequest(loan_id, brand["brand_id"], primary, number, amount)

    # installment 1: its link is paid, then a penal charge makes 115.00 due before the payment is applied
    old = await env.run(activities.ensure_payment_link, ask(1, 110_00))
    async with httpx.AsyncClient() as http:
        (await http.get(old)).raise_for_status()
        (await http.post(old)).raise_for_status()
    assert await env.run(activities.ensure_payment_link, ask(1, 115_00)) == ""
    assert _links(db, loan_id, 1) == {110_00: "SUPERSEDED"}  # no link for 115.00: nothing to pay twice

    # installment 2: its link is not paid, so the gateway cancels it and the new amount gets a link of its own
    unpaid = await env.run(activities.ensure_payment_link, ask(2, 110_00))
    fresh = await env.run(activities.ensure_payment_link, ask(2, 115_00))
    assert fresh.startswith("http") and fresh != unpaid
    assert _links(db, loan_id, 2) == {110_00: "SUPERSEDED", 115_00: "ACTIVE"}
    async with httpx.AsyncClient() as http:  # the superseded link takes no money any more
        refused = await http.post(unpaid)
    assert refused.status_code >= 400, refused.text
