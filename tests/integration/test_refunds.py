"""Refunds of a credit balance over the public API, against the sandbox bank and the real worker: a loan repaid to
COMPLETED and paid again by UPI afterwards (a signed Razorpay webhook: the money is kept as credit balance) is
refunded by a maker and a checker; the maker cannot approve their own request; the sandbox bank shows one transfer
to the verified account; the refund ends PROCESSED with the bank's UTR, the credit balance at 0 and the ledger
balanced; recording the outcome again changes nothing; more than the balance is 409; bad input is 422 naming the
field; another brand's staff get 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select

from api.partner.refunds import RefundQueueStatus, RefundStatus
from db.models import BankAccount, LedgerEntry, LedgerTransaction, Loan, Refund, StaffNotification
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.conftest import App, ThreadedServer, eventually, free_port
from tests.integration.test_staff_and_webhooks import _payment_event, _signed
from tests.integration.test_webhooks_documented import _disbursed
from workflows.refund import PROCESSED, RefundOutcome

MAKER, CHECKER = "ADMIN", "COLLECTION_MANAGER"  # an admin may both ask and approve: maker-checker still applies
LATE = 123_45  # paise paid again after the loan closed


@pytest_asyncio.fixture
async def app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator[App]:  # noqa: ANN001
    """The API and a worker registered as ``worker.run_worker`` registers it (the refund workflow, its activities
    and the messaging activities included), on a task queue of its own."""
    from temporalio.worker import Worker

    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from activities.messaging import MessagingActivities
    from activities.refunds import RefundActivities
    from activities.storage import LocalStorage
    from api.app import create_app
    from los.settings import Settings
    from worker import WORKFLOWS

    queue, port = f"test-{uuid.uuid4().hex[:8]}", free_port()
    target = dev_env.client.service_client.config.target_host
    settings = Settings(
        database_url=database_url, temporal_address=target, task_queue=queue, api_port=port, storage_dir=storage_dir
    )
    async with httpx.AsyncClient(timeout=30) as http:
        args = (db, http, LocalStorage(storage_dir), renderer, settings.api_url, settings.field_key())
        kyc = KycActivities(db, http, LocalStorage(storage_dir), settings.api_url, settings.field_key())
        activities = LoanActivities(*args).all() + kyc.all() + MessagingActivities(db, http).all()
        activities += RefundActivities(*args).all()
        with ThreadedServer(create_app(settings), port=port) as api:
            async with Worker(dev_env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities):
                yield App(api, dev_env.client, queue, settings, http)


def base(driver: Driver) -> str:
    return f"/api/v1/partner/brand/{driver._brand_id}"


async def _post(driver: Driver, role: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return await driver.api.post(f"{base(driver)}{path}", json=body or {}, headers=await driver.staff_headers(role))


async def _get(driver: Driver, role: str, path: str) -> httpx.Response:
    return await driver.api.get(f"{base(driver)}{path}", headers=await driver.staff_headers(role))


async def _overpaid(app: App, driver: Driver, brand: dict) -> str:
    """A loan repaid to COMPLETED, then paid ₹123.45 again by UPI (kept as its credit balance): its id."""
    journey = await driver.journey(*demo_identity(1, "auto"), amount=30_000, tenure=2)
    assert journey.status == "COMPLETED"
    late = _payment_event(journey.loan_id, f"pay_{uuid.uuid4().hex[:10]}", LATE)
    body, headers = _signed("razorpay", late)
    async with httpx.AsyncClient() as http:
        resp = await http.post(
            f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay", content=body, headers=headers
        )
    assert resp.status_code == 200 and resp.json()["status"] == "recorded_as_credit_balance", resp.text
    return journey.loan_id


def _ledger(db, loan_id: str) -> tuple[list[int], int, int]:  # noqa: ANN001
    """Per transaction the sum of its entries, the CUSTOMER_CREDIT_BALANCE balance, the number of REFUND postings."""
    with db.unit_of_work() as s:
        sums = s.execute(
            select(func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan_id)
            .group_by(LedgerEntry.transaction_id)
        ).scalars()
        credit = s.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan_id, LedgerEntry.account == "CUSTOMER_CREDIT_BALANCE")
        )
        refunds = s.scalar(
            select(func.count()).where(LedgerTransaction.loan_id == loan_id, LedgerTransaction.kind == "REFUND")
        )
        return [int(x) for x in sums], int(credit or 0), int(refunds or 0)


async def test_a_credit_balance_is_refunded_after_maker_checker_to_the_verified_account(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other_code = f"t{uuid.uuid4().hex[:8]}"
    seed_brand(db, sandbox.url, code=other_code, name=f"Test {other_code}", period_seconds=2)
    other = Driver(app.api.url, sandbox.url, other_code)
    try:
        loan_id = await _overpaid(app, driver, brand)
        before = (await _get(driver, CHECKER, f"/loans/{loan_id}/refunds")).json()
        assert (before["creditBalancePaise"], before["refundablePaise"], before["refunds"]) == (LATE, LATE, [])

        # bad input: 422 naming the field; more than the balance: 409 naming amount; nothing written
        for body, field in (({"amount": 12.5, "reason": "x"}, "amount"), ({"amount": "1.00"}, "reason")):
            r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", body)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
        r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"amount": "123.46", "reason": "paid twice"})
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "amount", r.text
        assert "₹123.46 is more than the refundable ₹" in r.json()["message"], r.text  # rupees, as it was asked
        with db.unit_of_work() as s:
            assert s.scalars(select(Refund).where(Refund.loan_id == loan_id)).all() == []

        # the maker asks for the whole balance (the default); it is then no longer refundable
        r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"reason": "paid twice by UPI"})
        assert r.status_code == 201, r.text
        refund = r.json()
        assert (refund["amountPaise"], refund["status"]) == (LATE, "PENDING_APPROVAL")
        again = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"amount": "0.01", "reason": "again"})
        assert again.status_code == 409, again.text
        again = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"reason": "again, the whole balance"})
        assert again.status_code == 409 and "all in refunds still open" in again.json()["message"], again.text
        queue = (await _get(driver, CHECKER, "/refunds")).json()
        assert [i["id"] for i in queue["items"]] == [refund["id"]] and queue["total"] == 1
        assert [i["id"] for i in (await _get(driver, CHECKER, "/refunds?status=ALL")).json()["items"]] == [refund["id"]]
        assert (await _get(driver, CHECKER, "/refunds?status=PROCESSED")).json()["items"] == []
        bad = await _get(driver, CHECKER, "/refunds?status=DONE")
        assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["status"], bad.text
        assert set(RefundQueueStatus) - {RefundQueueStatus.ALL} == set(RefundStatus)  # every status, and ALL

        # another brand's staff: 404 wherever they look or act
        headers = await other.staff_headers("ADMIN")
        for prefix in (base(driver), base(other)):
            for path in (f"/refunds/{refund['id']}/approve", f"/loans/{loan_id}/refunds"):
                r = await other.api.post(f"{prefix}{path}", json={"reason": "x"}, headers=headers)
                assert r.status_code == 404, (prefix, path, r.text)
            r = await other.api.get(f"{prefix}/loans/{loan_id}/refunds", headers=headers)
            assert r.status_code == 404, r.text
        assert (await other.api.get(f"{base(other)}/refunds", headers=headers)).json()["items"] == []

        # the maker cannot approve it (403, explained); another staff member does
        r = await _post(driver, MAKER, f"/refunds/{refund['id']}/approve")
        assert r.status_code == 403 and "maker-checker" in r.text, r.text
        r = await _post(driver, CHECKER, f"/refunds/{refund['id']}/approve")
        assert r.status_code == 200 and r.json()["status"] in ("APPROVED", "SENT", "PROCESSED"), r.text

        def processed() -> Refund | None:
            with db.unit_of_work() as s:
                row = s.get_one(Refund, refund["id"])
                return row if row.status == PROCESSED else None

        row = await eventually(processed, timeout=60)
        assert row.utr and row.transfer_id == f"refund-{refund['id']}" and row.provider
        with db.unit_of_work() as s:
            loan = s.get_one(Loan, loan_id)
            account = s.scalars(
                select(BankAccount).where(BankAccount.customer_id == loan.customer_id, BankAccount.is_primary)
            ).one()
        assert account.penny_drop_status == "VERIFIED" and row.account_last4 == account.account_last4

        # the bank took exactly one transfer of the refund's amount, to that account, settled with the same UTR
        async with httpx.AsyncClient() as http:
            sent = (await http.get(f"{sandbox.url}/_transfers", params={"loan_id": loan_id})).json()
        refunds_sent = [t for t in sent if t["amount"] == LATE]
        assert len(refunds_sent) == 1, sent
        assert refunds_sent[0]["account"] == "XXXX" + account.account_last4 and refunds_sent[0]["utr"] == row.utr

        view = (await _get(driver, CHECKER, f"/loans/{loan_id}/refunds")).json()
        assert (view["creditBalancePaise"], view["refundablePaise"]) == (0, 0)
        assert view["refunds"][0]["status"] == "PROCESSED" and view["refunds"][0]["utr"] == row.utr
        sums, credit, postings = _ledger(db, loan_id)
        assert sums and all(total == 0 for total in sums) and sum(sums) == 0
        assert (credit, postings) == (0, 1)

        # the outcome recorded again (a retried activity): nothing changes, nothing posted twice
        from activities.refunds import RefundActivities

        async with httpx.AsyncClient() as http:
            acts = RefundActivities(db, http, None, None, app.settings.api_url, app.settings.field_key())  # type: ignore[arg-type]
            assert await acts.record_refund(RefundOutcome(refund["id"], PROCESSED, "OTHERUTR0000001")) is False
        with db.unit_of_work() as s:
            assert s.get_one(Refund, refund["id"]).utr == row.utr
        assert _ledger(db, loan_id)[1:] == (0, 1)
        r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"reason": "nothing left"})
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "amount", r.text
    finally:
        await driver.close()
        await other.close()


async def test_a_refused_status_check_of_a_refund_sent_before_never_fails_it(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The refund's transfer request times out (its answer lost: the row is SENT); the retry asks the bank's status
    API, which refuses the request twice (HTTP 403, as after a key rotation). That says nothing of the transfer: the
    send is retried until the bank answers (here: it never got it, so the same reference is sent again), and the
    refund ends PROCESSED with one transfer at the bank. Before, the refusal answered the refund FAILED, freeing its
    amount for a second refund while the first might have been paid."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    faults = (
        {"vendor": "idfc", "mode": "timeout", "times": 1, "path": "/idfc/v1/payouts", "method": "POST"},
        {"vendor": "idfc", "mode": "403", "times": 2, "path": "/idfc/v1/payouts", "method": "GET"},
    )
    try:
        loan_id = await _overpaid(app, driver, brand)
        r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"reason": "paid twice by UPI"})
        assert r.status_code == 201, r.text
        refund = r.json()
        async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
            for fault in faults:
                (await sbx.post("/_faults", json=fault)).raise_for_status()
            try:
                r = await _post(driver, CHECKER, f"/refunds/{refund['id']}/approve")
                assert r.status_code == 200, r.text

                def settled() -> Refund | None:
                    with db.unit_of_work() as s:
                        row = s.get_one(Refund, refund["id"])
                        return row if row.status in (PROCESSED, "FAILED") else None

                row = await eventually(settled, timeout=120)
                assert (row.status, row.failure_reason) == (PROCESSED, None)
                assert [f for f in (await sbx.get("/_faults")).json() if f["vendor"] == "idfc"] == []  # all met
                sent = (await sbx.get("/_transfers", params={"loan_id": loan_id})).json()
            finally:
                await sbx.delete("/_faults", params={"vendor": "idfc"})
        assert [t["utr"] for t in sent if t["amount"] == LATE] == [row.utr]  # one transfer, the one recorded
        assert _ledger(db, loan_id)[1:] == (0, 1)
        # it took a person (the bank's keys): the brand's admins and the refund's checker were told, once each
        with db.unit_of_work() as s:
            told = s.execute(
                select(StaffNotification.staff_id, StaffNotification.title, StaffNotification.meta).where(
                    StaffNotification.idempotency_key.like(f"refund-unknown:{refund['id']}:%")
                )
            ).all()
            checker = row.decided_by
        assert checker in {str(t[0]) for t in told} and len(told) == len({t[0] for t in told}) >= 2, told
        assert all(t[1].startswith("Refund waiting") and t[2]["refundId"] == refund["id"] for t in told)
    finally:
        await driver.close()


async def test_an_overpaid_loan_completes_once_its_credit_balance_is_refunded(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """A running loan paid ₹35,000 at once (no stated purpose: a foreclosure) keeps the rest as credit balance in
    OVERPAID; once the refund is PROCESSED the loan's workflow is signalled and the loan ends COMPLETED."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan_id = await _disbursed(driver)
        pay = _payment_event(loan_id, f"pay_{uuid.uuid4().hex[:10]}", 35_000_00)
        body, hook_headers = _signed("razorpay", pay)
        async with httpx.AsyncClient() as http:
            hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay"
            resp = await http.post(hook, content=body, headers=hook_headers)
        assert resp.status_code == 200 and resp.json()["status"] == "delivered", resp.text

        async def overpaid() -> dict | None:
            loan = await driver.loan(headers, loan_id)
            return loan if loan["status"] == "OVERPAID" else None

        await eventually(overpaid, timeout=60)
        credit = (await _get(driver, CHECKER, f"/loans/{loan_id}/refunds")).json()["creditBalancePaise"]
        assert 0 < credit < 35_000_00 - 25_000_00 + 1

        r = await _post(driver, MAKER, f"/loans/{loan_id}/refunds", {"reason": "foreclosed with more than due"})
        assert r.status_code == 201 and r.json()["amountPaise"] == credit, r.text
        r = await _post(driver, CHECKER, f"/refunds/{r.json()['id']}/approve")
        assert r.status_code == 200, r.text

        async def completed() -> dict | None:
            loan = await driver.loan(headers, loan_id)
            return loan if loan["status"] == "COMPLETED" else None

        await eventually(completed, timeout=90)
        with db.unit_of_work() as s:
            row = s.scalars(select(Refund).where(Refund.loan_id == loan_id)).one()
            assert row.status == PROCESSED and row.utr
        sums, balance, postings = _ledger(db, loan_id)
        assert all(total == 0 for total in sums) and (balance, postings) == (0, 1)
    finally:
        await driver.close()
