"""Customer auth: OTP rules, UTM capture, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from db.models import Customer, OtpChallenge, RefreshToken
from los.demo import Driver, demo_identity


async def test_register_captures_utm_and_throttles_resend(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, _ = demo_identity(0, "auto")
    try:
        r = await driver.api.post(
            "/api/v1/web/auth/register?utm_source=facebook&utm_campaign=diwali",
            json={"phoneNumber": phone, "brand": brand["brand_code"], "utm": {"utm_medium": "cpc", "evil": "x"}},
        )
        assert r.status_code == 201, r.text
        with db.unit_of_work() as s:
            customer = s.scalars(select(Customer).where(Customer.phone == phone)).one()
            assert customer.utm == {"utm_source": "facebook", "utm_campaign": "diwali", "utm_medium": "cpc"}
            code_hash = s.scalars(select(OtpChallenge.code_hash).where(OtpChallenge.customer_id == customer.id)).one()
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        assert otp not in code_hash  # stored hashed

        again = await driver.api.post(
            "/api/v1/web/auth/resend-otp", json={"phoneNumber": phone, "brand": brand["brand_code"]}
        )
        assert again.status_code == 429 and again.json()["errors"][0]["field"] == "phoneNumber"
        with db.unit_of_work() as s:  # a minute later it may be resent ...
            s.execute(
                update(OtpChallenge)
                .where(OtpChallenge.customer_id == customer.id)
                .values(created_at=datetime.now(UTC) - timedelta(minutes=2))
            )
        assert (
            await driver.api.post(
                "/api/v1/web/auth/resend-otp", json={"phoneNumber": phone, "brand": brand["brand_code"]}
            )
        ).status_code == 200
        with db.unit_of_work() as s:  # ... but not a sixth time in an hour
            s.execute(
                update(OtpChallenge)
                .where(OtpChallenge.customer_id == customer.id)
                .values(created_at=datetime.now(UTC) - timedelta(minutes=5))
            )
            for _ in range(3):
                s.add(
                    OtpChallenge(
                        customer_id=customer.id,
                        code_hash="x",
                        expires_at=datetime.now(UTC),
                        created_at=datetime.now(UTC) - timedelta(minutes=10),
                    )
                )
        r = await driver.api.post(
            "/api/v1/web/auth/resend-otp", json={"phoneNumber": phone, "brand": brand["brand_code"]}
        )
        assert r.status_code == 429 and "hour" in r.json()["message"]
    finally:
        await driver.close()


async def test_wrong_otp_is_limited(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, _ = demo_identity(0, "auto")
    try:
        await driver._ok(
            await driver.api.post(
                "/api/v1/web/auth/register", json={"phoneNumber": phone, "brand": brand["brand_code"]}
            )
        )
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        wrong = "000000" if otp != "000000" else "111111"
        body = {"phoneNumber": phone, "brand": brand["brand_code"], "otp": wrong}
        for _ in range(5):
            assert (await driver.api.post("/api/v1/web/auth/verify-otp", json=body)).status_code == 401
        body["otp"] = otp  # the right code no longer works after five wrong ones
        r = await driver.api.post("/api/v1/web/auth/verify-otp", json=body)
        assert r.status_code == 401 and "too many" in r.json()["message"]
        with db.unit_of_work() as s:  # expired codes are refused too
            s.execute(update(OtpChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    finally:
        await driver.close()


async def test_refresh_rotation_reuse_and_logout(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    phone, _ = demo_identity(0, "auto")
    api = driver.api
    try:
        await driver._ok(
            await api.post("/api/v1/web/auth/register", json={"phoneNumber": phone, "brand": brand["brand_code"]})
        )
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        first = await driver._ok(
            await api.post(
                "/api/v1/web/auth/verify-otp", json={"phoneNumber": phone, "brand": brand["brand_code"], "otp": otp}
            )
        )
        assert first["refreshToken"]
        second = await driver._ok(
            await api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": first["refreshToken"]})
        )
        assert second["refreshToken"] != first["refreshToken"]
        headers = {"Authorization": f"Bearer {second['accessToken']}"}
        assert (await api.get("/api/v1/web/loans", headers=headers)).status_code == 200

        # replaying the used token revokes the whole family, including the fresh one
        replay = await api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": first["refreshToken"]})
        assert replay.status_code == 401
        assert (
            await api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": second["refreshToken"]})
        ).status_code == 401
        with db.unit_of_work() as s:
            rows = s.scalars(select(RefreshToken).where(RefreshToken.subject_id == first["customerId"])).all()
            assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)

        # a new login; logout revokes its access token at once and its refresh token
        await db_reset_otp_gap(db, first["customerId"])
        await driver._ok(
            await api.post("/api/v1/web/auth/login", json={"phoneNumber": phone, "brand": brand["brand_code"]})
        )
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        third = await driver._ok(
            await api.post(
                "/api/v1/web/auth/verify-otp", json={"phoneNumber": phone, "brand": brand["brand_code"], "otp": otp}
            )
        )
        headers = {"Authorization": f"Bearer {third['accessToken']}"}
        out = await api.post("/api/v1/web/auth/logout", json={"refreshToken": third["refreshToken"]}, headers=headers)
        assert out.status_code == 200
        assert (await api.get("/api/v1/web/loans", headers=headers)).status_code == 401
        assert (
            await api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": third["refreshToken"]})
        ).status_code == 401
        bad = await api.post("/api/v1/web/auth/refresh-token", json={"refreshToken": "x" * 40})
        assert bad.status_code == 401
    finally:
        await driver.close()


async def db_reset_otp_gap(db, customer_id: str) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        s.execute(
            update(OtpChallenge)
            .where(OtpChallenge.customer_id == customer_id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=2))
        )
