"""Customer isolation on /api/v1/web: walk every customer route that takes an id (in its path, its JSON body or its
query) as customer A with the ids of customer B of the same brand, and as customer C of another brand, and prove
that nothing of B's (or C's) is read or changed.

Three customers each take a loan to servicing over the public API (KYC, sanction, KFS accepted, agreement signed,
disbursed), upload a KYC document, pay an offline installment with its receipt issued, register an autopay mandate
and hold a closure certificate. Then, for each route of the app under /api/v1/web (enumerated from the app, so a new
route is walked without a change here):

1. every path parameter is one the walk knows (``PATH_IDS``: an id of the victim's, or ``PUBLIC_PATH_PARAMS``: a
   value that is not anyone's), and so is every id-like body or query field (``BODY_IDS``); an unknown one fails
   the walk, so a new kind of id cannot slip through unchecked;
2. the victim reads each GET route with its own ids → 200 (the ids are real: the walk does not pass on 404s of
   made-up ids);
3. the attacker calls it with the victim's ids → 404 (or 403); where the path names the attacker's own loan and the
   body the victim's objects (a mandate on the victim's bank account) → refused, never a 2xx;
and no answer contains any of the victim's identifiers, and every victim row in the database is unchanged.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import select

from activities.storage import LocalStorage
from api.app import create_app
from db.models import Base, ClosureCertificate, Customer, Loan
from los.demo import Driver
from los.seed import seed_brand
from tests.integration.test_brand_isolation import _api_routes, _resolve
from tests.integration.test_customer_payments_api import receipt_of
from tests.integration.test_offline_payments import credited_offline, disbursed_loan

WEB = "/api/v1/web"
# Path parameters that name a customer's object: the table its id belongs to.
PATH_IDS = {"loan_id": "loans", "payment_id": "payment_transactions"}
# Path parameters that are nobody's: why they need no walk.
PUBLIC_PATH_PARAMS = {"product_code": "a loan product's code: the brand's public catalogue"}
# Id-like fields of a JSON body or query (name ending in Id/Ids, or a uuid): the table the id belongs to.
BODY_IDS = {
    "accountId": "bank_accounts",
    "bankAccountId": "bank_accounts",
    "offerId": "partner_offers",
}
# Id-like fields that name nothing of anyone's: why they need no walk.
PUBLIC_FIELDS = {"deviceId": "the signing-in client's own device label"}
# Values a body field must take to pass validation, so the call reaches the route's own checks.
VALID = {"kfsHash": "0" * 64, "amount": "1000.00", "method": "EMANDATE"}
REFUSED = (403, 404)


def _is_id(name: str, schema: dict) -> bool:
    """Whether a body or query field names an object (its name or format says so, and it is not public)."""
    return (name.endswith(("Id", "Ids", "_id")) or schema.get("format") == "uuid") and name not in PUBLIC_FIELDS


def _body(schema: dict, components: dict, ids: dict[str, str], unknown: set[str], where: str) -> Any:
    """A body that passes validation, with the victim's ids wherever an id is asked for."""
    schema = _resolve(schema, components)
    props = schema.get("properties", {})
    out: dict[str, Any] = {}
    for name, sub in props.items():
        sub = _resolve(sub, components)
        options = [o for o in sub.get("anyOf", [sub]) if _resolve(o, components).get("type") != "null"]
        sub = _resolve(options[0], components) if options else sub
        if _is_id(name, sub):
            if name not in BODY_IDS:
                unknown.add(f"{where}: body field {name}")
                continue
            out[name] = ids[BODY_IDS[name]]
        elif name in VALID:
            out[name] = VALID[name]
        elif "enum" in sub:
            out[name] = sub["enum"][0]
        elif name in schema.get("required", []):
            kind = sub.get("type")
            out[name] = {"integer": 1, "number": 1, "boolean": False}.get(kind, "x" * max(sub.get("minLength", 3), 3))
    return out


def _owned_rows(db, customer_id: str) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every row of the customer's, table by table: the customer, its loans, rows naming either."""
    out: dict[str, list[tuple]] = {}
    with db.unit_of_work() as s:
        loans = set(s.scalars(select(Loan.id).where(Loan.customer_id == customer_id)))
        for table in Base.metadata.sorted_tables:
            cols = table.c
            if table.name == "customers":
                cond = cols.id == customer_id
            elif table.name == "loans":
                cond = cols.id.in_(loans)
            elif "customer_id" in cols:
                cond = cols.customer_id == customer_id
            elif "loan_id" in cols:
                cond = cols.loan_id.in_(loans)
            else:
                continue
            rows = s.execute(select(table).where(cond)).all()
            if rows:
                out[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


async def _settled(db, customer_id: str) -> dict[str, list[tuple]]:  # noqa: ANN001
    """The customer's rows once the loan's workflow has finished reacting to the last payment (the next installment's
    link, the receipt's message): the same for two seconds running."""
    rows = _owned_rows(db, customer_id)
    for _ in range(30):
        await asyncio.sleep(2)
        again = _owned_rows(db, customer_id)
        if again == rows:
            return rows
        rows = again
    raise AssertionError("the customer's rows never settled")


def _ids_of(rows: dict[str, list[tuple]]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in rows and "id" in table.c:
            position = list(table.c.keys()).index("id")
            ids[table.name] = [r[position] for r in rows[table.name]]
    return ids


def _pdf() -> bytes:
    body = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
    return body + b"%" + os.urandom(2048) + b"\n%%EOF\n"


async def _servicing_customer(app, db, storage_dir, driver: Driver) -> dict[str, Any]:  # noqa: ANN001
    """A customer of the driver's brand with a disbursed loan, a KYC document, a receipt, a mandate and a closure
    certificate: their headers and the ids the routes take."""
    headers, loan_id = await disbursed_loan(driver)
    upload = await driver.api.post(
        f"{WEB}/kyc/upload-document",
        headers=headers,
        data={"docType": "SALARY_SLIP"},
        files={"file": ("slip.pdf", _pdf(), "application/pdf")},
    )
    assert upload.status_code == 201, upload.text
    payment = await credited_offline(driver, loan_id)
    receipt_no = await receipt_of(app, db, storage_dir, driver, loan_id, payment)
    mandate = await driver.api.post(f"{WEB}/loans/{loan_id}/mandate", headers=headers, json={"method": "EMANDATE"})
    assert mandate.status_code == 200, mandate.text
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, loan_id)
        customer = s.get_one(Customer, loan.customer_id)
        key = f"certificates/{loan.brand_id}/{loan.id}/noc.pdf"
        LocalStorage(storage_dir).put(key, _pdf(), "application/pdf")
        s.add(
            ClosureCertificate(
                brand_id=loan.brand_id,
                loan_id=loan.id,
                certificate_no=f"NOC-{uuid.uuid4().hex[:12]}",
                kind="NO_DUES",
                storage_key=key,
                sha256="0" * 64,
            )
        )
        phone, pan, customer_id = customer.phone, customer.pan, customer.id
    return {
        "headers": headers,
        "customer_id": customer_id,
        "loan_id": loan_id,
        "payment_id": payment["id"],
        "secrets": {phone, pan, receipt_no, payment["paymentId"], upload.json()["id"], upload.json()["sha256"]},
    }


async def test_no_customer_reads_or_acts_on_anothers_loan_document_receipt_or_kfs(  # noqa: ANN001, PLR0915
    app, brand, sandbox, db, storage_dir
) -> None:
    fastapi_app = create_app(app.settings)
    schema = fastapi_app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    routes = [
        (route.path, method, route)
        for route in _api_routes(fastapi_app.routes)
        if route.path.startswith(WEB + "/")
        for method in sorted(route.methods)
    ]
    assert len(routes) >= 30  # the walk covers the real API, not an empty list

    code_c = f"c{uuid.uuid4().hex[:7]}"
    seed_brand(db, sandbox.url, code=code_c)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    driver_c = Driver(app.api.url, sandbox.url, code_c)
    try:
        a, b, c = await asyncio.gather(
            _servicing_customer(app, db, storage_dir, driver),
            _servicing_customer(app, db, storage_dir, driver),
            _servicing_customer(app, db, storage_dir, driver_c),
        )
        for who in (a, b, c):
            who["rows"] = _owned_rows(db, who["customer_id"])
            who["ids"] = _ids_of(who["rows"])
            for table in ("loans", "payment_transactions", "bank_accounts", "customer_documents", "mandates"):
                assert who["ids"].get(table), f"the victim has no {table} row to be walked against"
            who["secrets"] |= {i for ids in who["ids"].values() for i in ids}
        before = {name: await _settled(db, who["customer_id"]) for name, who in (("b", b), ("c", c))}

        unknown: set[str] = set()

        def path_for(template: str, victim: dict) -> str:
            def fill(match: re.Match) -> str:
                name = match.group(1)
                if name in PATH_IDS:
                    return victim["loan_id"] if name == "loan_id" else victim[name]
                if name in PUBLIC_PATH_PARAMS:
                    return "PL-MONTHLY"
                unknown.add(f"{template}: path parameter {name}")
                return str(uuid.uuid4())

            return re.sub(r"\{(\w+)\}", fill, template)

        def body_for(path: str, method: str, victim: dict) -> Any:
            operation = schema["paths"][path][method.lower()]
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                return None
            ids = {table: values[0] for table, values in victim["ids"].items()}
            ids.setdefault("partner_offers", str(uuid.uuid4()))  # no lender offers: a loan of the brand's own
            return _body(content["application/json"]["schema"], components, ids, unknown, f"{method} {path}")

        def takes_ids(path: str, method: str, route: APIRoute) -> bool:
            if "{" in path and any(p in PATH_IDS for p in re.findall(r"\{(\w+)\}", path)):
                return True
            if any(p not in PUBLIC_PATH_PARAMS for p in re.findall(r"\{(\w+)\}", path)):
                return True  # an unknown one: walked, and named as unknown
            operation = schema["paths"].get(path, {}).get(method.lower(), {})
            for param in operation.get("parameters", []):
                if param["in"] == "query" and _is_id(param["name"], param.get("schema", {})):
                    if param["name"] not in BODY_IDS:
                        unknown.add(f"{method} {path}: query parameter {param['name']}")
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                return False
            props = _resolve(content["schema"], components).get("properties", {})
            return any(_is_id(n, _resolve(s, components)) for n, s in props.items())

        def leaks(resp, victim: dict) -> set[str]:  # noqa: ANN001
            text = resp.text.replace(resp.request.url.path, "")  # error bodies echo the path asked for
            return {secret for secret in victim["secrets"] if secret and secret in text}

        walked: set[tuple[str, str]] = set()
        for attacker, victim in ((a, b), (c, b), (a, c)):
            for path, method, route in routes:
                if not takes_ids(path, method, route):
                    continue
                walked.add((method, path))
                url = path_for(path, victim)
                body = body_for(path, method, victim)
                if method == "GET":  # 2. the ids are real: the victim reads them
                    mine = await driver.api.get(url, headers=victim["headers"])
                    assert mine.status_code == 200, (method, path, mine.status_code, mine.text)
                # 3. the attacker with the victim's ids → 404, nothing of the victim's in the answer
                resp = await driver.api.request(method, url, json=body, headers=attacker["headers"])
                assert resp.status_code in REFUSED, (method, path, resp.status_code, resp.text)
                assert not leaks(resp, victim), (method, path, leaks(resp, victim))
                # the attacker's own loan with the victim's objects in the body → refused, nothing leaked
                names_victims = body and any(value in victim["secrets"] for value in body.values())
                if "{loan_id}" in path and names_victims:
                    own = path_for(path, {**victim, "loan_id": attacker["loan_id"]})
                    resp = await driver.api.request(method, own, json=body, headers=attacker["headers"])
                    assert resp.status_code in (*REFUSED, 409, 422), (method, path, resp.status_code, resp.text)
                    assert not leaks(resp, victim), (method, path, leaks(resp, victim))
        assert not unknown, f"ids the walk does not know (add them to PATH_IDS or BODY_IDS): {sorted(unknown)}"
        assert len(walked) >= 15, sorted(walked)
        assert ("GET", f"{WEB}/loans/{{loan_id}}/receipts/{{payment_id}}") in walked
        assert ("POST", f"{WEB}/bank/verify") in walked  # an id in the body only
        for name, who in (("b", b), ("c", c)):  # nothing of B's or C's changed
            after = _owned_rows(db, who["customer_id"])
            changed = {t: (set(before[name].get(t, [])) ^ set(rows)) for t, rows in after.items()}
            assert after == before[name], {t: diff for t, diff in changed.items() if diff}
    finally:
        await driver.close()
        await driver_c.close()
