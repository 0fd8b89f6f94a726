"""The hot read routes (the staff loan list, queues, loan detail, ledger; the customer's loan detail) answer
through orjson (``api.views.json_response``), which FastAPI does not check against the route's
``response_model``: here their real answers, through the real API, workflow and database, are validated against
the model each route declares, by the wire names alone, and dump back to exactly the JSON sent. So the schema
/docs shows cannot drift from what orjson sends.

A loan goes the whole way through the sanction hierarchy (staff actions in its history), eSign, disbursal and
every repayment while its staff detail and ledger are read at each step; a second loan waits in review (stage,
assignment) for the list and the queues; a parked payment fills the detail's staff-only part."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from api.app import create_app
from db.models import ParkedPayment
from los.demo import Driver, demo_identity
from los.settings import Settings
from tests.conftest import eventually

PARTNER = "/api/v1/partner/brand/{brand_id}"
HOT = {
    "list": f"{PARTNER}/loans",
    "detail": f"{PARTNER}/loans/{{loan_id}}",
    "ledger": f"{PARTNER}/loans/{{loan_id}}/ledger",
    **{queue: f"{PARTNER}/queues/{queue}" for queue in ("credit-executive", "sanction-manager", "sanction-head")},
    "loans-ops": f"{PARTNER}/queues/loans-ops",
    "needs-attention": f"{PARTNER}/queues/needs-attention",
    "unallocated": f"{PARTNER}/queues/unallocated",
    "customer": "/api/v1/web/loans/{loan_id}",
}


def declared_models() -> dict[str, type[BaseModel]]:
    """The response model each hot route declares (GET)."""
    routes = {
        context.path_format: context.original_route.response_model
        for context in iter_route_contexts(create_app(Settings()).routes)  # routers are included lazily
        if isinstance(context.original_route, APIRoute) and "GET" in context.original_route.methods
    }
    return {name: routes[path] for name, path in HOT.items()}


def check(model: type[BaseModel], body: Any) -> BaseModel:
    """``body`` validates by alias only and dumps back to the very same JSON."""
    parsed = model.model_validate(body, by_alias=True, by_name=False)
    assert parsed.model_dump(mode="json", by_alias=True) == body
    return parsed


async def test_hot_routes_answer_their_declared_models(app, brand, sandbox, db) -> None:  # noqa: ANN001
    models = declared_models()
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    base = f"/api/v1/partner/brand/{brand['brand_id']}"
    seen: dict[str, list[Any]] = {"detail": [], "ledger": [], "customer": []}

    async def keep_customer_detail(response: Any) -> None:  # every answer the borrower's app polls
        path = response.request.url.path
        if response.request.method == "GET" and path.startswith("/api/v1/web/loans/") and path.count("/") == 5:
            await response.aread()
            assert response.status_code == 200 and response.headers["content-type"] == "application/json"
            seen["customer"].append(response.json())

    driver.api.event_hooks["response"] = [keep_customer_detail]
    try:
        staff = await driver.staff_headers("SANCTION_HEAD")  # may open every review queue
        ops = await driver.staff_headers("LOAN_EXECUTIVE")

        async def get(url: str, headers: dict[str, str] = staff, **params: Any) -> Any:
            resp = await driver.api.get(url, headers=headers, params=params or None)
            assert resp.status_code == 200, (url, resp.text)
            assert resp.headers["content-type"] == "application/json"
            return resp.json()

        # a loan in review: its stage and holder show in the list and its queue
        phone, pan = demo_identity(1, "review")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        waiting = await driver._ok(
            await driver.api.post(
                "/api/v1/web/loans", json={"amount": "25000", "tenure": 3, "productCode": "DEMO-FAST"}, headers=headers
            )
        )

        async def in_review() -> bool:
            return (await driver.loan(headers, waiting["id"]))["status"] == "UNDER_REVIEW"

        await eventually(in_review)
        async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as plain:  # outside the 200-only hook
            mine = f"/api/v1/web/loans/{waiting['id']}"
            bad = await plain.get(mine, params={"include": "kyc,bogus"}, headers=headers)
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "include", bad.text
            assert "bogus" in bad.json()["errors"][0]["reason"]
            after = await plain.get(mine, params={"include": "kyc"}, headers=headers)
            assert after.status_code == 200 and after.json()["kyc"] is None  # the KYC phase is over: null

        # the other loan, from application to its last repayment, read by staff all along
        journey_task = asyncio.create_task(driver.journey(*demo_identity(0, "review"), amount=40_000, tenure=3))
        loan_id = None
        while not journey_task.done():
            await asyncio.sleep(0.3)
            listed = await get(f"{base}/loans", limit=5)
            ids = [item["id"] for item in listed["items"] if item["id"] != waiting["id"]]
            loan_id = loan_id or (ids[0] if ids else None)
            if loan_id:
                seen["detail"].append(await get(f"{base}/loans/{loan_id}"))
                seen["ledger"].append(await get(f"{base}/loans/{loan_id}/ledger"))
        journey = journey_task.result()
        assert journey.status == "COMPLETED" and loan_id == journey.loan_id

        with db.unit_of_work() as s:
            s.add(
                ParkedPayment(
                    loan_id=loan_id,
                    gateway="razorpay",
                    gateway_payment_id="pay_late_1",
                    amount=10**30,  # beyond any integer type: sent as a string
                    reason="the loan had ended",
                    payload={},
                )
            )
        seen["detail"].append(await get(f"{base}/loans/{loan_id}"))
        seen["ledger"].append(await get(f"{base}/loans/{loan_id}/ledger"))
        seen["detail"].append(await get(f"{base}/loans/{waiting['id']}"))

        details = [check(models["detail"], body) for body in seen["detail"]]
        statuses = {d.status for d in details}  # type: ignore[attr-defined]
        assert {"UNDER_REVIEW", "DISBURSED", "COMPLETED"} <= statuses, statuses
        assert any(d.agreement for d in details)  # type: ignore[attr-defined]
        assert any(c.action for c in details[-2].status_history)  # type: ignore[attr-defined]
        assert any(t.status == "SETTLED" for t in details[-2].transfers)  # type: ignore[attr-defined]
        assert details[-2].parked_payments[0].amount_paise == str(10**30)  # type: ignore[attr-defined]
        customer = [check(models["customer"], body) for body in seen["customer"]]
        assert {"APPLIED", "UNDER_REVIEW", "AGREEMENT_PENDING", "DISBURSED", "COMPLETED"} <= {
            c.status
            for c in customer  # type: ignore[attr-defined]
        }
        # a link lives only between disbursal and the last payment: the staff sampling may miss that window on a slow
        # machine, the borrower's app (which pays through it) never does; both answer the same PaymentLinkView
        assert any(c.kyc for c in customer) and any(c.payment_link for c in customer)  # type: ignore[attr-defined]
        ledgers = [check(models["ledger"], body) for body in seen["ledger"]]
        assert ledgers[-1].entries and {e.kind for e in ledgers[-1].entries} >= {"DISBURSAL", "REPAYMENT"}  # type: ignore[attr-defined]

        # the list (each filter shape) and every queue
        pages = [
            await get(f"{base}/loans"),
            await get(f"{base}/loans", status="UNDER_REVIEW", assignedTo="none", sort="amount_desc"),
            await get(f"{base}/loans", search=phone),
        ]
        for queue in ("credit-executive", "sanction-manager", "sanction-head", "unallocated"):
            pages.append(await get(f"{base}/queues/{queue}"))
        for body in pages:
            check(models["list"], body)
        # loan ops' queues: the list's rows, extended (their own models)
        check(models["loans-ops"], await get(f"{base}/queues/loans-ops", headers=ops))
        check(models["needs-attention"], await get(f"{base}/queues/needs-attention", headers=ops))
        assert [item["id"] for item in pages[2]["items"]] == [waiting["id"]]
        held = [item for item in pages[3]["items"] if item["id"] == waiting["id"]]  # the credit-executive queue
        assert held and held[0]["reviewStage"] == "CREDIT_EXECUTIVE"
        own = ("detail", "ledger", "customer", "loans-ops", "needs-attention")
        assert all(models[name] is models["list"] for name in HOT if name not in own)
    finally:
        await driver.close()
