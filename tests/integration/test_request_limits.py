"""Request limits (api.hardening.RequestLimits, docs/security.md): a body over the limit is 413, a JSON body nested too
deep, holding a string too long or a number that is not finite (NaN, Infinity, 1e309) is 422 naming the field, and
numbers outside a field's range and uploads of a type not allowed are refused naming the field too; each in the
error envelope, with nothing written."""

from __future__ import annotations

import asyncio
import os

import httpx
from sqlalchemy import func, select

from api.hardening import find_refused
from db.models import Customer, CustomerDocument, Loan
from los.demo import Driver, demo_identity
from los.settings import Settings

WEB = "/api/v1/web"
ENVELOPE = {"statusCode", "message", "error", "timestamp", "path", "errors"}


def refused(resp: httpx.Response, status: int, field: str, *, prefixed: bool = True) -> str:
    """The reason of the one field error of an envelope answer with ``status`` naming ``field`` (and its message
    starting with the field's name: ``prefixed``)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == ENVELOPE and body["statusCode"] == status, body
    assert [e["field"] for e in body["errors"]] == [field], body
    assert body["message"].startswith(f"{field}: ") or not prefixed, body
    return body["errors"][0]["reason"]


def count(db, model, **where: str) -> int:  # noqa: ANN001, ANN003
    with db.unit_of_work() as s:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return s.scalar(query)


async def customer(driver: Driver, db) -> tuple[dict[str, str], str]:  # noqa: ANN001
    phone, _ = demo_identity(0, "auto")
    headers = await driver.register(phone)
    with db.unit_of_work() as s:
        return headers, s.scalars(select(Customer.id).where(Customer.phone == phone)).one()


async def test_a_body_over_the_limit_is_413_declared_or_streamed(app, brand, sandbox, db) -> None:  # noqa: ANN001
    limit = Settings().max_body_bytes
    phone, _ = demo_identity(0, "auto")
    big = b'{"phoneNumber": "' + phone.encode() + b'", "brand": "' + b"x" * limit + b'"}'
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as api:
        r = await api.post(f"{WEB}/auth/register", content=big, headers={"content-type": "application/json"})
        assert "larger than" in refused(r, 413, "body")

        async def chunked():  # noqa: ANN202 - no Content-Length: counted as it streams in
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        r = await api.post(f"{WEB}/auth/register", content=chunked(), headers={"content-type": "application/json"})
        refused(r, 413, "body")
        # a form or a multipart body sent to a route that takes no upload: the same limit
        r = await api.post(
            f"{WEB}/auth/register", files={"file": ("a.pdf", b"%PDF-" + bytes(limit), "application/pdf")}
        )
        refused(r, 413, "body")
        # just under the limit: the route answers (the brand does not exist)
        small = {"phoneNumber": phone, "brand": "x" * 1000}
        assert (await api.post(f"{WEB}/auth/register", json=small)).status_code != 413
        # the codec endpoint takes a batch of payloads larger than an ordinary body (it asks for its sign-in)
        payloads = {"payloads": [{"metadata": {}, "data": "A" * 60000} for _ in range(20)]}
        assert (await api.post("/api/v1/codec/decode", json=payloads)).status_code == 401
    assert count(db, Customer, phone=phone) == 0


async def test_an_upload_over_the_upload_limit_is_413_before_its_body(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        reader, writer = await asyncio.open_connection("127.0.0.1", app.api.port)
        try:
            writer.write(
                (
                    f"POST {WEB}/kyc/upload-document HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: {headers['Authorization']}\r\n"
                    "Content-Type: multipart/form-data; boundary=zz\r\n"
                    f"Content-Length: {Settings().max_upload_bytes + 1}\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), timeout=10)
            assert b" 413 " in status_line, status_line
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            assert b"x-content-type-options: nosniff" in head.lower()
        finally:
            writer.close()
        assert count(db, CustomerDocument, customer_id=cid) == 0
    finally:
        await driver.close()


async def test_uploads_of_a_type_not_allowed_name_the_file(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        html = b"<!doctype html><script>alert(1)</script>"
        png = b"\x89PNG\r\n\x1a\n" + os.urandom(256)
        cases = [
            ("/kyc/upload-document", {"docType": "PAN_CARD"}, ("pan.html", html, "text/html")),
            ("/kyc/upload-document", {"docType": "SELFIE"}, ("me.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")),
            ("/kyc/upload-document", {"docType": "PAN_CARD"}, ("pan.png", html, "image/png")),  # content is not PNG
            ("/bank/upload-statement", {}, ("statement.png", png, "image/png")),  # statements are PDFs
        ]
        for path, data, file in cases:
            r = await driver.api.post(f"{WEB}{path}", headers=headers, data=data, files={"file": file})
            assert r.status_code in (415, 422), (path, file[0], r.text)
            refused(r, r.status_code, "file")  # the upload code's own words, after the field's name
        assert count(db, CustomerDocument, customer_id=cid) == 0
    finally:
        await driver.close()


async def test_json_nested_too_deep_is_422_naming_body(app, brand, sandbox, db) -> None:  # noqa: ANN001
    depth = Settings().max_json_depth
    phone, _ = demo_identity(0, "auto")
    async with httpx.AsyncClient(base_url=app.api.url, timeout=30) as api:
        for levels in (depth + 1, 100_000):  # the second would overflow Python's parser's recursion
            deep = "[" * levels + "]" * levels
            body = f'{{"phoneNumber": "{phone}", "brand": {deep}}}'.encode()
            r = await api.post(f"{WEB}/auth/register", content=body, headers={"content-type": "application/json"})
            assert "nested deeper than" in refused(r, 422, "body")
        # at the limit the route answers itself (brand must be a string)
        fine = {"phoneNumber": phone, "brand": [[[]]]}
        r = await api.post(f"{WEB}/auth/register", json=fine)
        assert r.status_code == 422 and "nested" not in r.text and r.json()["errors"][0]["field"] == "brand", r.text
    assert count(db, Customer, phone=phone) == 0


async def test_non_finite_numbers_are_refused_naming_the_field(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers = {**(await customer(driver, db))[0], "content-type": "application/json"}
        cid = (await driver.api.get(f"{WEB}/personal-details", headers=headers)).json()["customerId"]
        for number in ("NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1E400"):
            for body, field in (
                (f'{{"amount": {number}, "tenure": 3}}', "amount"),
                (f'{{"amount": "50000", "tenure": {number}}}', "tenure"),
                (f'{{"amount": "50000", "tenure": 3, "productCode": [1, {{"x": {number}}}]}}', "productCode.1.x"),
            ):
                r = await driver.api.post(f"{WEB}/loans", content=body.encode(), headers=headers)
                assert "finite number" in refused(r, 422, field), (number, body)
        # a number in range passes on to the route (its own answer: a field error, not a 500)
        r = await driver.api.post(f"{WEB}/loans", content=b'{"amount": 1e308, "tenure": 3}', headers=headers)
        assert r.status_code == 422 and "finite" not in r.text, r.text
        assert count(db, Loan, customer_id=cid) == 0
    finally:
        await driver.close()


async def test_numbers_outside_a_fields_range_and_long_strings_name_the_field(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        for body, field in (
            ({"amount": "-50000", "tenure": 3}, "amount"),
            ({"amount": "50000", "tenure": -3}, "tenure"),
            ({"amount": "50000", "tenure": 10**30}, "tenure"),
            ({"amount": "1" * 40, "tenure": 3}, "amount"),
            (
                {"amount": "50000", "tenure": 3, "productCode": "P" * (Settings().max_json_string_chars + 1)},
                "productCode",
            ),
        ):
            r = await driver.api.post(f"{WEB}/loans", json=body, headers=headers)
            refused(r, 422, field)
        query = {"brand": brand["brand_code"], "amount": "50000", "tenure": "3"}
        for name, value in (
            ("amount", "-1"),
            ("amount", "NaN"),
            ("amount", "inf"),
            ("tenure", "-2"),
            ("tenure", "1e3"),
        ):
            r = await driver.api.get(f"{WEB}/products/PL-MONTHLY/emi-preview", params={**query, name: value})
            refused(r, 422, name)
        assert count(db, Loan, customer_id=cid) == 0
    finally:
        await driver.close()


def test_the_json_walk_names_the_first_refused_field() -> None:
    from api.hardening import NON_FINITE

    assert find_refused({"a": [1, {"b": "ok"}]}, 32, 10) is None
    assert find_refused({"a": [1, {"b": NON_FINITE}]}, 32, 10) == ("a.1.b", find_refused(NON_FINITE, 1, 1)[1])
    assert find_refused({"a": "x" * 11}, 32, 10)[0] == "a"
    assert find_refused({"k" * 11: 1}, 32, 10)[0] == "body"
    assert find_refused([[[1]]], 3, 10) is None
    assert find_refused([[[[1]]]], 3, 10) == ("body", "is nested deeper than 3 levels")
