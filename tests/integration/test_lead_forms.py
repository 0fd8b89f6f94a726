"""Lead forms through the real API and database (docs/operations.md, "Lead forms"): a Facebook Lead Ads export
uploaded (duplicates against the brand's customers and within the file, invalid rows with their line), synced
(PROCESSED with the customer / FAILED with the reason), listed with filters and stats, read, exported as CSV, a
status changed, deleted in bulk; bad input refused with 422 naming the field; another brand's leads out of reach."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from db.models import AuditLog, Customer, LeadForm
from los.demo import Driver
from los.seed import seed_brand

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "facebook_leads.csv").read_bytes()


def _fields(resp: httpx.Response) -> list[str]:
    return [e["field"] for e in resp.json().get("errors", [])]


def _customer(db, brand_id: str, phone: str, email: str | None = None) -> str:  # noqa: ANN001
    with db.unit_of_work() as s:
        c = Customer(brand_id=brand_id, phone=phone, email=email, full_name="Existing Customer")
        s.add(c)
        s.flush()
        return c.id


async def test_upload_sync_list_export_status_delete_isolation(app, brand, sandbox, db) -> None:  # noqa: ANN001, PLR0915
    b = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    outsider = Driver(app.api.url, sandbox.url, other["brand_code"])
    api, base = driver.api, f"/api/v1/partner/brand/{b}/lead-forms"
    _customer(db, b, "9876543210")  # Asha's phone: her row is a duplicate of a customer
    try:
        admin = await driver.staff_headers("ADMIN")
        viewer = await driver.staff_headers("LOAN_EXECUTIVE")  # customers.view, not customers.allocate

        def upload(data: bytes, headers: dict, kind: str = "text/csv") -> object:
            return api.post(f"{base}/upload", files={"file": ("leads.csv", data, kind)}, headers=headers)

        assert (await upload(FIXTURE, viewer)).status_code == 403
        r = await upload(FIXTURE, admin)
        assert r.status_code == 201, r.text
        up = r.json()
        assert (up["rows"], up["created"], up["duplicates"], up["invalid"]) == (6, 2, 2, 2)
        assert [(e["line"], e["column"]) for e in up["errors"]] == [(5, "phone_number"), (7, "email")]
        batch = up["batchId"]

        # a customer registers with Meena's e-mail after the upload: the sync matches her, not Ravi
        meena_customer = _customer(db, b, "9000000123", "Meena@Example.org")
        r = await api.post(f"{base}/sync", json={"batchId": batch}, headers=admin)
        assert r.status_code == 200 and r.json() == {"processed": 1, "failed": 1}, r.text
        assert (await api.post(f"{base}/sync", headers=admin)).json() == {"processed": 0, "failed": 0}

        # list, filters and stats
        r = await api.get(base, headers=viewer)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 4
        assert page["stats"] == {
            "total": 4,
            "new": 0,
            "processed": 1,
            "failed": 1,
            "duplicate": 2,
            "paid": 3,
            "organic": 1,
        }
        by_name = {x["fullName"]: x for x in page["items"]}
        assert by_name["Meena Iyer"]["status"] == "PROCESSED" and by_name["Meena Iyer"]["customerId"] == meena_customer
        assert by_name["Ravi Kumar"]["failureReason"] == "no customer with this phone or email"
        assert "customer" in by_name["Asha Verma"]["failureReason"] and "line 3" in by_name["Ravi K"]["failureReason"]
        assert by_name["Asha Verma"]["email"] == "asha.verma@example.com" and by_name["Ravi K"]["phone"] == "9123456789"

        async def names(**params: object) -> set[str]:
            r = await api.get(base, params=params, headers=viewer)
            assert r.status_code == 200, r.text
            return {x["fullName"] for x in r.json()["items"]}

        assert await names(status="DUPLICATE") == {"Asha Verma", "Ravi K"}
        assert await names(isPaid="false") == {"Meena Iyer"}
        assert await names(search="ravi") == {"Ravi Kumar", "Ravi K"}
        assert await names(search="+91 98765") == {"Asha Verma"}
        assert await names(search="MEENA@") == {"Meena Iyer"}
        assert await names(batchId=batch, source="FACEBOOK") == set(by_name)
        assert await names(batchId=str(uuid.uuid4())) == set()
        r = await api.get(base, params={"status": "DUPLICATE", "limit": 1}, headers=viewer)
        assert r.json()["total"] == 2 and len(r.json()["items"]) == 1 and r.json()["stats"]["total"] == 4

        # one lead: campaign, ad set, the form's other answers
        r = await api.get(f"{base}/{by_name['Ravi Kumar']['id']}", headers=viewer)
        assert r.status_code == 200, r.text
        one = r.json()
        assert (
            one["campaign"]["campaignName"] == "Personal loan Nov"
            and one["campaign"]["adSetId"] == "120210000000000011"
        )
        assert one["campaign"]["platform"] == "fb" and one["externalId"] == "l:1234567890123402"
        assert one["responses"] == {"monthly_salary": "38000", "employment_type": "salaried"}
        assert one["leadCreatedAt"].startswith("2026-11-28T06:10:55")

        # export
        r = await api.get(f"{base}/export", params={"status": "DUPLICATE"}, headers=viewer)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {x["fullName"] for x in rows} == {"Asha Verma", "Ravi K"} and rows[0]["status"] == "DUPLICATE"
        assert {x["phone"] for x in rows} == {"9876543210", "9123456789"}

        # status change: back to NEW with a reason, audited; PROCESSED only by a sync; the same status is a 409
        ravi = by_name["Ravi Kumar"]["id"]
        r = await api.patch(f"{base}/{ravi}/status", json={"status": "NEW", "reason": "customer called"}, headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "NEW" and r.json()["failureReason"] is None, r.text
        r = await api.patch(f"{base}/{ravi}/status", json={"status": "NEW", "reason": "again"}, headers=admin)
        assert r.status_code == 409
        r = await api.patch(f"{base}/{ravi}/status", json={"status": "PROCESSED", "reason": "x"}, headers=admin)
        assert r.status_code == 422 and _fields(r) == ["status"]
        r = await api.patch(f"{base}/{ravi}/status", json={"status": "FAILED", "reason": "x"}, headers=viewer)
        assert r.status_code == 403

        # the same file again: every valid row is now a duplicate of a lead or customer
        r = await upload(FIXTURE, admin)
        assert (r.json()["created"], r.json()["duplicates"]) == (0, 4)

        # validation: 422 (413 for size) naming the field
        bad = [
            (await api.post(f"{base}/upload", json={"file": "x"}, headers=admin), "file"),
            (await upload(b"\x89PNG\r\n", admin, "image/png"), "file"),
            (await upload(b"id,name\n1,x\n", admin), "file"),
            (await upload(b"", admin), "file"),
            (await upload(b"phone_number\n" + b"9876543210\n" * 20_001, admin), "file"),
            (await api.get(base, params={"status": "PENDINGX"}, headers=viewer), "status"),
            (await api.get(base, params={"batchId": "nope"}, headers=viewer), "batchId"),
            (await api.get(base, params={"fromDate": "2026-02-02", "toDate": "2026-02-01"}, headers=viewer), "toDate"),
            (await api.post(f"{base}/sync", json={"batchId": "x"}, headers=admin), "batchId"),
            (await api.patch(f"{base}/{ravi}/status", json={"status": "FAILED"}, headers=admin), "reason"),
            (await api.patch(f"{base}/{ravi}/status", json={"status": "GONE", "reason": "x"}, headers=admin), "status"),
        ]
        for resp, field in bad:
            assert resp.status_code == 422 and any(f.startswith(field) for f in _fields(resp)), (field, resp.text)
        r = await upload(b"phone_number\n" + b"9876543210\n" * 600_000, admin)
        assert r.status_code == 413 and _fields(r) == ["file"]
        many = [str(uuid.uuid4()) for _ in range(501)]
        r = await api.request("DELETE", f"{base}/bulk", json={"ids": many}, headers=admin)
        assert r.status_code == 422 and _fields(r)[0].startswith("ids")
        r = await api.request("DELETE", f"{base}/bulk", json={"ids": [ravi, ravi]}, headers=admin)
        assert r.status_code == 422 and _fields(r)[0].startswith("ids")

        # brand isolation: B's staff, and A's ids through B's brand, reach nothing
        b_admin = await outsider.staff_headers("ADMIN")
        other_base = f"/api/v1/partner/brand/{other['brand_id']}/lead-forms"
        assert (await api.get(f"{other_base}", headers=admin)).status_code == 404
        assert (await api.get(f"{other_base}/{ravi}", headers=b_admin)).status_code == 404
        assert (await api.get(f"{base}/{ravi}", headers=b_admin)).status_code == 404
        r = await api.patch(f"{other_base}/{ravi}/status", json={"status": "FAILED", "reason": "x"}, headers=b_admin)
        assert r.status_code == 404
        r = await api.request("DELETE", f"{other_base}/bulk", json={"ids": [ravi]}, headers=b_admin)
        assert r.status_code == 404
        assert (await api.get(other_base, headers=b_admin)).json()["total"] == 0

        # bulk delete: all of the brand or nothing
        r = await api.request("DELETE", f"{base}/bulk", json={"ids": [ravi, str(uuid.uuid4())]}, headers=admin)
        assert r.status_code == 404
        r = await api.request("DELETE", f"{base}/bulk", json={"ids": [ravi]}, headers=admin)
        assert r.status_code == 200 and r.json() == {"deleted": 1, "ids": [ravi]}, r.text
        assert (await api.get(f"{base}/{ravi}", headers=viewer)).status_code == 404

        with db.unit_of_work() as s:
            actions = set(s.scalars(select(AuditLog.action).where(AuditLog.brand_id == b)))
            assert {
                "lead_form.upload",
                "lead_form.sync",
                "lead_form.status",
                "lead_form.bulk_delete",
            } <= actions
            assert s.scalar(select(LeadForm.id).where(LeadForm.brand_id == other["brand_id"])) is None
    finally:
        await driver.close()
        await outsider.close()
