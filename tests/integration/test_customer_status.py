"""A customer's status is enforced on the customer API: SUSPENDED or BLOCKED is refused sign-in (register, login,
resend, verify-otp, refresh) and a loan application with 403 naming the status, writing nothing; their disbursed
loan keeps being serviced (a payment link from an earlier session and an offline payment are both credited);
ACTIVE again lifts it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from db.models import Customer, Loan, OtpChallenge
from los.demo import Driver, demo_identity
from tests.conftest import eventually
from tests.integration.test_offline_payments import base, credited_offline, disbursed_loan


def refused(response: Any, status: str) -> None:
    """403 naming ``status`` in the field and the message."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == ["status"], body
    assert status in body["message"], body


async def set_status(driver: Driver, customer_id: str, status: str) -> None:
    admin = await driver.staff_headers("ADMIN")
    url = f"{base(driver)}/customers/{customer_id}/status"
    r = await driver.api.post(url, json={"status": status, "reason": "a dispute under review"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == status, r.text


async def test_a_customer_not_active_cannot_sign_in_or_apply_until_active_again(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, _ = demo_identity(0, "auto")
    who = {"phoneNumber": phone, "brand": brand["brand_code"]}
    try:
        r = await driver.api.post("/api/v1/web/auth/register", json=who)
        assert r.status_code == 201, r.text
        customer_id = r.json()["customerId"]
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        signed_in = await driver._ok(await driver.api.post("/api/v1/web/auth/verify-otp", json={**who, "otp": otp}))
        headers = {"Authorization": f"Bearer {signed_in['accessToken']}"}
        await driver.staff_headers("ADMIN")  # learns the brand id

        for status in ("SUSPENDED", "BLOCKED"):
            await set_status(driver, customer_id, status)
            with db.unit_of_work() as s:
                otps = s.scalar(select(func.count()).where(OtpChallenge.customer_id == customer_id))
            refused(await driver.api.post("/api/v1/web/auth/login", json=who), status)
            refused(await driver.api.post("/api/v1/web/auth/resend-otp", json=who), status)
            refused(await driver.api.post("/api/v1/web/auth/register", json=who), status)
            refused(await driver.api.post("/api/v1/web/auth/verify-otp", json={**who, "otp": otp}), status)
            refresh = {"refreshToken": signed_in["refreshToken"]}
            refused(await driver.api.post("/api/v1/web/auth/refresh-token", json=refresh), status)
            application = {"amount": "50000", "tenure": 6, "productCode": "PL-MONTHLY"}
            refused(await driver.api.post("/api/v1/web/loans", json=application, headers=headers), status)
            with db.unit_of_work() as s:  # no OTP sent, no loan written
                assert s.scalar(select(func.count()).where(OtpChallenge.customer_id == customer_id)) == otps
                assert s.scalar(select(func.count()).where(Loan.customer_id == customer_id)) == 0

        await set_status(driver, customer_id, "ACTIVE")
        r = await driver.api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": signed_in["refreshToken"]})
        assert r.status_code == 200, r.text  # the refresh token refused while blocked was not spent
        with db.unit_of_work() as s:  # the resend gap: let a new OTP go at once
            for challenge in s.scalars(select(OtpChallenge).where(OtpChallenge.customer_id == customer_id)):
                challenge.created_at = challenge.created_at.replace(year=challenge.created_at.year - 1)
        assert (await driver.api.post("/api/v1/web/auth/login", json=who)).status_code == 200
        # an application goes past the status check to the next rule (no PAN yet)
        r = await driver.api.post(
            "/api/v1/web/loans", json={"amount": "50000", "tenure": 6, "productCode": "PL-MONTHLY"}, headers=headers
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pan", r.text
    finally:
        await driver.close()


async def test_a_blocked_borrower_s_loan_is_still_serviced(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan_id = await disbursed_loan(driver)
        with db.unit_of_work() as s:
            loan = s.get_one(Loan, loan_id)
            customer_id, phone, collected = loan.customer_id, s.get_one(Customer, loan.customer_id).phone, 0
        await set_status(driver, customer_id, "BLOCKED")
        refused(
            await driver.api.post("/api/v1/web/auth/login", json={"phoneNumber": phone, "brand": brand["brand_code"]}),
            "BLOCKED",
        )
        # staff record a payment: credited as for anyone
        await credited_offline(driver, loan_id, amount="3000.00")
        # the borrower's session from before still pays by link
        r = await driver.api.post(f"/api/v1/web/loans/{loan_id}/pay", json={"amount": "2000.00"}, headers=headers)
        assert r.status_code == 200, r.text
        await driver.pay_link(r.json()["url"])

        async def both_collected() -> int | None:
            with db.unit_of_work() as s:
                total = s.get_one(Loan, loan_id).total_collected
            return total if total >= collected + 500_000 else None

        assert await eventually(both_collected, timeout=30, interval=0.25) == 500_000
    finally:
        await driver.close()
