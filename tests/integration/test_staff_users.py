"""Partner users of a brand, platform admin users, the brand audit log and the audit safety net, over real HTTP
against the real database (and, for allocation and the review action, the real loan workflow)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from api.security import check_password
from db.models import AuditLog, Loan, StaffBrandRole, StaffUser
from los.demo import Driver
from los.seed import DEMO_PASSWORD, seed_brand, staff_email
from tests.conftest import eventually
from tests.integration.test_staff_and_webhooks import _apply, _status

PASSWORD = "s3cure-passw0rd"


def _base(brand_id: str) -> str:
    return f"/api/v1/partner/brand/{brand_id}"


async def _login(api: httpx.AsyncClient, email: str, password: str = DEMO_PASSWORD) -> dict:
    resp = await api.post("/api/v1/partner/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _bearer(login: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {login['accessToken']}"}


def _user(db, email: str) -> StaffUser | None:  # noqa: ANN001
    with db.unit_of_work() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.email == email)).first()
        if user is not None:
            s.expunge(user)
        return user


def _roles(db, user_id: str) -> dict[str, str]:  # noqa: ANN001
    with db.unit_of_work() as s:
        return dict(
            s.execute(
                select(StaffBrandRole.brand_id, StaffBrandRole.role).where(StaffBrandRole.staff_id == user_id)
            ).all()
        )


def _audits(db, *where) -> list[AuditLog]:  # noqa: ANN001, ANN002
    with db.unit_of_work() as s:
        rows = s.scalars(select(AuditLog).where(*where).order_by(AuditLog.created_at)).all()
        s.expunge_all()
        return list(rows)


def _field(resp: httpx.Response) -> str:
    return resp.json()["errors"][0]["field"]


async def test_brand_users_list_create_update_delete(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api, base = driver.api, _base(brand["brand_id"])
    try:
        admin = await driver.staff_headers("ADMIN")
        admin_id = _user(db, staff_email("ADMIN", brand["brand_code"])).id

        # list: the seeded staff with their role here, filters, pagination, never a password hash
        resp = await api.get(f"{base}/user", headers=admin)
        assert resp.status_code == 200, resp.text
        listed = resp.json()
        assert listed["total"] == 9 and len(listed["items"]) == 9
        assert "password" not in resp.text.lower() and "$argon2" not in resp.text
        resp = await api.get(f"{base}/user", params={"role": "CREDIT_EXECUTIVE"}, headers=admin)
        assert [u["email"] for u in resp.json()["items"]] == [staff_email("CREDIT_EXECUTIVE", brand["brand_code"])]
        resp = await api.get(f"{base}/user", params={"search": "SANCTION."}, headers=admin)
        assert sorted(u["role"] for u in resp.json()["items"]) == ["SANCTION_HEAD", "SANCTION_MANAGER"]
        resp = await api.get(f"{base}/user", params={"limit": 4, "page": 3}, headers=admin)
        assert resp.json()["total"] == 9 and len(resp.json()["items"]) == 1
        assert (await api.get(f"{base}/user", params={"limit": 201}, headers=admin)).status_code == 422
        # a sanction manager may look (STAFF_VIEW), a credit executive may not
        assert (
            await api.get(f"{base}/user", headers=await driver.staff_headers("SANCTION_MANAGER"))
        ).status_code == 200
        assert (
            await api.get(f"{base}/user", headers=await driver.staff_headers("CREDIT_EXECUTIVE"))
        ).status_code == 403

        # refusals create nothing
        email = f"asha.{uuid.uuid4().hex[:6]}@{brand['brand_code']}.example"
        good = {"email": email.upper(), "name": " Asha K ", "phone": "9876543210", "role": "LOAN_EXECUTIVE"}
        refusals = [
            ({**good, "password": "short1"}, admin, 422, "password"),
            ({**good, "password": "onlyletterspassword"}, admin, 422, "password"),
            ({**good, "password": "1234567890123"}, admin, 422, "password"),
            ({**good, "password": PASSWORD, "role": "SUPER_ADMIN"}, admin, 422, "role"),
            ({**good, "password": PASSWORD, "role": "WIZARD"}, admin, 422, "role"),
            ({**good, "password": PASSWORD, "email": "not-an-email"}, admin, 422, "email"),
            ({**good, "password": PASSWORD, "reportingToId": str(uuid.uuid4())}, admin, 422, "reportingToId"),
            ({**good, "password": PASSWORD}, await driver.staff_headers("CREDIT_EXECUTIVE"), 403, None),
        ]
        for body, headers, status, field in refusals:
            resp = await api.post(f"{base}/user/create", json=body, headers=headers)
            assert resp.status_code == status, (body, resp.text)
            if field:
                assert _field(resp) == field, resp.text
        assert _user(db, email) is None

        # create, and read back
        resp = await api.post(
            f"{base}/user/create", json={**good, "password": PASSWORD, "reportingToId": admin_id}, headers=admin
        )
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["email"] == email and created["name"] == "Asha K" and created["role"] == "LOAN_EXECUTIVE"
        assert created["reportingToId"] == admin_id and created["isActive"] is True
        assert "password" not in resp.text.lower()
        user = _user(db, email)
        assert user.brand_id == brand["brand_id"] and user.role == "LOAN_EXECUTIVE"
        assert check_password(user.password_hash, PASSWORD)
        assert _roles(db, user.id) == {brand["brand_id"]: "LOAN_EXECUTIVE"}
        resp = await api.get(f"{base}/user", params={"search": "asha"}, headers=admin)
        assert [(u["id"], u["role"]) for u in resp.json()["items"]] == [(user.id, "LOAN_EXECUTIVE")]
        # one audit row for the creation, without the hash; the safety net did not add a second one
        rows = _audits(db, AuditLog.path == f"{base}/user/create", AuditLog.entity_id == user.id)
        assert [(r.action, r.actor_id, r.brand_id) for r in rows] == [("user.create", admin_id, brand["brand_id"])]
        assert rows[0].after["email"] == email and "passwordHash" not in rows[0].after
        assert "argon2" not in str(rows[0].after)
        assert not _audits(db, AuditLog.path == f"{base}/user/create", AuditLog.action.like("http.%"))
        # the same email again in this brand
        resp = await api.post(f"{base}/user/create", json={**good, "password": PASSWORD}, headers=admin)
        assert resp.status_code == 409 and _field(resp) == "email"

        # update: name, phone, role here (the home role follows), and read back
        url = f"{base}/user/{user.id}/update"
        resp = await api.put(
            url, json={"name": "Asha Kumar", "phone": None, "role": "COLLECTION_EXECUTIVE"}, headers=admin
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["role"] == "COLLECTION_EXECUTIVE" and resp.json()["phone"] is None
        resp = await api.get(f"{base}/user", params={"role": "COLLECTION_EXECUTIVE"}, headers=admin)
        assert user.id in [u["id"] for u in resp.json()["items"]]
        stored = _user(db, email)
        assert (stored.name, stored.phone, stored.role) == ("Asha Kumar", None, "COLLECTION_EXECUTIVE")
        row = _audits(db, AuditLog.action == "user.update", AuditLog.entity_id == user.id)[-1]
        assert row.before["role"] == "LOAN_EXECUTIVE" and row.after["role"] == "COLLECTION_EXECUTIVE"
        # bad updates change nothing
        for body, status, field in [
            ({}, 422, "body"),
            ({"name": None}, 422, "name"),
            ({"role": "SUPER_ADMIN"}, 422, "role"),
            ({"password": "weak"}, 422, "password"),
            ({"reportingToId": user.id}, 422, "reportingToId"),
            ({"unknown": 1}, 422, "unknown"),
        ]:
            resp = await api.put(url, json=body, headers=admin)
            assert resp.status_code == status and _field(resp) == field, (body, resp.text)
        assert _user(db, email).updated_at == stored.updated_at

        # password reset: the new one works, the old one no longer; every sign-in from before ends at once
        before_reset = await _login(api, email, PASSWORD)
        assert (await api.get(f"{base}/loans", headers=_bearer(before_reset))).status_code == 200
        resp = await api.put(url, json={"password": "another-passw0rd"}, headers=admin)
        assert resp.status_code == 200, resp.text
        assert (await api.get(f"{base}/loans", headers=_bearer(before_reset))).status_code == 401
        refreshed = await api.post(
            "/api/v1/partner/auth/refresh-token", json={"refreshToken": before_reset["refreshToken"]}
        )
        assert refreshed.status_code == 401
        assert _audits(db, AuditLog.action == "user.update", AuditLog.entity_id == user.id)[-1].after["passwordReset"]
        bad = await api.post("/api/v1/partner/auth/login", json={"email": email, "password": PASSWORD})
        assert bad.status_code == 401
        own = _bearer(await _login(api, email, "another-passw0rd"))
        assert (await api.get(f"{base}/loans", headers=own)).status_code == 200

        # an admin can neither deactivate themself nor change their own role, nor touch a super admin
        resp = await api.put(f"{base}/user/{admin_id}/update", json={"isActive": False}, headers=admin)
        assert resp.status_code == 409 and _field(resp) == "isActive"
        resp = await api.put(f"{base}/user/{admin_id}/update", json={"role": "LOAN_EXECUTIVE"}, headers=admin)
        assert resp.status_code == 409 and _field(resp) == "role"
        assert (await api.delete(f"{base}/user/{admin_id}", headers=admin)).status_code == 409
        super_admin_id = _user(db, staff_email("SUPER_ADMIN", brand["brand_code"])).id
        resp = await api.put(f"{base}/user/{super_admin_id}/update", json={"isActive": False}, headers=admin)
        assert resp.status_code == 403
        stored_admin = _user(db, staff_email("ADMIN", brand["brand_code"]))
        assert stored_admin.is_active and stored_admin.role == "ADMIN"
        assert _user(db, staff_email("SUPER_ADMIN", brand["brand_code"])).is_active

        # delete: the role here goes; with no brand left the account is deactivated and its token stops working
        assert (
            await api.delete(f"{base}/user/{user.id}", headers=await driver.staff_headers("LOAN_EXECUTIVE"))
        ).status_code == 403
        resp = await api.delete(f"{base}/user/{user.id}", headers=admin)
        assert resp.status_code == 200, resp.text
        assert resp.json()["isActive"] is False and _roles(db, user.id) == {}
        assert _user(db, email).is_active is False
        resp = await api.get(f"{base}/loans", headers=own)
        assert resp.status_code == 401 and "deactivated" in resp.json()["message"]
        again = await api.post("/api/v1/partner/auth/login", json={"email": email, "password": "another-passw0rd"})
        assert again.status_code == 401
        assert (await api.delete(f"{base}/user/{user.id}", headers=admin)).status_code == 404
        resp = await api.get(f"{base}/user", params={"search": "asha"}, headers=admin)
        assert resp.json()["total"] == 0
        row = _audits(db, AuditLog.action == "user.remove", AuditLog.entity_id == user.id)[-1]
        assert row.before["role"] == "COLLECTION_EXECUTIVE" and row.after == {
            "role": None,
            "isActive": False,
            "releasedLoans": [],
        }
    finally:
        await driver.close()


async def test_multi_brand_users_and_audit_log_scope(app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver_a = Driver(app.api.url, sandbox.url, brand["brand_code"])
    driver_b = Driver(app.api.url, sandbox.url, other["brand_code"])
    api, base_a, base_b = driver_a.api, _base(brand["brand_id"]), _base(other["brand_id"])
    try:
        admin_a = await driver_a.staff_headers("ADMIN")
        admin_b = await driver_b.staff_headers("ADMIN")
        admin_a_id = _user(db, staff_email("ADMIN", brand["brand_code"])).id
        shared_email = staff_email("CREDIT_EXECUTIVE", other["brand_code"])
        shared = _user(db, shared_email)
        old_hash = shared.password_hash

        # brand A cannot take over or attach brand B's account by "creating" its email: 409, nothing changes
        resp = await api.post(
            f"{base_a}/user/create",
            json={"email": shared_email, "name": "Someone Else", "role": "SANCTION_MANAGER", "password": PASSWORD},
            headers=admin_a,
        )
        assert resp.status_code == 409 and _field(resp) == "email", resp.text
        assert "platform admin" in resp.json()["message"]
        assert _roles(db, shared.id) == {other["brand_id"]: "CREDIT_EXECUTIVE"}
        assert _audits(db, AuditLog.entity_id == shared.id) == []
        # a platform admin gives the person a role in brand A; the account keeps its password
        super_admin = await driver_a.staff_headers("SUPER_ADMIN")
        super_admin_id = _user(db, staff_email("SUPER_ADMIN", brand["brand_code"])).id
        roles = [
            {"brandId": other["brand_id"], "role": "CREDIT_EXECUTIVE"},
            {"brandId": brand["brand_id"], "role": "SANCTION_MANAGER"},
        ]
        resp = await api.put(f"/api/v1/admin/users/{shared.id}", json={"brands": roles}, headers=super_admin)
        assert resp.status_code == 200, resp.text
        assert _roles(db, shared.id) == {other["brand_id"]: "CREDIT_EXECUTIVE", brand["brand_id"]: "SANCTION_MANAGER"}
        stored = _user(db, shared_email)
        assert stored.password_hash == old_hash and stored.name == shared.name and stored.brand_id == other["brand_id"]
        login = await _login(api, shared_email)
        assert {(b["brandId"], b["role"]) for b in login["user"]["brands"]} == {
            (other["brand_id"], "CREDIT_EXECUTIVE"),
            (brand["brand_id"], "SANCTION_MANAGER"),
        }
        token = _bearer(login)
        assert (await api.get(f"{base_a}/queues/sanction-manager", headers=token)).status_code == 200
        assert (await api.get(f"{base_b}/queues/credit-executive", headers=token)).status_code == 200
        # each brand lists the user with the role held there
        resp = await api.get(f"{base_a}/user", params={"search": shared_email}, headers=admin_a)
        assert [u["role"] for u in resp.json()["items"]] == ["SANCTION_MANAGER"]
        resp = await api.get(f"{base_b}/user", params={"search": shared_email}, headers=admin_b)
        assert [u["role"] for u in resp.json()["items"]] == ["CREDIT_EXECUTIVE"]
        resp = await api.post(
            f"{base_a}/user/create",
            json={"email": shared_email, "name": "x", "role": "ADMIN", "password": PASSWORD},
            headers=admin_a,
        )
        assert resp.status_code == 409

        # brand A cannot change the account of someone who also works in brand B (password, active, name...)
        for body, field in [
            ({"password": "takeover-passw0rd"}, "password"),
            ({"isActive": False}, "isActive"),
            ({"name": "Renamed"}, "name"),
        ]:
            resp = await api.put(f"{base_a}/user/{shared.id}/update", json=body, headers=admin_a)
            assert resp.status_code == 409 and _field(resp) == field, resp.text
        stored = _user(db, shared_email)
        assert stored.password_hash == old_hash and stored.is_active
        # and brand B's own users are not brand A's to see or change
        admin_b_id = _user(db, staff_email("ADMIN", other["brand_code"])).id
        assert (
            await api.put(f"{base_a}/user/{admin_b_id}/update", json={"name": "x"}, headers=admin_a)
        ).status_code == 404
        assert (await api.delete(f"{base_a}/user/{admin_b_id}", headers=admin_a)).status_code == 404
        assert (await api.get(f"{base_b}/user", headers=admin_a)).status_code == 404
        assert _user(db, staff_email("ADMIN", other["brand_code"])).name == "Admin"

        # removing the user from brand A leaves them active in brand B
        resp = await api.delete(f"{base_a}/user/{shared.id}", headers=admin_a)
        assert resp.status_code == 200 and resp.json()["isActive"] is True
        assert _roles(db, shared.id) == {other["brand_id"]: "CREDIT_EXECUTIVE"}
        # at once: the token from before still works in brand B, no longer in brand A
        assert (await api.get(f"{base_a}/queues/sanction-manager", headers=token)).status_code == 404
        assert (await api.get(f"{base_b}/queues/credit-executive", headers=token)).status_code == 200
        login = await _login(api, shared_email)
        assert login["user"]["brands"] == [{"brandId": other["brand_id"], "role": "CREDIT_EXECUTIVE"}]
        assert login["user"]["brandId"] == other["brand_id"]

        # the audit log: brand A's rows, filterable; brand B sees none of them
        logs_a = f"{base_a}/audit-logs"
        resp = await api.get(logs_a, headers=admin_a)
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        assert [i["action"] for i in items] == ["user.remove", "admin.user.role"]  # newest first
        assert all(i["brandId"] == brand["brand_id"] for i in items)
        assert [i["actorId"] for i in items] == [admin_a_id, super_admin_id]
        assert items[1]["before"] == {"role": None} and items[1]["after"]["role"] == "SANCTION_MANAGER"
        assert (await api.get(f"{base_a}/user/audit-logs", headers=admin_a)).json()["items"] == items
        filtered = {
            "action": ("admin.user.role", ["admin.user.role"]),
            "entityId": (shared.id, ["user.remove", "admin.user.role"]),
        }
        for name, (value, wanted) in filtered.items():
            resp = await api.get(logs_a, params={name: value}, headers=admin_a)
            assert [i["action"] for i in resp.json()["items"]] == wanted, (name, resp.text)
        checks = [
            ({"action": "user."}, 1),
            ({"action": "admin."}, 1),
            ({"action": "settings."}, 0),
            ({"entityType": "staff_user"}, 2),
            ({"entityType": "loan"}, 0),
            ({"actorId": admin_a_id}, 1),
            ({"actorId": admin_b_id}, 0),
            ({"from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, 2),
            ({"from": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, 0),
            ({"to": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}, 0),
            ({"limit": 1, "page": 2}, 2),
        ]
        for params, total in checks:
            resp = await api.get(logs_a, params=params, headers=admin_a)
            assert resp.status_code == 200 and resp.json()["total"] == total, (params, resp.text)
        resp = await api.get(logs_a, params={"limit": 1, "page": 2}, headers=admin_a)
        assert [i["action"] for i in resp.json()["items"]] == ["admin.user.role"]
        assert (await api.get(logs_a, params={"actorId": "me"}, headers=admin_a)).status_code == 422
        assert (await api.get(logs_a, params={"limit": 500}, headers=admin_a)).status_code == 422
        resp = await api.get(logs_a, params={"from": "2026-01-02", "to": "2026-01-01"}, headers=admin_a)
        assert resp.status_code == 422 and _field(resp) == "from"
        assert (await api.get(logs_a, headers=await driver_a.staff_headers("CREDIT_EXECUTIVE"))).status_code == 403
        resp = await api.get(f"{base_b}/audit-logs", headers=admin_b)
        assert resp.status_code == 200 and resp.json()["total"] == 0
        assert (await api.get(logs_a, headers=admin_b)).status_code == 404
    finally:
        await driver_a.close()
        await driver_b.close()


async def test_platform_admin_users(app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    try:
        root = await driver.staff_headers("SUPER_ADMIN")
        root_id = _user(db, staff_email("SUPER_ADMIN", brand["brand_code"])).id
        admin = await driver.staff_headers("ADMIN")
        email = f"multi.{uuid.uuid4().hex[:6]}@example.com"
        body = {
            "email": email,
            "name": "Multi Brand",
            "password": PASSWORD,
            "homeBrandId": brand["brand_id"],
            "brands": [
                {"brandId": brand["brand_id"], "role": "CREDIT_EXECUTIVE"},
                {"brandId": other["brand_id"], "role": "COLLECTION_MANAGER"},
            ],
        }

        # brand admins are not platform admins
        assert (await api.get("/api/v1/admin/users", headers=admin)).status_code == 403
        assert (await api.post("/api/v1/admin/users/create", json=body, headers=admin)).status_code == 403
        assert (await api.get("/api/v1/admin/users")).status_code == 401
        assert _user(db, email) is None

        # users across brands, with their role in each
        resp = await api.get("/api/v1/admin/users", params={"limit": 200}, headers=root)
        assert resp.status_code == 200, resp.text
        assert resp.json()["total"] >= 18 and "password" not in resp.text.lower()  # every brand's (a shared database)
        for b in (brand, other):  # each brand's admin among them, found by brand (one page cannot hold every test's)
            page = (await api.get("/api/v1/admin/users", params={"brandId": b["brand_id"]}, headers=root)).json()
            assert staff_email("ADMIN", b["brand_code"]) in {u["email"] for u in page["items"]}
        resp = await api.get("/api/v1/admin/users", params={"brandId": other["brand_id"]}, headers=root)
        assert resp.json()["total"] == 9
        assert all(other["brand_id"] in [b["brandId"] for b in u["brands"]] for u in resp.json()["items"])
        params = {"brandId": brand["brand_id"], "role": "SANCTION_HEAD"}
        resp = await api.get("/api/v1/admin/users", params=params, headers=root)
        assert [u["email"] for u in resp.json()["items"]] == [staff_email("SANCTION_HEAD", brand["brand_code"])]
        resp = await api.get("/api/v1/admin/users", params={"search": f"@{other['brand_code']}."}, headers=root)
        assert resp.json()["total"] == 9
        assert (await api.get("/api/v1/admin/users", params={"brandId": "x"}, headers=root)).status_code == 422

        # create a two-brand user; refusals first
        refusals = [
            ({**body, "password": "weakpassword"}, 422, "password"),
            ({**body, "homeBrandId": str(uuid.uuid4())}, 422, "homeBrandId"),
            ({**body, "brands": [{"brandId": str(uuid.uuid4()), "role": "ADMIN"}]}, 422, "brands.0.brandId"),
            ({**body, "brands": [body["brands"][0], body["brands"][0]]}, 422, "brands.1.brandId"),
            ({**body, "brands": [{"brandId": brand["brand_id"], "role": "SUPER_ADMIN"}]}, 422, "brands.0.role"),
            ({**body, "brands": []}, 422, "brands"),
            ({**body, "email": staff_email("ADMIN", other["brand_code"])}, 409, "email"),
        ]
        for bad, status, field in refusals:
            resp = await api.post("/api/v1/admin/users/create", json=bad, headers=root)
            assert resp.status_code == status and _field(resp) == field, (bad, resp.text)
        assert _user(db, email) is None
        resp = await api.post("/api/v1/admin/users/create", json=body, headers=root)
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["homeBrandId"] == brand["brand_id"] and created["superAdmin"] is False
        assert created["role"] == "CREDIT_EXECUTIVE" and len(created["brands"]) == 2
        login = await _login(api, email, PASSWORD)
        assert {(b["brandId"], b["role"]) for b in login["user"]["brands"]} == {
            (brand["brand_id"], "CREDIT_EXECUTIVE"),
            (other["brand_id"], "COLLECTION_MANAGER"),
        }
        # each brand sees the user, and an audit row saying the platform added them
        for brand_id, role in [(brand["brand_id"], "CREDIT_EXECUTIVE"), (other["brand_id"], "COLLECTION_MANAGER")]:
            rows = _audits(db, AuditLog.brand_id == brand_id, AuditLog.entity_id == created["id"])
            assert [(r.action, r.before, r.after, r.actor_id) for r in rows] == [
                ("admin.user.role", {"role": None}, {"role": role}, root_id)
            ]
        platform = _audits(db, AuditLog.brand_id.is_(None), AuditLog.entity_id == created["id"])
        assert [r.action for r in platform] == ["admin.user.create"]
        assert platform[0].after["brands"] == {
            brand["brand_id"]: "CREDIT_EXECUTIVE",
            other["brand_id"]: "COLLECTION_MANAGER",
        }
        assert "argon2" not in str(platform[0].after)
        resp = await api.get(f"{_base(other['brand_id'])}/user", params={"search": email}, headers=_bearer(login))
        assert resp.status_code == 200 and resp.json()["items"][0]["role"] == "COLLECTION_MANAGER"

        # replace the brand roles: out of brand A, home brand B
        url = f"/api/v1/admin/users/{created['id']}"
        only_b = {"brands": [{"brandId": other["brand_id"], "role": "COLLECTION_HEAD"}]}
        resp = await api.put(url, json=only_b, headers=root)
        assert resp.status_code == 422 and _field(resp) == "homeBrandId"
        assert (await api.put(url, json=only_b, headers=admin)).status_code == 403
        assert _roles(db, created["id"]) == {
            brand["brand_id"]: "CREDIT_EXECUTIVE",
            other["brand_id"]: "COLLECTION_MANAGER",
        }
        resp = await api.put(url, json={**only_b, "homeBrandId": other["brand_id"], "name": "Moved"}, headers=root)
        assert resp.status_code == 200, resp.text
        assert resp.json()["homeBrandId"] == other["brand_id"] and resp.json()["role"] == "COLLECTION_HEAD"
        assert _roles(db, created["id"]) == {other["brand_id"]: "COLLECTION_HEAD"}
        stored = _user(db, email)
        assert (stored.brand_id, stored.role, stored.name) == (other["brand_id"], "COLLECTION_HEAD", "Moved")
        rows = _audits(db, AuditLog.brand_id == brand["brand_id"], AuditLog.entity_id == created["id"])
        assert (rows[-1].before, rows[-1].after) == ({"role": "CREDIT_EXECUTIVE"}, {"role": None})
        rows = _audits(db, AuditLog.brand_id == other["brand_id"], AuditLog.entity_id == created["id"])
        assert (rows[-1].before, rows[-1].after) == ({"role": "COLLECTION_MANAGER"}, {"role": "COLLECTION_HEAD"})

        # deactivation by the platform ends the user's tokens; nobody deactivates themself
        token = _bearer(await _login(api, email, PASSWORD))
        assert (await api.get(f"{_base(other['brand_id'])}/user", headers=token)).status_code == 200
        resp = await api.put(url, json={"isActive": False}, headers=root)
        assert resp.status_code == 200 and resp.json()["isActive"] is False
        assert (await api.get(f"{_base(other['brand_id'])}/user", headers=token)).status_code == 401
        resp = await api.put(f"/api/v1/admin/users/{root_id}", json={"isActive": False}, headers=root)
        assert resp.status_code == 409 and _user(db, staff_email("SUPER_ADMIN", brand["brand_code"])).is_active
        assert (
            await api.put(f"/api/v1/admin/users/{uuid.uuid4()}", json={"name": "x"}, headers=root)
        ).status_code == 404
    finally:
        await driver.close()


async def test_bulk_allocation_and_audit_safety_net(app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    driver_b = Driver(app.api.url, sandbox.url, other["brand_code"])
    api, base = driver.api, _base(brand["brand_id"])
    try:
        headers, loan = await _apply(driver, "review")
        await _status(driver, headers, loan["id"], "UNDER_REVIEW")
        sm = _user(db, staff_email("SANCTION_MANAGER", brand["brand_code"]))
        admin = await driver.staff_headers("ADMIN")
        email = f"ce2.{uuid.uuid4().hex[:6]}@{brand['brand_code']}.example"
        resp = await api.post(
            f"{base}/user/create",
            json={"email": email, "name": "Second CE", "role": "CREDIT_EXECUTIVE", "password": PASSWORD},
            headers=admin,
        )
        assert resp.status_code == 201, resp.text
        ce2 = resp.json()["id"]

        def holder() -> str | None:
            with db.unit_of_work() as s:
                return s.get_one(Loan, loan["id"]).assigned_to

        first = holder()  # the brand's allocation may already have given it to someone
        assert first != ce2

        # refusals move nothing: wrong stage role, a loan that is not this brand's, no permission, other brand
        resp = await api.post(f"{base}/user/{sm.id}/allocate-loans", json={"loanIds": [loan["id"]]}, headers=admin)
        assert resp.status_code == 422 and _field(resp) == "loanIds", resp.text
        unknown = str(uuid.uuid4())
        resp = await api.post(
            f"{base}/user/{ce2}/allocate-loans", json={"loanIds": [loan["id"], unknown, "nope"]}, headers=admin
        )
        assert resp.status_code == 404 and unknown in resp.json()["message"]
        ce2_headers = _bearer(await _login(api, email, PASSWORD))
        resp = await api.post(f"{base}/user/{ce2}/allocate-loans", json={"loanIds": [loan["id"]]}, headers=ce2_headers)
        assert resp.status_code == 403
        other_ce = _user(db, staff_email("CREDIT_EXECUTIVE", other["brand_code"]))
        resp = await api.post(
            f"{_base(other['brand_id'])}/user/{other_ce.id}/allocate-loans",
            json={"loanIds": [loan["id"]]},
            headers=await driver_b.staff_headers("ADMIN"),
        )
        assert resp.status_code == 404
        resp = await api.post(
            f"{base}/user/{other_ce.id}/allocate-loans", json={"loanIds": [loan["id"]]}, headers=admin
        )
        assert resp.status_code == 404
        assert (
            await api.post(f"{base}/user/{ce2}/allocate-loans", json={"loanIds": []}, headers=admin)
        ).status_code == 422
        assert holder() == first
        assert not _audits(db, AuditLog.entity_id == loan["id"], AuditLog.action == "loan.allocate")

        resp = await api.post(
            f"{base}/user/{ce2}/allocate-loans", json={"loanIds": [loan["id"]], "reason": "balancing"}, headers=admin
        )
        assert resp.status_code == 200, resp.text
        assert [i["assignedTo"] for i in resp.json()["items"]] == [ce2] and holder() == ce2
        rows = _audits(db, AuditLog.entity_id == loan["id"], AuditLog.action == "loan.allocate")
        assert [(r.before, r.after) for r in rows] == [
            ({"assignedTo": first}, {"assignedTo": ce2, "reason": "balancing"})
        ]
        allocate_path = f"{base}/user/{ce2}/allocate-loans"
        assert [r.action for r in _audits(db, AuditLog.path == allocate_path)] == ["loan.allocate"]

        # the safety net: forwarding calls no audit() in its handler, so the request itself is recorded, once
        forward_path = f"{base}/loans/{loan['id']}/forward"
        resp = await api.post(forward_path, json={"reason": "all good"}, headers=ce2_headers)
        assert resp.status_code == 200, resp.text
        rows = _audits(db, AuditLog.path == forward_path)
        assert [(r.action, r.entity_type, r.method, r.actor_id, r.actor_role, r.brand_id) for r in rows] == [
            ("http.POST", "request", "POST", ce2, "CREDIT_EXECUTIVE", brand["brand_id"])
        ]
        assert rows[0].actor_email == email and rows[0].after == {"status": 200}
        # (the workflow writes the review decision itself, with before/after)
        await eventually(lambda: _audits(db, AuditLog.entity_id == loan["id"], AuditLog.action == "loan.forward"))
        # refused and read-only requests leave no row
        resp = await api.post(forward_path, json={}, headers=ce2_headers)
        assert resp.status_code == 409, resp.text
        assert len(_audits(db, AuditLog.path == forward_path)) == 1
        resp = await api.get(f"{base}/audit-logs", params={"action": "http."}, headers=admin)
        assert [i["path"] for i in resp.json()["items"]] == [forward_path]
        with db.unit_of_work() as s:
            reads = s.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.brand_id == brand["brand_id"], AuditLog.method == "GET")
            )
        assert reads == 0

        # at the sanction manager's stage the loan goes to a sanction manager; removing them frees it again
        resp = await api.post(f"{base}/user/{sm.id}/allocate-loans", json={"loanIds": [loan["id"]]}, headers=admin)
        assert resp.status_code == 200 and holder() == sm.id, resp.text
        resp = await api.delete(f"{base}/user/{sm.id}", headers=admin)
        assert resp.status_code == 200 and resp.json()["releasedLoans"] == [loan["id"]]
        assert holder() is None
    finally:
        await driver.close()
        await driver_b.close()
