"""Staff sign-in (lockout, login logs, device fingerprints, refresh rotation, logout, sessions, brand switching),
the brand-scoped sign-in reports and brand API keys, over real HTTP against the real database."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest_asyncio
from sqlalchemy import func, select, update

from db.models import (
    AuditLog,
    BrandApiKey,
    RefreshToken,
    RevokedAccessToken,
    StaffActivitySession,
    StaffBrandRole,
    StaffLoginLog,
    StaffUser,
)
from los.seed import seed_brand, staff_email

AUTH = "/api/v1/partner/auth"
PASSWORD = "demo-password"


@pytest_asyncio.fixture
async def http(app) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30, headers={"User-Agent": "los-tests/1"}) as client:
        yield client


def _brand_url(brand_id: str, path: str) -> str:
    return f"/api/v1/partner/brand/{brand_id}/{path}"


async def _login(
    http: httpx.AsyncClient, brand: dict, role: str, password: str = PASSWORD, fingerprint: str | None = None
) -> httpx.Response:
    headers = {"X-Device-Fingerprint": fingerprint} if fingerprint else {}
    return await http.post(
        f"{AUTH}/login", json={"email": staff_email(role, brand["brand_code"]), "password": password}, headers=headers
    )


async def _tokens(http: httpx.AsyncClient, brand: dict, role: str, fingerprint: str | None = None) -> dict:
    resp = await _login(http, brand, role, fingerprint=fingerprint)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['accessToken']}"}


def _claims(pair: dict) -> dict:
    return jwt.decode(pair["accessToken"], options={"verify_signature": False})


def _staff_id(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def _user(db, staff_id: str) -> StaffUser:  # noqa: ANN001
    with db.unit_of_work() as s:
        user = s.get(StaffUser, staff_id)
        s.expunge(user)
        return user


def _logs(db, staff_id: str | None = None, email: str | None = None) -> list[StaffLoginLog]:  # noqa: ANN001
    with db.unit_of_work() as s:
        query = select(StaffLoginLog).order_by(StaffLoginLog.created_at)
        query = (
            query.where(StaffLoginLog.staff_id == staff_id) if staff_id else query.where(StaffLoginLog.email == email)
        )
        rows = s.scalars(query).all()
        s.expunge_all()
        return list(rows)


def _count(db, model, *where) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _refresh_row(db, raw: str) -> RefreshToken:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(
            select(RefreshToken).where(RefreshToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
        ).one()
        s.expunge(row)
        return row


def _activity(db, sid: str) -> StaffActivitySession:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.get(StaffActivitySession, sid)
        s.expunge(row)
        return row


# ------------------------------------------------------------------------------------------- login
async def test_login_claims_session_logs_and_devices(app, brand, db, http) -> None:  # noqa: ANN001
    admin_id = _staff_id(brand, "ADMIN")
    pair = await _tokens(http, brand, "ADMIN", fingerprint="laptop-1")
    assert pair["tokenType"] == "Bearer" and pair["refreshToken"] and pair["newDevice"] is True
    assert pair["user"]["id"] == admin_id and pair["user"]["role"] == "ADMIN"
    claims = _claims(pair)
    assert claims["sub"] == admin_id and claims["typ"] == "staff" and claims["role"] == "ADMIN"
    assert claims["brand"] == brand["brand_id"] and claims["brands"] == {brand["brand_id"]: "ADMIN"}
    assert "audit.view" in claims["perms"] and "api_keys.manage" in claims["perms"] and claims["sa"] is False
    # the token belongs to an activity session tied to the refresh token's family
    activity = _activity(db, claims["sid"])
    assert activity.staff_id == admin_id and activity.brand_id == brand["brand_id"]
    assert activity.device_fingerprint == "laptop-1" and activity.logout_at is None
    assert activity.refresh_family_id == _refresh_row(db, pair["refreshToken"]).family_id
    assert _user(db, admin_id).last_login_at is not None
    me = await http.get(f"{AUTH}/me", headers=_bearer(pair))
    assert me.status_code == 200 and me.json()["email"] == staff_email("ADMIN", brand["brand_code"])

    [log] = _logs(db, admin_id)
    assert (log.success, log.reason, log.new_device, log.device_fingerprint) == (True, "ok", True, "laptop-1")
    assert log.ip == "127.0.0.1" and log.user_agent == "los-tests/1"
    # same fingerprint again: a known device; another fingerprint: new
    assert (await _tokens(http, brand, "ADMIN", fingerprint="laptop-1"))["newDevice"] is False
    assert (await _tokens(http, brand, "ADMIN", fingerprint="phone-2"))["newDevice"] is True
    assert [log.new_device for log in _logs(db, admin_id)] == [True, False, True]

    # wrong password and unknown email: the same 401, each attempt logged
    wrong = await _login(http, brand, "ADMIN", password="not-it", fingerprint="laptop-1")
    unknown_email = f"nobody-{uuid.uuid4().hex[:6]}@{brand['brand_code']}.example"
    unknown = await http.post(f"{AUTH}/login", json={"email": unknown_email, "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"] == "invalid email or password"
    failed = _logs(db, admin_id)[-1]
    assert (failed.success, failed.reason, failed.new_device) == (False, "wrong password", False)
    assert _user(db, admin_id).failed_logins == 1
    [log] = _logs(db, email=unknown_email)
    assert (log.staff_id, log.success, log.reason) == (None, False, "unknown email")
    # a refused login opens no session
    assert _count(db, StaffActivitySession, StaffActivitySession.staff_id == admin_id) == 3


async def test_lockout_refuses_even_the_right_password_until_it_expires(app, brand, db, http) -> None:  # noqa: ANN001
    le_id = _staff_id(brand, "LOAN_EXECUTIVE")
    limit = app.settings.staff_max_failed_logins
    # failures below the limit, then a success: the count starts again
    for _ in range(limit - 1):
        assert (await _login(http, brand, "LOAN_EXECUTIVE", password="wrong")).status_code == 401
    assert _user(db, le_id).failed_logins == limit - 1
    await _tokens(http, brand, "LOAN_EXECUTIVE")
    assert _user(db, le_id).failed_logins == 0

    for _ in range(limit - 1):
        assert (await _login(http, brand, "LOAN_EXECUTIVE", password="wrong")).status_code == 401
    resp = await _login(http, brand, "LOAN_EXECUTIVE", password="wrong")
    assert resp.status_code == 429 and "locked until" in resp.json()["message"], resp.text
    user = _user(db, le_id)
    lock = timedelta(minutes=app.settings.staff_lockout_minutes)
    assert user.locked_until is not None
    assert lock - timedelta(minutes=1) < user.locked_until - datetime.now(UTC) <= lock
    sessions = _count(db, StaffActivitySession, StaffActivitySession.staff_id == le_id)

    # the right password is refused while locked, and the lock is not moved
    resp = await _login(http, brand, "LOAN_EXECUTIVE")
    assert resp.status_code == 429 and "accessToken" not in resp.json()
    assert _user(db, le_id).locked_until == user.locked_until
    assert _logs(db, le_id)[-1].reason == "account locked"
    assert _count(db, StaffActivitySession, StaffActivitySession.staff_id == le_id) == sessions

    # once the lock has run out the right password works and clears the count
    with db.unit_of_work() as s:
        s.execute(
            update(StaffUser).where(StaffUser.id == le_id).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    await _tokens(http, brand, "LOAN_EXECUTIVE")
    user = _user(db, le_id)
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert _count(db, StaffActivitySession, StaffActivitySession.staff_id == le_id) == sessions + 1


# --------------------------------------------------------------------------------- tokens, sessions
async def test_unknown_emails_and_noisy_addresses_are_throttled(app, brand, db, http) -> None:  # noqa: ANN001
    """An unknown email answers like a real one: 401, then 429 once it has failed as often as locks an account
    (so the lock reveals nothing). One address failing too often is throttled whatever email it tries."""
    limit = app.settings.staff_max_failed_logins
    ghost = f"ghost{uuid.uuid4().hex[:6]}@{brand['brand_code']}.example"
    for _ in range(limit):
        resp = await http.post("/api/v1/partner/auth/login", json={"email": ghost, "password": "guess"})
        assert resp.status_code == 401, resp.text
    resp = await http.post("/api/v1/partner/auth/login", json={"email": ghost, "password": "guess"})
    assert resp.status_code == 429 and "locked until" in resp.json()["message"]
    with db.unit_of_work() as s:
        reasons = s.scalars(
            select(StaffLoginLog.reason).where(StaffLoginLog.email == ghost).order_by(StaffLoginLog.created_at)
        ).all()
    assert reasons == ["unknown email"] * limit + ["throttled"]

    # an address over its limit: even a real account with the right password is refused for now
    saved = app.settings.staff_max_failed_logins_per_ip
    app.settings.staff_max_failed_logins_per_ip = 1
    try:
        resp = await _login(http, brand, "COLLECTION_HEAD")
        assert resp.status_code == 429, resp.text
    finally:
        app.settings.staff_max_failed_logins_per_ip = saved
    assert (await _login(http, brand, "COLLECTION_HEAD")).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_family(app, brand, db, http) -> None:  # noqa: ANN001
    first = await _tokens(http, brand, "LOAN_EXECUTIVE")
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": first["refreshToken"]})
    assert resp.status_code == 200, resp.text
    second = resp.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert _claims(second)["sid"] == _claims(first)["sid"]  # the same activity session
    old = _refresh_row(db, first["refreshToken"])
    assert old.revoked_at is not None and old.replaced_by == _refresh_row(db, second["refreshToken"]).id

    # a changed role shows in the next token
    with db.unit_of_work() as s:
        s.execute(
            update(StaffBrandRole)
            .where(StaffBrandRole.staff_id == _staff_id(brand, "LOAN_EXECUTIVE"))
            .values(role="CREDIT_EXECUTIVE")
        )
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": second["refreshToken"]})
    assert resp.status_code == 200, resp.text
    third = resp.json()
    assert _claims(third)["role"] == "CREDIT_EXECUTIVE" and "review.credit" in _claims(third)["perms"]

    # replaying a used token signs the whole login out: the newest refresh token fails too
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": first["refreshToken"]})
    assert resp.status_code == 401
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": third["refreshToken"]})
    assert resp.status_code == 401
    family = old.family_id
    assert _count(db, RefreshToken, RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None)) == 0
    # an unknown token is refused; a customer's endpoint does not take a staff refresh token
    assert (await http.post(f"{AUTH}/refresh-token", json={"refreshToken": "x" * 40})).status_code == 401
    fresh = await _tokens(http, brand, "LOAN_EXECUTIVE")
    resp = await http.post("/api/v1/web/auth/refresh-token", json={"refreshToken": fresh["refreshToken"]})
    assert resp.status_code == 401 and _refresh_row(db, fresh["refreshToken"]).revoked_at is None


async def test_logout_ping_and_deactivation(app, brand, db, http) -> None:  # noqa: ANN001
    pair = await _tokens(http, brand, "CREDIT_EXECUTIVE")
    sid = _claims(pair)["sid"]
    loans = _brand_url(brand["brand_id"], "loans")
    assert (await http.get(loans, headers=_bearer(pair))).status_code == 200

    # ping moves last_active_at
    past = datetime.now(UTC) - timedelta(hours=1)
    with db.unit_of_work() as s:
        s.execute(update(StaffActivitySession).where(StaffActivitySession.id == sid).values(last_active_at=past))
    resp = await http.post(f"{AUTH}/ping", headers=_bearer(pair))
    assert resp.status_code == 200 and resp.json()["sessionId"] == sid
    assert _activity(db, sid).last_active_at > past + timedelta(minutes=59)

    resp = await http.post(f"{AUTH}/logout", headers=_bearer(pair))
    assert resp.status_code == 200, resp.text
    activity = _activity(db, sid)
    assert activity.logout_at is not None
    assert _count(db, RevokedAccessToken, RevokedAccessToken.jti == _claims(pair)["jti"]) == 1
    assert (await http.get(loans, headers=_bearer(pair))).status_code == 401
    assert (await http.get(f"{AUTH}/me", headers=_bearer(pair))).status_code == 401
    assert (await http.post(f"{AUTH}/ping", headers=_bearer(pair))).status_code == 401
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": pair["refreshToken"]})
    assert resp.status_code == 401
    assert _activity(db, sid).last_active_at == activity.last_active_at

    # a deactivated account: its live token, its refresh token and new logins are refused
    other = await _tokens(http, brand, "SANCTION_MANAGER")
    sm_id = _staff_id(brand, "SANCTION_MANAGER")
    with db.unit_of_work() as s:
        s.execute(update(StaffUser).where(StaffUser.id == sm_id).values(is_active=False))
    assert (await http.get(loans, headers=_bearer(other))).status_code == 401
    assert (await http.get(f"{AUTH}/me", headers=_bearer(other))).status_code == 401
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": other["refreshToken"]})
    assert resp.status_code == 401
    assert _refresh_row(db, other["refreshToken"]).revoked_at is None  # refused, nothing rotated
    resp = await _login(http, brand, "SANCTION_MANAGER")
    assert resp.status_code == 401 and resp.json()["message"] == "invalid email or password"
    assert _logs(db, sm_id)[-1].reason == "account deactivated"


async def test_switch_brand(app, brand, sandbox, db, http) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    le_id = _staff_id(brand, "LOAN_EXECUTIVE")
    pair = await _tokens(http, brand, "LOAN_EXECUTIVE")
    other_loans = _brand_url(other["brand_id"], "loans")
    assert (await http.get(other_loans, headers=_bearer(pair))).status_code == 404

    # not (yet) working in the other brand: 404, no token issued
    family = _refresh_row(db, pair["refreshToken"]).family_id
    resp = await http.post(f"{AUTH}/switch-brand", json={"brandId": other["brand_id"]}, headers=_bearer(pair))
    assert resp.status_code == 404, resp.text
    for ref in (str(uuid.uuid4()), "not-a-brand"):
        resp = await http.post(f"{AUTH}/switch-brand", json={"brandId": ref}, headers=_bearer(pair))
        assert resp.status_code == 404
    assert _count(db, RefreshToken, RefreshToken.family_id == family) == 1

    with db.unit_of_work() as s:
        s.add(StaffBrandRole(staff_id=le_id, brand_id=other["brand_id"], role="CREDIT_EXECUTIVE"))
    resp = await http.post(f"{AUTH}/switch-brand", json={"brandId": other["brand_id"]}, headers=_bearer(pair))
    assert resp.status_code == 200, resp.text
    switched = resp.json()
    claims = _claims(switched)
    assert (claims["brand"], claims["role"]) == (other["brand_id"], "CREDIT_EXECUTIVE")
    assert claims["brands"] == {brand["brand_id"]: "LOAN_EXECUTIVE", other["brand_id"]: "CREDIT_EXECUTIVE"}
    assert claims["sid"] == _claims(pair)["sid"] and switched["user"]["brandId"] == other["brand_id"]
    assert _activity(db, claims["sid"]).brand_id == other["brand_id"]
    assert (await http.get(other_loans, headers=_bearer(switched))).status_code == 200
    # the new refresh token keeps the brand; the one it replaced no longer works
    resp = await http.post(f"{AUTH}/refresh-token", json={"refreshToken": switched["refreshToken"]})
    assert resp.status_code == 200 and _claims(resp.json())["brand"] == other["brand_id"]
    assert _refresh_row(db, pair["refreshToken"]).revoked_at is not None

    # a colleague without a role there: 404; a super admin may switch to any active brand
    colleague = await _tokens(http, brand, "COLLECTION_EXECUTIVE")
    resp = await http.post(f"{AUTH}/switch-brand", json={"brandId": other["brand_id"]}, headers=_bearer(colleague))
    assert resp.status_code == 404
    admin = await _tokens(http, brand, "SUPER_ADMIN")
    resp = await http.post(f"{AUTH}/switch-brand", json={"brandId": other["brand_id"]}, headers=_bearer(admin))
    assert resp.status_code == 200 and _claims(resp.json())["role"] == "SUPER_ADMIN"
    assert _claims(resp.json())["brand"] == other["brand_id"]


# ----------------------------------------------------------------------------------------- reports
async def test_login_logs_and_sessions_reports_are_brand_scoped(app, brand, sandbox, db, http) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    ours = {s["id"] for s in brand["staff"]}
    assert (await _login(http, brand, "LOAN_EXECUTIVE", password="wrong")).status_code == 401
    le = await _tokens(http, brand, "LOAN_EXECUTIVE", fingerprint="desk-7")
    admin = await _tokens(http, brand, "ADMIN")
    other_admin = await _tokens(http, other, "ADMIN")
    logs = _brand_url(brand["brand_id"], "reports/login-logs")
    sessions = _brand_url(brand["brand_id"], "activity-sessions")

    resp = await http.get(logs, headers=_bearer(admin))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 3 and {i["staffId"] for i in body["items"]} <= ours
    le_id = _staff_id(brand, "LOAN_EXECUTIVE")
    resp = await http.get(logs, params={"staffId": le_id, "success": "false"}, headers=_bearer(admin))
    [failed] = resp.json()["items"]
    assert (failed["reason"], failed["ip"], failed["userAgent"]) == ("wrong password", "127.0.0.1", "los-tests/1")
    resp = await http.get(
        logs, params={"email": staff_email("LOAN_EXECUTIVE", brand["brand_code"])}, headers=_bearer(admin)
    )
    assert resp.json()["total"] == 2 and resp.json()["items"][0]["deviceFingerprint"] == "desk-7"
    resp = await http.get(logs, params={"limit": 1, "page": 2}, headers=_bearer(admin))
    assert resp.json()["total"] == 3 and len(resp.json()["items"]) == 1
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    resp = await http.get(logs, params={"from": future}, headers=_bearer(admin))
    assert resp.json()["total"] == 0
    for bad in ({"limit": 201}, {"staffId": "nope"}, {"from": future, "to": "2020-01-01T00:00:00"}, {"sort": "x"}):
        resp = await http.get(logs, params=bad, headers=_bearer(admin))
        assert resp.status_code == 422, (bad, resp.text)

    # the other brand's admin sees only their own staff, and not this brand's reports at all
    resp = await http.get(_brand_url(other["brand_id"], "reports/login-logs"), headers=_bearer(other_admin))
    assert resp.status_code == 200 and resp.json()["total"] == 1
    assert resp.json()["items"][0]["staffId"] == _staff_id(other, "ADMIN")
    assert (await http.get(logs, headers=_bearer(other_admin))).status_code == 404
    assert (await http.get(sessions, headers=_bearer(other_admin))).status_code == 404
    # AUDIT_VIEW is needed
    collector = await _tokens(http, brand, "COLLECTION_EXECUTIVE")
    assert (await http.get(logs, headers=_bearer(collector))).status_code == 403
    assert (await http.get(sessions, headers=_bearer(collector))).status_code == 403

    assert (await http.post(f"{AUTH}/logout", headers=_bearer(le))).status_code == 200
    resp = await http.get(sessions, headers=_bearer(admin))
    assert resp.status_code == 200 and resp.json()["total"] == 3  # executive, admin, collector
    assert {i["staffId"] for i in resp.json()["items"]} <= ours
    resp = await http.get(sessions, params={"active": "false"}, headers=_bearer(admin))
    [closed] = resp.json()["items"]
    assert closed["staffId"] == le_id and closed["logoutAt"] and closed["active"] is False
    assert closed["deviceFingerprint"] == "desk-7" and closed["durationSeconds"] >= 0
    resp = await http.get(sessions, params={"active": "true", "staffId": le_id}, headers=_bearer(admin))
    assert resp.json()["total"] == 0
    resp = await http.get(_brand_url(other["brand_id"], "activity-sessions"), headers=_bearer(other_admin))
    assert [i["staffId"] for i in resp.json()["items"]] == [_staff_id(other, "ADMIN")]


# ---------------------------------------------------------------------------------------- API keys
async def test_brand_api_keys(app, brand, sandbox, db, http) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    admin = _bearer(await _tokens(http, brand, "ADMIN"))
    other_admin = _bearer(await _tokens(http, other, "ADMIN"))
    keys = _brand_url(brand["brand_id"], "api-keys")
    loans = _brand_url(brand["brand_id"], "loans")

    # refusals create nothing
    collector = _bearer(await _tokens(http, brand, "COLLECTION_EXECUTIVE"))
    assert (await http.post(keys, json={"name": "crm"}, headers=collector)).status_code == 403
    for bad in ({"name": "   "}, {}, {"name": "crm", "scope": "all"}):
        resp = await http.post(keys, json=bad, headers=admin)
        assert resp.status_code == 422 and resp.json()["errors"][0]["field"] in ("name", "scope"), resp.text
    assert _count(db, BrandApiKey, BrandApiKey.brand_id == brand["brand_id"]) == 0

    resp = await http.post(keys, json={"name": "crm"}, headers=admin)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    raw = created["key"]
    assert raw.startswith("los_") and len(raw) > 40 and created["last4"] == raw[-4:]
    with db.unit_of_work() as s:
        row = s.get(BrandApiKey, created["id"])
        assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest() and row.brand_id == brand["brand_id"]
    resp = await http.get(keys, headers=admin)
    [listed] = resp.json()["items"]
    assert "key" not in listed and raw not in resp.text and row.key_hash not in resp.text
    assert (listed["last4"], listed["lastUsedAt"], listed["revokedAt"]) == (raw[-4:], None, None)

    # the key reads the brand's loans, and only that brand's
    assert (await http.get(loans, headers={"X-API-Key": raw})).status_code == 200
    [listed] = (await http.get(keys, headers=admin)).json()["items"]
    assert listed["lastUsedAt"] is not None
    assert (await http.get(_brand_url(other["brand_id"], "loans"), headers={"X-API-Key": raw})).status_code == 404
    assert (await http.get(keys, headers={"X-API-Key": raw})).status_code in (401, 403)
    assert (await http.post(keys, json={"name": "x"}, headers={"X-API-Key": raw})).status_code in (401, 403)
    # another brand cannot see or touch it
    other_keys = _brand_url(other["brand_id"], "api-keys")
    assert (await http.delete(f"{other_keys}/{created['id']}", headers=other_admin)).status_code == 404
    assert (await http.post(f"{other_keys}/{created['id']}/rotate", headers=other_admin)).status_code == 404
    assert (await http.delete(f"{keys}/{created['id']}", headers=other_admin)).status_code == 404
    assert (await http.get(other_keys, headers=other_admin)).json()["items"] == []

    # rotation: the old key stops, the new one works, linked
    resp = await http.post(f"{keys}/{created['id']}/rotate", headers=admin)
    assert resp.status_code == 201, resp.text
    rotated = resp.json()
    assert rotated["key"] != raw and rotated["name"] == "crm" and rotated["last4"] == rotated["key"][-4:]
    assert (await http.get(loans, headers={"X-API-Key": raw})).status_code == 401
    assert (await http.get(loans, headers={"X-API-Key": rotated["key"]})).status_code == 200
    with db.unit_of_work() as s:
        old = s.get(BrandApiKey, created["id"])
        assert old.revoked_at is not None and old.replaced_by == rotated["id"]
    resp = await http.post(f"{keys}/{created['id']}/rotate", headers=admin)
    assert resp.status_code == 409
    assert _count(db, BrandApiKey, BrandApiKey.brand_id == brand["brand_id"]) == 2

    # revocation
    resp = await http.delete(f"{keys}/{rotated['id']}", headers=admin)
    assert resp.status_code == 200 and resp.json()["revokedAt"]
    assert (await http.get(loans, headers={"X-API-Key": rotated["key"]})).status_code == 401
    assert (await http.delete(f"{keys}/{rotated['id']}", headers=admin)).status_code == 409
    assert (await http.delete(f"{keys}/not-a-key", headers=admin)).status_code == 404

    # every change audited, never with a key
    with db.unit_of_work() as s:
        audits = s.scalars(
            select(AuditLog).where(AuditLog.brand_id == brand["brand_id"], AuditLog.entity_type == "brand_api_key")
        ).all()
        actions = sorted((a.action, a.entity_id) for a in audits)
        assert actions == sorted(
            [("api_key.create", created["id"]), ("api_key.rotate", created["id"]), ("api_key.revoke", rotated["id"])]
        )
        assert all(a.actor_id == _staff_id(brand, "ADMIN") for a in audits)
        text = json.dumps([[a.before, a.after] for a in audits])
        assert raw not in text and rotated["key"] not in text and "los_" not in text
