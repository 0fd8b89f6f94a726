"""A payment link asked for before its installment was paid (or the loan ended) and reached only afterwards makes
nothing: a loan's follow-up work runs after it asks (workflows.followup), so ``ensure_payment_link`` checks the
installment and the loan first, against the real database and the sandbox's gateway over HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from temporalio.testing import ActivityEnvironment

from activities.loan import LoanActivities
from activities.storage import LocalStorage
from db.models import Loan, PaymentLink, RepaymentInstallment
from los.demo import Driver, demo_identity
from workflows.contracts import PaymentLinkRequest


async def _applied_loan(app, sandbox, brand) -> str:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(7, "auto")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        await driver.profile(headers)
        body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
        return (await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers)))["id"]
    finally:
        await driver.close()


def _links(db, loan_id: str) -> list[tuple[int, int, str]]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.execute(
            select(PaymentLink.installment_no, PaymentLink.amount, PaymentLink.status).where(
                PaymentLink.loan_id == loan_id
            )
        ).all()
        return sorted((r[0], r[1], r[2]) for r in rows)


async def test_no_link_for_a_paid_or_missing_installment_or_an_ended_loan(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=200_00, status="PAID", paid_at=now))  # fmt: skip
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=2, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=100_00))  # fmt: skip
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()

    def ask(number: int, amount: int) -> PaymentLinkRequest:
        return PaymentLinkRequest(loan_id, brand["brand_id"], "razorpay", number, amount)

    assert await env.run(activities.ensure_payment_link, ask(1, 110_00)) == ""  # paid
    assert await env.run(activities.ensure_payment_link, ask(9, 110_00)) == ""  # no such installment
    assert _links(db, loan_id) == []
    url = await env.run(activities.ensure_payment_link, ask(2, 110_00))  # still due: made at the gateway
    assert url.startswith("http")
    assert _links(db, loan_id) == [(2, 110_00, "ACTIVE")]

    with db.unit_of_work() as s:
        s.execute(update(Loan).where(Loan.id == loan_id).values(status="COMPLETED"))
    # the loan has ended: a late ask for another amount neither makes a link nor supersedes the one there
    assert await env.run(activities.ensure_payment_link, ask(2, 90_00)) == ""
    assert _links(db, loan_id) == [(2, 110_00, "ACTIVE")]


async def test_a_link_made_while_its_installment_is_paid_is_cancelled_not_offered(
    app, brand, sandbox, db, storage_dir, renderer, monkeypatch
) -> None:  # noqa: ANN001
    """The installment is still due when the activity looks, and is paid in full while the gateway is making the
    link (a payment recorded in between): the link is recorded CANCELLED, cancelled at the gateway, and not
    offered, so the borrower is never asked to pay a paid installment again."""
    import httpx

    from activities.loan import links as links_module

    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=100_00))  # fmt: skip
    real_create_link = links_module.create_link

    async def paid_during_the_call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        made = await real_create_link(*args, **kwargs)
        with db.unit_of_work() as s:  # the payment's own transaction, committed before the link's
            s.execute(
                update(RepaymentInstallment)
                .where(RepaymentInstallment.loan_id == loan_id, RepaymentInstallment.installment_no == 1)
                .values(status="PAID", paid_at=now, principal_paid=100_00, interest_paid=10_00)
            )
        return made

    monkeypatch.setattr(links_module, "create_link", paid_during_the_call)
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    request = PaymentLinkRequest(loan_id, brand["brand_id"], "razorpay", 1, 110_00)
    assert await ActivityEnvironment().run(activities.ensure_payment_link, request) == ""
    assert _links(db, loan_id) == [(1, 110_00, "CANCELLED")]
    with db.unit_of_work() as s:
        link_id = s.scalars(select(PaymentLink.link_id).where(PaymentLink.loan_id == loan_id)).one()
    async with httpx.AsyncClient(base_url=sandbox.url) as http:  # the gateway refuses to take money on it
        paid = await http.post(f"/razorpay/pay/{link_id}")
    assert paid.status_code == 400 and "cancelled" in paid.text

    # asked again (the loan's next pass): the installment is paid, so nothing is made and the row stays as it is
    monkeypatch.setattr(links_module, "create_link", real_create_link)
    assert await ActivityEnvironment().run(activities.ensure_payment_link, request) == ""
    assert _links(db, loan_id) == [(1, 110_00, "CANCELLED")]


async def test_an_amount_due_again_gets_a_new_link_beside_its_cancelled_one(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    """110.00 due, then 120.00 (a penal charge), then 110.00 again (a part-payment): the first link was superseded
    and cancelled at the gateway, so the amount due again gets a new link, one the gateway takes money on, recorded
    as a row of its own; the old row stays, so a late payment on the old link still finds its loan. Asking once more
    answers the same new link, and each time an amount comes back it gets a link of its own."""
    import httpx

    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=100_00))  # fmt: skip
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()

    def ask(amount: int) -> PaymentLinkRequest:
        return PaymentLinkRequest(loan_id, brand["brand_id"], "razorpay", 1, amount)

    def links_of(amount: int) -> dict[str, str]:
        with db.unit_of_work() as s:
            rows = s.execute(
                select(PaymentLink.link_id, PaymentLink.status).where(
                    PaymentLink.loan_id == loan_id, PaymentLink.amount == amount
                )
            ).all()
            return {r[0]: r[1] for r in rows}

    first_url = await env.run(activities.ensure_payment_link, ask(110_00))
    (first,) = links_of(110_00)
    assert await env.run(activities.ensure_payment_link, ask(120_00))
    assert _links(db, loan_id) == [(1, 110_00, "SUPERSEDED"), (1, 120_00, "ACTIVE")]

    again_url = await env.run(activities.ensure_payment_link, ask(110_00))
    (again,) = [link for link, status in links_of(110_00).items() if status == "ACTIVE"]
    assert again != first and again_url != first_url
    assert links_of(110_00) == {first: "SUPERSEDED", again: "ACTIVE"}  # the old row kept beside the new one
    assert _links(db, loan_id) == [(1, 110_00, "ACTIVE"), (1, 110_00, "SUPERSEDED"), (1, 120_00, "SUPERSEDED")]
    assert await env.run(activities.ensure_payment_link, ask(110_00)) == again_url  # the same link, not a third

    # round again: 120.00 and then 110.00 each come back once more, each with a link of its own
    assert await env.run(activities.ensure_payment_link, ask(120_00)) not in ("", first_url, again_url)
    third_url = await env.run(activities.ensure_payment_link, ask(110_00))
    assert third_url not in ("", first_url, again_url)
    (third,) = [link for link, status in links_of(110_00).items() if status == "ACTIVE"]
    assert links_of(110_00) == {first: "SUPERSEDED", again: "SUPERSEDED", third: "ACTIVE"}
    assert sorted(links_of(120_00).values()) == ["SUPERSEDED", "SUPERSEDED"]
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        for old in (first, again):
            assert (await http.post(f"/razorpay/pay/{old}")).status_code == 400  # cancelled at the gateway
        assert (await http.post(f"/razorpay/pay/{third}")).status_code == 200  # the one offered takes money


async def test_a_new_settlement_replaces_a_lapsed_ones_link(app, brand, sandbox, db, storage_dir, renderer) -> None:  # noqa: ANN001
    """A settlement lapsed unpaid and a second one is approved for the same amount: its link is recorded (the
    lapsed one's link, still ACTIVE, no longer keeps it out) and the lapsed one's is superseded and cancelled at the
    gateway, so only the open settlement's link takes money; asking again gives the same link, one row."""
    import httpx

    from workflows.contracts import SettlementLinkRequest

    loan_id = await _applied_loan(app, sandbox, brand)
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()

    def settlement_links() -> dict[str, str]:
        with db.unit_of_work() as s:
            rows = s.execute(
                select(PaymentLink.link_id, PaymentLink.status).where(
                    PaymentLink.loan_id == loan_id, PaymentLink.purpose == "SETTLEMENT"
                )
            ).all()
            return {r[0]: r[1] for r in rows}

    env.info = replace(env.info, scheduled_time=datetime.now(UTC))  # as the workflow scheduled it
    await env.run(activities.settlement_link, SettlementLinkRequest(loan_id, "settlement-1", 300_00))
    (lapsed,) = settlement_links()
    second = SettlementLinkRequest(loan_id, "settlement-2", 300_00)
    env.info = replace(env.info, scheduled_time=datetime.now(UTC))  # the second settlement's, later
    url = await env.run(activities.settlement_link, second)
    (new,) = [link for link in settlement_links() if link != lapsed]
    assert settlement_links() == {lapsed: "SUPERSEDED", new: "ACTIVE"}
    assert await env.run(activities.settlement_link, second) == url  # a retry: the same link, nothing more
    assert settlement_links() == {lapsed: "SUPERSEDED", new: "ACTIVE"}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        assert (await http.post(f"/razorpay/pay/{lapsed}")).status_code == 400  # cancelled at the gateway
        assert (await http.post(f"/razorpay/pay/{new}")).status_code == 200


async def test_overlapping_attempts_keep_the_link_recorded_first_and_cancel_the_other(
    app, brand, sandbox, db, storage_dir, renderer, monkeypatch
) -> None:  # noqa: ANN001
    """Two attempts of one link activity overlap (the first timed out while its gateway call still ran) and each
    makes a link for the same amount. The one recorded first stays the loan's ACTIVE link and is what the later
    attempt answers; the later attempt's link is recorded CANCELLED (a payment made on it anyway still finds its
    loan) and cancelled at the gateway, so only one link takes money."""
    import httpx

    from activities.loan import links as links_module

    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=100_00))  # fmt: skip
    real_create_link = links_module.create_link
    first: dict[str, str] = {}

    async def another_attempt_records_first(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        made = await real_create_link(*args, **kwargs)
        # the overlapping attempt: its own link for the same amount (as one that failed over would make), recorded
        # while this attempt's gateway call was still out
        vendor, other = await real_create_link(*args, **{**kwargs, "reference_id": f"{kwargs['reference_id']}:o"})
        with db.unit_of_work() as s:
            s.add(PaymentLink(loan_id=loan_id, installment_no=1, provider=vendor, link_id=other.link_id,
                              url=other.url, amount=110_00, purpose="INSTALLMENT", status="ACTIVE"))  # fmt: skip
        first.update(link_id=other.link_id, url=other.url)
        return made

    monkeypatch.setattr(links_module, "create_link", another_attempt_records_first)
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    request = PaymentLinkRequest(loan_id, brand["brand_id"], "razorpay", 1, 110_00)
    assert await ActivityEnvironment().run(activities.ensure_payment_link, request) == first["url"]
    with db.unit_of_work() as s:
        found = s.execute(select(PaymentLink.link_id, PaymentLink.status).where(PaymentLink.loan_id == loan_id))
        rows = {r[0]: r[1] for r in found}
    (later,) = [link for link in rows if link != first["link_id"]]
    assert rows == {first["link_id"]: "ACTIVE", later: "CANCELLED"}  # both kept: either payment finds its loan

    # asked again (the loan's next pass): the ACTIVE link is answered, nothing new is made
    monkeypatch.setattr(links_module, "create_link", real_create_link)
    assert await ActivityEnvironment().run(activities.ensure_payment_link, request) == first["url"]
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).where(PaymentLink.loan_id == loan_id)) == 2
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        assert (await http.post(f"/razorpay/pay/{later}")).status_code == 400  # cancelled at the gateway
        assert (await http.post(f"/razorpay/pay/{first['link_id']}")).status_code == 200


async def test_a_link_made_before_a_crash_is_found_at_the_gateway_not_refused(
    app, brand, sandbox, db, storage_dir, renderer
) -> None:  # noqa: ANN001
    """The gateway made the installment's link and the worker died before recording it: the retried activity sends
    the same reference, Razorpay refuses a reference already used (the sandbox as Razorpay), and the adapter finds
    the link by that reference and records it, so the borrower gets the link made the first time, not a refusal."""
    from activities.loan.links import link_reference
    from activities.providers.payments.links import create_link, webhook_url
    from db.models import Brand

    loan_id = await _applied_loan(app, sandbox, brand)
    now = datetime.now(UTC)
    with db.unit_of_work() as s:
        s.add(RepaymentInstallment(loan_id=loan_id, installment_no=1, due_at=now, principal=100_00, interest=10_00,
                                   total=110_00, balance_after=100_00))  # fmt: skip
        config = s.get_one(Brand, brand["brand_id"]).config
    vendor, made = await create_link(  # the first attempt, lost after the gateway answered
        config, app.http, amount=110_00, reference_id=link_reference(loan_id, 1, 110_00, []), description="EMI 1",
        phone="9876543210", notes={"loan_id": loan_id, "installment_no": 1, "purpose": "INSTALLMENT"},
        callback_url=webhook_url(app.settings.api_url, brand["brand_id"]),
    )  # fmt: skip
    assert vendor == "razorpay" and _links(db, loan_id) == []

    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    request = PaymentLinkRequest(loan_id, brand["brand_id"], "razorpay", 1, 110_00)
    assert await ActivityEnvironment().run(activities.ensure_payment_link, request) == made.url
    assert _links(db, loan_id) == [(1, 110_00, "ACTIVE")]


async def test_overlapping_attempts_of_a_settlement_link_keep_the_link_recorded_first(
    app, brand, sandbox, db, storage_dir, renderer, monkeypatch
) -> None:  # noqa: ANN001
    """A new settlement's link supersedes a lapsed settlement's link, but not a link another attempt of the same
    activity recorded (it is newer than the activity's first scheduling): that one was answered to the workflow, so it
    stays ACTIVE and is answered again; this attempt's own link is recorded CANCELLED and cancelled at the gateway."""
    import httpx

    from activities.loan import links as links_module
    from workflows.contracts import SettlementLinkRequest

    loan_id = await _applied_loan(app, sandbox, brand)
    activities = LoanActivities(db, app.http, LocalStorage(storage_dir), renderer, app.settings.api_url)
    env = ActivityEnvironment()
    env.info = replace(env.info, scheduled_time=datetime.now(UTC))
    await env.run(activities.settlement_link, SettlementLinkRequest(loan_id, "settlement-1", 300_00))
    with db.unit_of_work() as s:
        (lapsed,) = s.scalars(select(PaymentLink.link_id).where(PaymentLink.loan_id == loan_id)).all()

    env.info = replace(env.info, scheduled_time=datetime.now(UTC))  # the second settlement's activity
    real_create_link = links_module.create_link
    first: dict[str, str] = {}

    async def another_attempt_records_first(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        made = await real_create_link(*args, **kwargs)
        vendor, other = await real_create_link(*args, **{**kwargs, "reference_id": f"{kwargs['reference_id']}:o"})
        with db.unit_of_work() as s:  # the other attempt's row, recorded while this one's gateway call was out
            s.execute(
                update(PaymentLink)
                .where(PaymentLink.link_id == lapsed)
                .values(status="SUPERSEDED")  # as that attempt superseded the lapsed link
            )
            s.add(PaymentLink(loan_id=loan_id, installment_no=0, provider=vendor, link_id=other.link_id,
                              url=other.url, amount=300_00, purpose="SETTLEMENT", status="ACTIVE"))  # fmt: skip
        first.update(link_id=other.link_id, url=other.url)
        return made

    monkeypatch.setattr(links_module, "create_link", another_attempt_records_first)
    url = await env.run(activities.settlement_link, SettlementLinkRequest(loan_id, "settlement-2", 300_00))
    assert url == first["url"]
    with db.unit_of_work() as s:
        found = s.execute(select(PaymentLink.link_id, PaymentLink.status).where(PaymentLink.loan_id == loan_id))
        rows = {r[0]: r[1] for r in found}
    (ours,) = [link for link in rows if link not in (lapsed, first["link_id"])]
    assert rows == {lapsed: "SUPERSEDED", first["link_id"]: "ACTIVE", ours: "CANCELLED"}
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        assert (await http.post(f"/razorpay/pay/{ours}")).status_code == 400  # cancelled at the gateway
        assert (await http.post(f"/razorpay/pay/{first['link_id']}")).status_code == 200
