"""Brand isolation: walk every brand-scoped partner route of the OpenAPI schema as brand A's staff against
brand B's id and B's objects, and prove that nothing of B is read or changed.

For each route (and method) the walk
1. checks the route declares a brand guard (``api.access.Allow``) — nothing under /brand/{brandId} is open;
2. calls it with B's brand id in the path, signed in as an A user whose role has the route's permission → 404;
3. calls it with A's brand id but B's object ids in the path and body → never a 2xx for B's objects (every id in a
   path is a real row of B's, named by the segment before it — ``SEGMENT_TABLES``; an unmapped one fails the walk);
4. calls the GET routes with A's API key against B's brand → 404;
and asserts that no answer contains any of B's identifiers, and that every B row in the database is unchanged.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import select

from api.access import _BrandGuard, _PlatformGuard, api_key_hash, guards_of
from api.app import create_app
from db.models import (
    Base,
    BlocklistEntry,
    BrandApiKey,
    BrandNonRepaymentDate,
    BureauFile,
    BureauFileRecord,
    CollectionFollowUp,
    CollectorProfile,
    CustomerDocument,
    DialerCall,
    EvaluationItem,
    FieldVisit,
    LeadForm,
    Loan,
    LoanComment,
    OfflinePayment,
    PartnerUnavailabilityDate,
    PaymentTransaction,
    PolicySimulation,
    Refund,
    StaffBrandRole,
    StaffNotification,
    StaffReminder,
    StaffUser,
)
from domain.access import ROLE_PERMISSIONS, Role
from los.demo import Driver
from los.seed import seed_brand
from tests.integration.test_colending_losses import seed_remittance
from tests.integration.test_sme_api import seed_sme_request
from tests.integration.test_staff_and_webhooks import _apply, _status

BRAND_PREFIX = "/api/v1/partner/brand/{brand_id}"
# The path segment before an id names the table the id belongs to.
SEGMENT_TABLES = {
    "loans": "loans",
    "customers": "customers",
    "documents": "customer_documents",
    "user": "staff_users",
    "users": "staff_users",
    "staff": "staff_users",
    "api-keys": "brand_api_keys",
    "notifications": "staff_notifications",
    "blocklist": "blocklist_entries",
    "evaluation-items": "evaluation_items",
    "status-reasons": "brand_status_reasons",
    "loan-rules": "loan_products",
    "unavailability-dates": "partner_unavailability_dates",
    "holidays": "brand_non_repayment_dates",
    "comments": "loan_comments",
    "activity-sessions": "staff_activity_sessions",
    # money in: payment/approve/{id}, payment/reject/{id}, payment/proof/{id}; refunds/{id}/...
    "approve": "offline_payments",
    "reject": "offline_payments",
    "proof": "offline_payments",
    "refunds": "refunds",
    "receipts": "payment_transactions",
    # collections: collection/{loanId}/..., its field visits; collectors' profiles; the dialer's calls, agents and
    # customers (a dialer "user" is a customer, a staff "user" is a staff member: the two segments before say which)
    "collection": "loans",
    "field-visits": "field_visits",
    "collectors": "staff_users",
    "call": "dialer_calls",
    "partner": "staff_users",
    "dialer/user": "customers",
    # credit policy: policy/simulations/{id} (policy/versions/{version} is a number, not an id)
    "simulations": "policy_simulations",
    "versions": "policy_versions",
    "reminders": "staff_reminders",
    "lead-forms": "lead_forms",
    "bureau-files": "bureau_files",
    "sme/requests": "sme_financing_requests",
    "sme/credits": "sme_offline_credits",
    "businesses": "sme_businesses",
    # co-lending: co-lending/escrow/remittances/{id}/approve, /reject
    "escrow/remittances": "colending_remittances",
}
# Segments whose id is a staff member of a given role in B (a collection route asks for a collector).
SEGMENT_ROLES = {"collectors": "COLLECTION_EXECUTIVE", "partner": "COLLECTION_EXECUTIVE"}


def _b_rows(db, brand_id: str) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every row that belongs to brand B, table by table (through brand_id, loan_id, staff_id or customer_id)."""
    out: dict[str, list[tuple]] = {}
    with db.unit_of_work() as s:
        loans = set(s.scalars(select(Loan.id).where(Loan.brand_id == brand_id)))
        staff = set(s.scalars(select(StaffBrandRole.staff_id).where(StaffBrandRole.brand_id == brand_id)))
        for table in Base.metadata.sorted_tables:
            cols = table.c
            if table.name == "brands":
                cond = cols.id == brand_id
            elif table.name == "staff_users":
                cond = cols.id.in_(staff)
            elif "brand_id" in cols:
                cond = cols.brand_id == brand_id
            elif "loan_id" in cols:
                cond = cols.loan_id.in_(loans)
            elif "staff_id" in cols:
                cond = cols.staff_id.in_(staff)
            else:
                continue
            rows = s.execute(select(table).where(cond)).all()
            out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def _ids_of_b(db, brand_id: str) -> dict[str, list[str]]:  # noqa: ANN001
    rows = _b_rows(db, brand_id)
    ids: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.name in rows:
            position = list(table.c.keys()).index("id")
            ids[table.name] = [r[position] for r in rows[table.name]]
    return ids


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(name: str, schema: dict, components: dict, b_ids: dict[str, str]) -> Any:  # noqa: PLR0911
    """A value that passes simple validation, with B's ids wherever an id is asked for."""
    b_id = next((v for k, v in b_ids.items() if k in name.lower()), b_ids["loan"])
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(o, components).get("type") != "null"]
            return _example(name, options[0], components, b_ids) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    lowered = name.lower()
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _example(k, v, components, b_ids) for k, v in props.items()}
    if kind == "array":
        return [_example(name.rstrip("s"), schema.get("items", {}), components, b_ids)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1)
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if lowered.endswith("id") or lowered.endswith("ids") or fmt == "uuid":
        return b_id
    if fmt == "date":
        return (date.today() + timedelta(days=3)).isoformat()
    if "email" in lowered:
        return f"walker{uuid.uuid4().hex[:6]}@example.com"
    if "password" in lowered:
        return "Walker-password-2026"
    return "x" * max(int(schema.get("minLength", 1)), 3)


def _api_routes(candidates: list) -> list[APIRoute]:
    """Every APIRoute of the app, including those of included routers."""
    found: list[APIRoute] = []
    for route in candidates:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_api_routes(route.original_router.routes))
    return found


def _roles_for(guard: _BrandGuard) -> list[Role]:
    return [r for r in Role if r != Role.SUPER_ADMIN and any(p in ROLE_PERMISSIONS[r] for p in guard.permissions)]


async def test_every_partner_route_is_guarded_and_isolated(app, brand, sandbox, db) -> None:  # noqa: ANN001, PLR0915
    fastapi_app = create_app(app.settings)
    schema = fastapi_app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    routes = {(route.path, method): route for route in _api_routes(fastapi_app.routes) for method in route.methods}
    partner_paths = [p for p in schema["paths"] if p.startswith("/api/v1/partner/brand/")]
    assert len(partner_paths) >= 10  # the walk covers the real API, not an empty list

    # 1. every brand route declares a brand guard; every admin route the platform guard
    for (path, method), route in routes.items():
        guards = guards_of(route)
        if path.startswith(BRAND_PREFIX):
            assert any(isinstance(g, _BrandGuard) for g in guards), f"{method} {path} declares no Allow(...)"
        elif path.startswith("/api/v1/admin"):
            assert any(isinstance(g, _PlatformGuard) for g in guards), f"{method} {path} is not super-admin only"

    # brand B with data of every kind the routes address
    code_b = f"b{uuid.uuid4().hex[:7]}"
    brand_b = seed_brand(db, sandbox.url, code=code_b)
    b_id = brand_b["brand_id"]
    driver_b = Driver(app.api.url, sandbox.url, code_b)
    driver_a = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers_b, loan_b = await _apply(driver_b, "review")
        await _status(driver_b, headers_b, loan_b["id"], "UNDER_REVIEW")
        a_key = f"los_{uuid.uuid4().hex}"
        with db.unit_of_work() as s:
            staff_b = {u["role"]: u["id"] for u in brand_b["staff"]}
            loan = s.get_one(Loan, loan_b["id"])
            s.add(LoanComment(brand_id=b_id, loan_id=loan.id, staff_id=staff_b["CREDIT_EXECUTIVE"], comment="b only"))
            s.add(StaffNotification(staff_id=staff_b["CREDIT_EXECUTIVE"], brand_id=b_id, type="SYSTEM", title="b"))
            s.add(BlocklistEntry(brand_id=b_id, kind="PHONE", value="9000000001", reason="b"))
            s.add(PolicySimulation(brand_id=b_id, sample_size=1, created_by=staff_b["ADMIN"]))
            s.add(LeadForm(brand_id=b_id, source="FACEBOOK", phone="9000000002", full_name="b lead", status="NEW"))
            seed_sme_request(s, b_id, loan.customer_id)  # a business, an invoice and a financing request of B
            seed_remittance(s, b_id)  # a partner lender of B and an escrow remittance to it
            bureau_file = BureauFile(
                brand_id=b_id, kind="INCREMENTAL", reference_date=date(2026, 8, 9), due_date=date(2026, 8, 13),
                status="VALIDATED", records=1, content="TUDF12 b only\nTRLR\n",
            )  # fmt: skip
            s.add(bureau_file)
            s.flush()
            s.add(
                BureauFileRecord(
                    file_id=bureau_file.id, brand_id=b_id, loan_id=loan.id, account_number="B" * 25,
                    reference_date=date(2026, 8, 9), snapshot={}, errors=[],
                )
            )  # fmt: skip
            s.add(
                StaffReminder(
                    brand_id=b_id,
                    customer_id=loan.customer_id,
                    created_by=staff_b["ADMIN"],
                    channel="sms",
                    template="DUE_TODAY",
                    scheduled_at=datetime.now(UTC) + timedelta(days=1),
                )
            )
            s.add(BrandNonRepaymentDate(brand_id=b_id, day=date.today() + timedelta(days=40), reason="b holiday"))
            s.add(PartnerUnavailabilityDate(staff_id=staff_b["CREDIT_EXECUTIVE"], day=date.today() + timedelta(days=9)))
            s.add(
                BrandApiKey(
                    brand_id=b_id, name="b", key_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(), last4="bbbb"
                )
            )
            s.add(BrandApiKey(brand_id=brand["brand_id"], name="a", key_hash=api_key_hash(a_key), last4=a_key[-4:]))
            # collections: a collector's profile, a call, a follow-up on it, a field visit, a payment with a receipt
            collector = staff_b["COLLECTION_EXECUTIVE"]
            s.add(CollectorProfile(brand_id=b_id, staff_id=collector, rating_criteria={}, pincodes=["560001"]))
            call = DialerCall(
                brand_id=b_id,
                provider="acefone",
                provider_call_id=f"b-{uuid.uuid4().hex[:12]}",
                customer_id=loan.customer_id,
                loan_id=loan.id,
                staff_id=collector,
                customer_number_masked="XXXXXX0001",
                status="COMPLETED",
            )
            s.add(call)
            s.flush()
            s.add(
                CollectionFollowUp(
                    brand_id=b_id, loan_id=loan.id, staff_id=collector, disposition="CALLBACK", call_id=call.id
                )
            )
            s.add(
                FieldVisit(
                    brand_id=b_id,
                    loan_id=loan.id,
                    staff_id=collector,
                    visited_at=datetime.now(UTC),
                    latitude=Decimal("12.971599"),
                    longitude=Decimal("77.594566"),
                    photo_key=f"field-visits/{b_id}/{loan.id}/b.png",
                    photo_content_type="image/png",
                )
            )
            s.add(
                PaymentTransaction(
                    loan_id=loan.id,
                    gateway="razorpay",
                    gateway_payment_id=f"pay_b{uuid.uuid4().hex[:12]}",
                    amount=100,
                    receipt_no=f"RCPT-B-{uuid.uuid4().hex[:8]}",
                    receipt_key=f"receipts/{b_id}/b.pdf",
                )
            )
            # money in and settings objects the routes address by id: an offline payment, a refund, an item
            s.add(
                OfflinePayment(
                    brand_id=b_id,
                    loan_id=loan.id,
                    amount=100,
                    paid_on=date.today(),
                    mode="UPI",
                    reference=f"b{uuid.uuid4().hex[:11]}",
                    recorded_by=collector,
                )
            )
            s.add(Refund(brand_id=b_id, loan_id=loan.id, amount=100, reason="b only"))
            s.add(
                EvaluationItem(
                    brand_id=b_id, name="b", metric="bureau.score", comparator=">=", threshold="700", is_active=False
                )
            )
            s.add(
                CustomerDocument(
                    brand_id=b_id,
                    customer_id=loan.customer_id,
                    doc_type="OTHER",
                    storage_key=f"b/{uuid.uuid4().hex}",
                    file_name="b.pdf",
                    content_type="application/pdf",
                    size_bytes=1,
                    sha256="0" * 64,
                )
            )
        b_ids = _ids_of_b(db, b_id)
        secrets_of_b = {b_id, *(i for ids in b_ids.values() for i in ids)}
        with db.unit_of_work() as s:
            b_emails = {p for p in s.scalars(select(StaffUser.email).where(StaffUser.id.in_(staff_b.values())))}
        secrets_of_b |= b_emails
        before = _b_rows(db, b_id)
        body_ids = {
            "staff": staff_b["CREDIT_EXECUTIVE"],
            "user": staff_b["CREDIT_EXECUTIVE"],
            "reporting": staff_b["SANCTION_MANAGER"],
            "customer": loan_b["customerId"],
            "loan": loan_b["id"],
            "brand": b_id,
        }

        no_b_row: set[str] = set()  # path objects B has none of (a made-up id would stand in)

        def path_for(template: str, brand_value: str) -> str:
            segments = template.split("/")
            out = []
            for i, seg in enumerate(segments):
                match = re.fullmatch(r"\{(\w+)\}", seg)
                if not match:
                    out.append(seg)
                elif match.group(1) == "brand_id":
                    out.append(brand_value)
                else:
                    pair = "/".join(segments[max(i - 2, 0) : i])
                    table = SEGMENT_TABLES.get(pair) or SEGMENT_TABLES.get(segments[i - 1], "")
                    assert not match.group(1).endswith("id") or table, f"{template}: which table is {seg}?"
                    candidates = b_ids.get(table) or [str(uuid.uuid4())]
                    if not b_ids.get(table) and match.group(1).endswith("id"):
                        no_b_row.add(f"{table} ({template})")
                    if segments[i - 1] in SEGMENT_ROLES and pair not in SEGMENT_TABLES:
                        candidates = [staff_b[SEGMENT_ROLES[segments[i - 1]]]]
                    out.append(candidates[0] if match.group(1).endswith("id") else "bureau")
            return "/".join(out)

        # a dialer's userId is the customer called, its partnerUserId the agent (a collector)
        others = {k: v for k, v in body_ids.items() if k != "user"}
        dialer_ids = {"partneruser": staff_b["COLLECTION_EXECUTIVE"], "user": loan_b["customerId"], **others}

        def body_for(path: str, method: str) -> Any:
            operation = schema["paths"][path][method.lower()]
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                return None
            ids = dialer_ids if "/dialer/" in path else body_ids
            return _example("body", content["application/json"]["schema"], components, ids)

        def leaks(resp) -> set[str]:  # noqa: ANN001
            text = resp.text.replace(resp.request.url.path, "")  # error bodies echo the path asked for
            return {secret for secret in secrets_of_b if secret and secret in text}

        walked = 0
        for path in partner_paths:
            for method in schema["paths"][path]:
                route = routes[(path, method.upper())]
                guard = next(g for g in guards_of(route) if isinstance(g, _BrandGuard))
                roles = _roles_for(guard)
                assert roles, f"{method.upper()} {path}: only a super admin may call it"
                headers = await driver_a.staff_headers(roles[0].value)
                body = body_for(path, method)
                query = {"staffId": staff_b["CREDIT_EXECUTIVE"], "loanId": loan_b["id"]}

                # 2. B's brand in the path → 404, whatever else is sent
                resp = await driver_a.api.request(
                    method.upper(), path_for(path, b_id), json=body, params=query, headers=headers
                )
                assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
                assert not leaks(resp), (method, path, leaks(resp))

                # 3. A's brand, B's objects → never a success on B's objects, never B's data
                has_object = any(p.endswith("_id}") and p != "{brand_id}" for p in path.split("/") if p.startswith("{"))
                resp = await driver_a.api.request(
                    method.upper(), path_for(path, brand["brand_id"]), json=body, params=query, headers=headers
                )
                if has_object:
                    assert resp.status_code in (404, 422), (method, path, resp.status_code, resp.text)
                assert not leaks(resp), (method, path, leaks(resp))

                # 4. A's API key against brand B → 404 (or 401 where keys are not accepted)
                if method == "get":
                    resp = await driver_a.api.get(path_for(path, b_id), headers={"X-API-Key": a_key})
                    assert resp.status_code in (401, 404), (path, resp.status_code, resp.text)
                walked += 1
        assert walked >= len(partner_paths)
        assert not no_b_row, f"the walk asked with a made-up id, not one of B's: {sorted(no_b_row)}"
        assert _b_rows(db, b_id) == before  # nothing of B changed
    finally:
        await driver_a.close()
        await driver_b.close()
