"""Bad input never reaches PostgreSQL as a 500: NUL characters, integers past bigint, non-ASCII links, ids that
are not UUIDs, malformed token claims, JSON floats as money, implausible dates. Each answers 4xx in the error
envelope naming the field and writes nothing. And a staff action whose loan has no worker answers 503 within the
bound and is never applied later (docs/api.md)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from api.guards import has_guards
from db.models import Customer, Employment, Loan, LoanComment, LoanStatusHistory, StaffUser
from los.demo import Driver, demo_identity
from los.seed import staff_email
from tests.conftest import ThreadedServer, eventually, free_port
from tests.integration.test_staff_and_webhooks import _apply, _status

QUEUES = ("credit-executive", "sanction-manager", "sanction-head", "loans-ops", "unallocated")


def _refused(resp: httpx.Response, status: int, field: str) -> dict:
    """The response is ``status`` in the error envelope, and its errors name ``field``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) >= {"statusCode", "message", "error", "timestamp", "path", "errors"}, body
    assert body["statusCode"] == status and body["path"] == resp.request.url.path
    assert field in [e["field"] for e in body["errors"]], body
    assert all(e["reason"] for e in body["errors"]), body
    return body


def _count(db, model, *where) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


async def test_every_route_refuses_nul_before_its_own_code(app) -> None:  # noqa: ANN001
    """The NUL guard is on the whole app, so every route, one added later included, refuses a NUL in a query
    parameter with 422 naming it, before its own code (or its sign-in check) runs."""
    import re

    from fastapi.routing import iter_route_contexts

    from api.app import create_app

    # the effective routes, nested routers' prefixes included (what the app serves)
    routes = [
        ctx for ctx in iter_route_contexts(create_app(app.settings).routes) if isinstance(ctx.original_route, APIRoute)
    ]
    assert len(routes) > 50
    missed = []
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as client:
        for route in routes:
            path = re.sub(r"{[^}]+}", str(uuid.uuid4()), route.path_format)
            for method in sorted(route.methods - {"HEAD"}):
                resp = await client.request(method, path, params={"probe": "a\u0000b"})
                errors = resp.json().get("errors") if resp.headers.get("content-type") == "application/json" else None
                if resp.status_code != 422 or not errors or errors[0]["field"] != "probe":
                    missed.append((method, route.path_format, resp.status_code))
    assert missed == []
    exempt = ("/api/v1/webhooks", "/api/v1/codec", "/health")
    assert all(has_guards(r.route) or r.path_format.startswith(exempt) for r in routes)


async def test_nul_in_any_text_field_or_filter_is_422_naming_it(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        customers = _count(db, Customer)
        # unauthenticated: registration and staff sign-in
        resp = await api.post("/api/v1/web/auth/register", json={"phoneNumber": "9876500001", "brand": "de\u0000mo"})
        _refused(resp, 422, "brand")
        resp = await api.post(
            "/api/v1/web/auth/register",
            json={"phoneNumber": "9876500001", "brand": brand["brand_code"], "utm": {"utm_source": "a\u0000"}},
        )
        _refused(resp, 422, "utm.utm_source")
        assert _count(db, Customer) == customers
        resp = await api.post(
            "/api/v1/partner/auth/login", json={"email": "a\u0000@demo.example", "password": "demo-password"}
        )
        _refused(resp, 422, "email")
        # path and query
        resp = await api.get(
            f"/api/v1/web/products/DEMO%00FAST/emi-preview?brand={brand['brand_code']}&amount=20000&tenure=3"
        )
        _refused(resp, 422, "product_code")
        resp = await api.get("/api/v1/web/products/DEMO-FAST/emi-preview?brand=x%00&amount=20000&tenure=3")
        _refused(resp, 422, "brand")

        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        base = f"/api/v1/partner/brand/{brand['brand_id']}"
        comments = _count(db, LoanComment, LoanComment.loan_id == loan["id"])
        resp = await api.post(f"{base}/loans/{loan['id']}/comments", json={"comment": "ok\u0000"}, headers=ce)
        _refused(resp, 422, "comment")
        assert _count(db, LoanComment, LoanComment.loan_id == loan["id"]) == comments
        for path in ("/loans", *(f"/queues/{q}" for q in QUEUES)):
            _refused(await api.get(f"{base}{path}", params={"search": "98\x0076"}, headers=ce), 422, "search")
        # a NUL in a key names the key; an escaped backslash followed by u0000 is ordinary text
        resp = await api.post(f"{base}/loans/{loan['id']}/comments", json={"comm\u0000ent": "x"}, headers=ce)
        _refused(resp, 422, "comm\\u0000ent")
        ok = await api.post(f"{base}/loans/{loan['id']}/comments", json={"comment": "path C:\\u0000"}, headers=ce)
        assert ok.status_code == 201, ok.text
        # customer profile text
        resp = await api.post("/api/v1/web/personal-details/update", json={"city": "Pu\u0000ne"}, headers=headers)
        _refused(resp, 422, "city")
        with db.unit_of_work() as s:
            assert s.get_one(Customer, loan["customerId"]).city is None
    finally:
        await driver.close()


async def test_integers_past_bigint_and_implausible_amounts_are_422(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        ce = await driver.staff_headers("ADMIN")  # sees every queue
        base = f"/api/v1/partner/brand/{brand['brand_id']}"
        for path in ("/loans", *(f"/queues/{q}" for q in QUEUES)):
            for name in ("minAmount", "maxAmount"):
                for value in ("18446744073709551616", "9223372036854775808", "100000000000001", "1.5", "-1"):
                    _refused(await api.get(f"{base}{path}", params={name: value}, headers=ce), 422, name)
            for name, value in (("page", "18446744073709551616"), ("limit", "99999999999999999999")):
                _refused(await api.get(f"{base}{path}", params={name: value}, headers=ce), 422, name)
            ok = await api.get(f"{base}{path}", params={"minAmount": "0", "maxAmount": "10000000000000"}, headers=ce)
            assert ok.status_code == 200, ok.text
        preview = f"/api/v1/web/products/DEMO-FAST/emi-preview?brand={brand['brand_code']}&tenure=3&amount="
        for amount in ("18446744073709551616", "1e5", "100.001", "NaN", "Infinity"):
            _refused(await api.get(preview + amount), 422, "amount")
        _refused(await api.get(preview.replace("tenure=3", "tenure=18446744073709551616") + "20000"), 422, "tenure")
        assert (await api.get(preview + "20000.50")).status_code == 200
    finally:
        await driver.close()


async def test_money_is_a_decimal_string_or_integer_paise_never_a_float(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        await driver._ok(await api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        loans = _count(db, Loan)
        raw = b'{"amount": %s, "tenure": 3}'
        for number in (b"50000.30000000000001", b"99999.999999999999999", b"50000.0", b"50000", b"5e4", b"true"):
            resp = await api.post(
                "/api/v1/web/loans", content=raw % number, headers={**headers, "content-type": "application/json"}
            )
            body = _refused(resp, 422, "amount")
            assert "string" in body["errors"][0]["reason"], body
        _refused(
            await api.post("/api/v1/web/loans", json={"amount": "20000", "tenure": 3.0}, headers=headers), 422, "tenure"
        )
        assert _count(db, Loan) == loans
        # a rupee salary as a JSON number, and paise settings as floats
        employments = _count(db, Employment)
        resp = await api.post(
            "/api/v1/web/employment/add",
            json={"employerName": "Acme", "monthlySalary": 65000.5},
            headers=headers,
        )
        _refused(resp, 422, "monthlySalary")
        assert _count(db, Employment) == employments
        admin = await driver.staff_headers("ADMIN")
        settings = f"/api/v1/partner/brand/{brand['brand_id']}/settings"
        resp = await api.put(f"{settings}/brand", json={"bre": {"salaryThreshold": 2500000.5}}, headers=admin)
        _refused(resp, 422, "bre.salaryThreshold")
        product = {
            "code": "FLOATY",
            "name": "Floaty",
            "minAmount": 500000.0,
            "maxAmount": 5000000,
            "minTenure": 1,
            "maxTenure": 12,
            "annualRateBps": 2400,
        }
        _refused(await api.post(f"{settings}/loan-rules", json=product, headers=admin), 422, "minAmount")
    finally:
        await driver.close()


async def test_ids_dates_and_file_links_are_checked_before_the_database(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        phone, pan = demo_identity(0, "review")
        headers = await driver.register(phone)
        # a file link with non-ASCII bytes (no sign-in needed): refused, not a crash
        for token in ("a.%C3%A9", "%C3%A9.%C3%A9", "a." + "b" * 5000):
            resp = await api.get(f"/api/v1/files/{token}")
            assert resp.status_code == 403, (token, resp.text)
            assert resp.json()["statusCode"] == 403
        # ids in bodies
        for bad in ("N", "1", "3F2B6C1E8D4A4F5E9B7A2C1D0E9F8A7B", 7):
            _refused(
                await api.post("/api/v1/web/bank/verify", json={"accountId": bad}, headers=headers), 422, "accountId"
            )
        # plausible people: date of birth, joining date
        with db.unit_of_work() as s:
            customer_id = s.scalars(select(Customer.id).where(Customer.phone == phone)).one()
        for dob in (
            "1800-01-01",
            "2999-01-01",
            (datetime.now(UTC).date() - timedelta(days=365 * 17)).isoformat(),
            19900101,
            "01-01-1990",
            "1990-02-30",
        ):
            resp = await api.post("/api/v1/web/personal-details/update", json={"dateOfBirth": dob}, headers=headers)
            _refused(resp, 422, "dateOfBirth")
        with db.unit_of_work() as s:
            assert s.get_one(Customer, customer_id).dob is None
        ok = await api.post("/api/v1/web/personal-details/update", json={"dateOfBirth": "1990-05-17"}, headers=headers)
        assert ok.status_code == 200 and ok.json()["dateOfBirth"] == "1990-05-17"
        employments = _count(db, Employment)
        for joined in ("2999-01-01", "1900-01-01", "2000-01-01", 1e9):  # 2000: the customer was 9
            resp = await api.post(
                "/api/v1/web/employment/add",
                json={"employerName": "Acme", "monthlySalary": "65000", "joinedOn": joined},
                headers=headers,
            )
            _refused(resp, 422, "joinedOn")
        assert _count(db, Employment) == employments
        # dates in queries are YYYY-MM-DD text, never numbers
        await driver._ok(await api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        loan = await driver._ok(
            await api.post("/api/v1/web/loans", json={"amount": "25000", "tenure": 3}, headers=headers)
        )
        ce = await driver.staff_headers("CREDIT_EXECUTIVE")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/schedule-preview"
        for value in ("9.9e-116", "0", "1700000000", "2024-1-1", "9999-12-31"):
            _refused(await api.get(url, params={"disbursedOn": value}, headers=ce), 422, "disbursedOn")
        good = await api.get(url, params={"disbursedOn": "2026-01-15"}, headers=ce)
        assert good.status_code == 200 and good.json()["disbursedOn"] == "2026-01-15"
        for value in ("1", "9.9e-116"):
            resp = await api.get(
                f"/api/v1/partner/brand/{brand['brand_id']}/loans", params={"createdFrom": value}, headers=ce
            )
            _refused(resp, 422, "createdFrom")
    finally:
        await driver.close()


async def test_signed_tokens_with_missing_or_malformed_claims_are_401(app, brand, sandbox, db) -> None:  # noqa: ANN001
    secret = app.settings.jwt_secret.get_secret_value()
    with db.unit_of_work() as s:
        staff_id = s.scalars(
            select(StaffUser.id).where(StaffUser.email == staff_email("ADMIN", brand["brand_code"]))
        ).one()
    now = datetime.now(UTC)
    full = {"sub": staff_id, "typ": "staff", "brand": brand["brand_id"], "iat": now, "exp": now + timedelta(minutes=5)}
    variants: list[dict[str, Any]] = [
        {k: v for k, v in full.items() if k != "typ"},
        {k: v for k, v in full.items() if k != "brand"},
        {k: v for k, v in full.items() if k != "exp"},
        {k: v for k, v in full.items() if k != "sub"},
        {**full, "sub": "not-a-uuid"},
        {**full, "sub": 12},
        {**full, "typ": "robot"},
        {**full, "brand": ["x"]},
        {**full, "brands": "all"},
        {**full, "perms": "everything"},
        {**full, "sid": "x"},
        {**full, "jti": {"a": 1}},
        {**full, "exp": 10**20},
    ]
    routes = (
        f"/api/v1/partner/brand/{brand['brand_id']}/loans",
        "/api/v1/partner/auth/me",
        "/api/v1/web/loans",
        "/api/v1/web/personal-details",
    )
    async with httpx.AsyncClient(base_url=app.api.url, timeout=20) as http:
        for claims in variants:
            token = jwt.encode(claims, secret, algorithm="HS256")
            for route in routes:
                resp = await http.get(route, headers={"authorization": f"Bearer {token}"})
                assert resp.status_code == 401, (claims, route, resp.text)
                assert resp.json()["statusCode"] == 401
        # the same claims, well formed, are accepted
        good = jwt.encode({**full, "perms": [], "brands": {brand["brand_id"]: "ADMIN"}}, secret, algorithm="HS256")
        resp = await http.get(routes[0], headers={"authorization": f"Bearer {good}"})
        assert resp.status_code == 200, resp.text


async def test_a_staff_action_without_a_worker_is_503_within_the_bound_and_never_applied_later(
    dev_env,
    database_url,
    db,
    storage_dir,
    renderer,
    brand,
    sandbox,  # noqa: ANN001
) -> None:
    """No worker polls the loan's task queue: forwarding answers 503 within the bound (not 90 s), and when a worker
    comes back the stale update is refused by the workflow (Expired): the loan has not moved and nothing is
    recorded. Sent again with a worker running, the same action goes through once."""
    from temporalio.worker import Worker

    from activities.kyc import KycActivities
    from activities.loan import LoanActivities
    from activities.storage import LocalStorage
    from api.app import create_app
    from los.settings import Settings
    from workflows.loan import LoanWorkflow

    bound = 3.0
    queue = f"test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    target = dev_env.client.service_client.config.target_host
    settings = Settings(
        database_url=database_url,
        temporal_address=target,
        task_queue=queue,
        api_port=port,
        storage_dir=storage_dir,
        workflow_call_timeout_seconds=bound,
    )
    async with httpx.AsyncClient(timeout=30) as http:
        activities = LoanActivities(
            db, http, LocalStorage(storage_dir), renderer, settings.api_url, settings.field_key()
        )
        kyc = KycActivities(db, http, LocalStorage(storage_dir), settings.api_url, settings.field_key())

        def worker() -> Worker:
            return Worker(
                dev_env.client, task_queue=queue, workflows=[LoanWorkflow], activities=activities.all() + kyc.all()
            )

        with ThreadedServer(create_app(settings), port=port) as api:
            driver = Driver(api.url, sandbox.url, brand["brand_code"])
            try:
                async with worker():
                    headers, loan = await _apply(driver, "review")
                    await _status(driver, headers, loan["id"], "UNDER_REVIEW")
                ce = await driver.staff_headers("CREDIT_EXECUTIVE")
                url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}/forward"
                rows = _count(db, LoanStatusHistory, LoanStatusHistory.loan_id == loan["id"])

                started = time.monotonic()
                resp = await driver.api.post(url, json={"reason": "payslips verified"}, headers=ce)
                waited = time.monotonic() - started
                body = resp.json()
                assert resp.status_code == 503, resp.text
                assert "NOT applied" in body["message"] and "send it again" in body["message"], body
                assert body["path"] == url and body["error"] == "Service Unavailable"
                assert bound <= waited < bound + 5, waited

                async with worker():
                    handle = dev_env.client.get_workflow_handle(loan["workflowId"])

                    async def worker_answers() -> bool:
                        return await handle.query("kyc_status", result_type=dict) is not None

                    await eventually(worker_answers, timeout=30)
                    with db.unit_of_work() as s:
                        fresh = s.get_one(Loan, loan["id"])
                        assert fresh.status == "UNDER_REVIEW" and fresh.review_stage == "CREDIT_EXECUTIVE"
                    assert _count(db, LoanStatusHistory, LoanStatusHistory.loan_id == loan["id"]) == rows

                    again = await driver.api.post(url, json={"reason": "payslips verified"}, headers=ce)
                    assert again.status_code == 200, again.text
                    assert again.json()["reviewStage"] == "SANCTION_MANAGER"
                    assert _count(db, LoanStatusHistory, LoanStatusHistory.loan_id == loan["id"]) == rows + 1
                    # updates are taken in order: the stale one reached the workflow first and was refused
                    accepted = [
                        e
                        async for e in handle.fetch_history_events()
                        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
                    ]
                    assert len(accepted) == 1
            finally:
                await driver.close()


async def test_digilocker_callback_with_a_non_ascii_state_is_refused(app) -> None:  # noqa: ANN001
    """Found by the fuzzer: a non-ASCII ``state`` made the MAC comparison raise (500)."""
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as client:
        resp = await client.get("/api/v1/web/kyc/digilocker/callback", params={"code": "x", "state": "¹-\x84^e\x9a>"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["field"] == "state"
