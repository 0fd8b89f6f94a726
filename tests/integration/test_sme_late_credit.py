"""Two gaps of a financed invoice's collection, over the real stack (API, worker, Temporal dev server, PostgreSQL,
the sandbox's Razorpay Smart Collect twin and banks over HTTP):

- a credit that arrives while the invoice is being settled (PAID, its reserve release at the bank) is counted once:
  applied to the dues left (none: it was paid in full), the rest kept as the business's credit balance; one that
  arrives after it closed is counted by the webhook itself, once; neither is ever dropped;
- opening the virtual account when Razorpay's answer to the create call is lost (it takes no idempotency key):
  the retry finds the account by the request id in its notes and reuses it, never opening a second.

``LOS_RECORD_HISTORIES=1`` saves the settled-with-a-late-credit run for the replay suite (``invoice_late_credit_*``).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from typing import Any

import httpx

from activities.providers import signing
from los.demo_sme import SmeDriver, business_pan, make_gstin
from los.seed import SANDBOX_SECRET
from sandbox.sme.collect import credited_event
from tests.conftest import record_histories
from tests.integration.test_sme_api import driving, sme_app  # noqa: F401  (the fixture)
from tests.integration.test_sme_collect import INVOICE, _collected, _funded, _va_id

LATE = 1_000_00  # ₹1,000 more than the invoice, after it was paid in full


async def _funded_slow(sme: SmeDriver, phone: str) -> tuple[dict[str, str], dict[str, Any]]:
    """As ``_funded``, but the seller's bank loses its transfer callbacks (account ``1111…``): each transfer is
    settled by the bank's status API after the workflow's first 5 s wait, so the request stays PAID that long."""
    d, pan = sme.d, business_pan()
    headers = await d.register(phone)
    await d.add_account(headers, f"1111{random.randrange(10**8, 10**9)}", primary=True)
    body = {"legalName": f"{pan[:5]} Traders", "pan": pan, "gstin": make_gstin("27", pan),
            "directors": [{"name": "Asha Mehta", "din": f"{random.randrange(10**7, 10**8)}"}]}  # fmt: skip
    await d._ok(await d.api.post("/api/v1/sme/business", json=body, headers=headers))
    invoice = await sme.upload(headers, f"LC-{phone}", "250000.00")
    req = await sme.request(headers, invoice["id"])
    deadline = time.monotonic() + 90
    assert (await sme.until(headers, req["id"], {"OFFERED"}, deadline))["status"] == "OFFERED"
    url = f"/api/v1/sme/requests/{req['id']}/accept"
    assert (await d.api.post(url, json={"lenderId": "own-book"}, headers=headers)).status_code == 200
    await sme.staff("CREDIT_EXECUTIVE", req["id"], "recommend")
    await sme.staff("SANCTION_MANAGER", req["id"], "approve")
    funded = await sme.until(headers, req["id"], {"FUNDED"}, deadline)
    assert funded["status"] == "FUNDED", funded
    return headers, funded


def _signed(payload: dict, event_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json", "X-Razorpay-Signature": signing.sign(body, SANDBOX_SECRET),
                  "X-Razorpay-Event-Id": event_id}  # fmt: skip


async def test_a_credit_while_the_invoice_is_settled_is_kept_once_as_the_business_credit_balance(
    sme_app, brand, sandbox, db  # noqa: ANN001, F811
) -> None:
    async with driving(sme_app, sandbox, db, brand) as driver:
        sme, api, bid = SmeDriver(driver), driver.api, brand["brand_id"]
        headers, funded = await _funded_slow(sme, f"7{uuid.uuid4().int % 10**9:09d}")
        rid = funded["id"]
        with db.unit_of_work() as s:
            va_id = _va_id(s, rid)
        hook = f"{sme_app.settings.api_url}/api/v1/sme/webhooks/{bid}/virtual-accounts/razorpay"
        pay = f"/razorpay/_test/virtual_accounts/{va_id}/payments"
        full = await driver.sandbox.post(pay, json={"amount": INVOICE, "method": "RTGS", "webhook_url": hook})
        assert full.status_code == 200, full.text
        paid = await sme.until(headers, rid, {"PAID", "CLOSED"}, time.monotonic() + 30)
        assert paid["status"] == "PAID", paid  # the reserve release waits for the bank (its callback lost)
        # ₹1,000 more arrives while the reserve is being released: signalled, and counted once by the workflow.
        late = await driver.sandbox.post(pay, json={"amount": LATE, "method": "IMPS", "webhook_url": hook})
        assert late.status_code == 200, late.text
        closed = await sme.until(headers, rid, {"CLOSED"}, time.monotonic() + 60)
        assert closed["status"] == "CLOSED", closed
        staff = await driver.staff_headers("CREDIT_EXECUTIVE")
        balance_url = f"/api/v1/partner/brand/{bid}/sme/requests/{rid}/credit-balance"
        balance = (await api.get(balance_url, headers=staff)).json()
        assert balance["balance"] == LATE, balance
        rows = [(c["amount"], c["applied"], c["kept"], c["receivedWhile"], c["source"]) for c in balance["credits"]]
        assert rows == [(LATE, 0, LATE, "PAID", "VA:IMPS")]
        row = await _collected(sme, headers, rid, INVOICE + LATE)
        assert sorted(p["amountPaise"] for p in row["payments"]) == [LATE, INVOICE]
        # The release is what the settlement computed before it (the late credit is the business's balance).
        assert closed["releasePaise"] == INVOICE - closed["advancePaise"] - closed["discountPaise"]
        if os.environ.get("LOS_RECORD_HISTORIES"):  # tests/histories/invoice_late_credit_* (the replay suite)
            await record_histories(sme_app.client, f"invoice-{rid}", "invoice_late_credit")
        # The same transfer reported again under a new event id, now that the request is closed: counted before.
        delivered = next(
            d for d in (await driver.sandbox.get("/_webhooks")).json()
            if d["headers"].get("X-Razorpay-Event-Id") == late.json()["event_id"]
        )
        path = f"/api/v1/sme/webhooks/{bid}/virtual-accounts/razorpay"
        body, renamed = _signed(delivered["payload"], f"evt_{uuid.uuid4().hex[:14]}")
        assert (await api.post(path, content=body, headers=renamed)).json()["outcome"] == "DUPLICATE"
        # A credit after it closed (the bank took it before the account closed): counted here, once.
        async with httpx.AsyncClient(base_url=sandbox.url) as box:
            account = (await box.get(f"/razorpay/virtual_accounts/{va_id}")).json()
        after = credited_event(account, f"pay_{uuid.uuid4().hex[:14]}", f"bt_{uuid.uuid4().hex[:14]}", 500_00,
                               "NEFT", f"HDFCN{uuid.uuid4().int % 10**11:011d}")  # fmt: skip
        event_id = f"evt_{uuid.uuid4().hex[:14]}"
        body, signed = _signed(after, event_id)
        answer = (await api.post(path, content=body, headers=signed)).json()
        assert (answer["outcome"], answer["amountPaise"]) == ("RECORDED_AS_CREDIT_BALANCE", 500_00), answer
        assert (await api.post(path, content=body, headers=signed)).json()["outcome"] == "DUPLICATE"
        body, renamed = _signed(after, f"evt_{uuid.uuid4().hex[:14]}")
        assert (await api.post(path, content=body, headers=renamed)).json()["outcome"] == "DUPLICATE"
        balance = (await api.get(balance_url, headers=staff)).json()
        assert balance["balance"] == LATE + 500_00
        assert [c["receivedWhile"] for c in balance["credits"]] == ["PAID", "CLOSED"]
        # Another brand's staff see nothing of it.
        other = f"/api/v1/partner/brand/{uuid.uuid4()}/sme/requests/{rid}/credit-balance"
        assert (await api.get(other, headers=staff)).status_code in (403, 404)


async def test_a_lost_answer_to_the_virtual_account_create_reuses_the_account(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001, F811
    async with driving(sme_app, sandbox, db, brand) as driver:
        sme = SmeDriver(driver)
        dropped = await driver.sandbox.post("/razorpay/_test/virtual_accounts/drop-answers", json={"times": 1})
        assert dropped.status_code == 200
        try:
            _, funded = await _funded(sme, f"7{uuid.uuid4().int % 10**9:09d}")
        finally:
            await driver.sandbox.post("/razorpay/_test/virtual_accounts/drop-answers", json={"times": 0})
        rid = funded["id"]
        opened = (await driver.sandbox.get("/razorpay/_test/virtual_accounts/by-note",
                                           params={"request_id": rid})).json()  # fmt: skip
        # The first create opened an account and its answer was lost; the retry found it and reused it.
        assert len(opened) == 1, opened
        assert funded["virtualAccount"]["accountNumber"] == opened[0]["receivers"][0]["account_number"]
        with db.unit_of_work() as s:
            assert _va_id(s, rid) == opened[0]["id"]
