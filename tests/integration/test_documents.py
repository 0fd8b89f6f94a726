"""KYC documents: typed, size-capped uploads into private storage (a local directory, or S3 against moto's
real S3-API server), served only through short-lived presigned URLs; staff verify or reject with a reason."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy import func, select

from activities.storage import LinkSigner, S3Storage, SignedRef, build_storage, s3_client
from api.app import create_app
from db.models import Brand, Customer, CustomerDocument
from domain.documents import MAX_DOCUMENT_BYTES, safe_file_name
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from los.settings import Settings
from tests.conftest import ThreadedServer, free_port

UPLOAD = "/api/v1/web/kyc/upload-document"
LIST = "/api/v1/web/kyc/documents"


def jpeg(size: int = 4096) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(size - 11)


def png(size: int = 4096) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def pdf(size: int = 4096) -> bytes:
    body = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
    return body + b"%" + os.urandom(size - len(body) - 8) + b"\n%%EOF\n"


def form(doc_type: str | None, name: str, data: bytes, content_type: str) -> dict:
    out: dict = {"files": {"file": (name, data, content_type)}}
    if doc_type is not None:
        out["data"] = {"docType": doc_type}
    return out


async def customer(driver: Driver, db) -> tuple[dict[str, str], str]:  # noqa: ANN001
    """A registered customer of the driver's brand: (auth headers, customer id)."""
    phone, _ = demo_identity(0, "auto")
    headers = await driver.register(phone)
    with db.unit_of_work() as s:
        cid = s.scalars(
            select(Customer.id)
            .join(Brand, Brand.id == Customer.brand_id)
            .where(Customer.phone == phone, Brand.code == driver.brand)
        ).one()
    return headers, cid


def rows(db, customer_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(
            select(func.count()).select_from(CustomerDocument).where(CustomerDocument.customer_id == customer_id)
        )


def stored_files(storage_dir: Path, brand_id: str, customer_id: str) -> list[Path]:
    folder = storage_dir / "documents" / brand_id / customer_id
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def test_upload_list_and_download_through_presigned_url(app, brand, sandbox, db, storage_dir) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        api = driver.api
        pan_bytes, stmt_bytes = jpeg(200_000), pdf(3_000_000)  # the statement spills the spool to disk

        r = await api.post(UPLOAD, headers=headers, **form("PAN_CARD", "my PAN card.JPG", pan_bytes, "image/jpeg"))
        assert r.status_code == 201, r.text
        pan = r.json()
        assert pan["docType"] == "PAN_CARD" and pan["status"] == "PENDING" and pan["contentType"] == "image/jpeg"
        assert pan["sizeBytes"] == len(pan_bytes) and pan["sha256"] == hashlib.sha256(pan_bytes).hexdigest()
        assert pan["fileName"] == "my_PAN_card.JPG"
        r = await api.post(
            UPLOAD, headers=headers, **form("bank_statement", "statement.pdf", stmt_bytes, "application/pdf")
        )
        assert r.status_code == 201, r.text
        stmt = r.json()

        with db.unit_of_work() as s:
            row = s.get_one(CustomerDocument, pan["id"])
            assert (row.brand_id, row.customer_id, row.status) == (brand["brand_id"], cid, "PENDING")
            assert row.storage_key == f"documents/{brand['brand_id']}/{cid}/{pan['id']}-my_PAN_card.JPG"
            assert row.sha256 == hashlib.sha256(pan_bytes).hexdigest() and row.size_bytes == len(pan_bytes)
        assert (storage_dir / row.storage_key).read_bytes() == pan_bytes
        assert len(stored_files(storage_dir, brand["brand_id"], cid)) == 2

        listed = (await api.get(LIST, headers=headers)).json()
        assert [d["id"] for d in listed] == [stmt["id"], pan["id"]]  # newest first
        async with httpx.AsyncClient(timeout=30) as http:
            for doc, data in ((listed[0], stmt_bytes), (listed[1], pan_bytes)):
                assert doc["url"].startswith(f"{app.api.url}/api/v1/files/")
                got = await http.get(doc["url"])
                assert got.status_code == 200 and got.content == data
                assert got.headers["content-type"] == doc["contentType"]
                assert got.headers["x-content-type-options"] == "nosniff"
                assert "sandbox" in got.headers["content-security-policy"]

        # Only one's own documents; none without a customer token.
        other_headers, _ = await customer(driver, db)
        assert (await api.get(LIST, headers=other_headers)).json() == []
        assert (await api.get(LIST)).status_code == 401
        r = await api.post(UPLOAD, **form("PAN_CARD", "pan.jpg", pan_bytes, "image/jpeg"))
        assert r.status_code == 401
        assert rows(db, cid) == 2
    finally:
        await driver.close()


async def test_presigned_links_expire_and_refuse_tampering(app, brand, sandbox, db, storage_dir) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        data = png(5000)
        r = await driver.api.post(UPLOAD, headers=headers, **form("SELFIE", "me.png", data, "image/png"))
        assert r.status_code == 201, r.text
        url = r.json()["url"]
        base, token = url.rsplit("/", 1)
        payload, mac = token.split(".")
        with db.unit_of_work() as s:
            key = s.get_one(CustomerDocument, r.json()["id"]).storage_key
        signer = LinkSigner(app.settings.jwt_secret.get_secret_value())
        now = int(time.time())

        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(url)).content == data

            async def status(tok: str) -> int:
                resp = await http.get(f"{base}/{tok}")
                if resp.status_code != 200:
                    assert resp.json()["statusCode"] == resp.status_code  # the project's error format
                return resp.status_code

            flipped = ("A" if payload[5] != "A" else "B").join((payload[:5], payload[6:]))
            assert await status(f"{flipped}.{mac}") == 403  # payload changed
            assert await status(f"{payload}.{mac[:-2]}xx") == 403  # signature changed
            assert await status(payload) == 403  # no signature
            assert await status("not-a-token") == 403
            # A link for another customer's file, signed with any other secret, is refused.
            forged = LinkSigner("guessed-secret").sign(SignedRef(key, now + 300))
            assert await status(forged) == 403
            # Expired: signed properly, but its time is up.
            assert await status(signer.sign(SignedRef(key, now - 1, "image/png"))) == 403
            # A short-lived link works, then stops working.
            short = signer.sign(SignedRef(key, now + 2))
            assert await status(short) == 200
            await asyncio.sleep(2.2)
            assert await status(short) == 403
            # Never a path outside the store, even with a valid signature.
            (storage_dir.parent / "outside.txt").write_text("secret")
            for evil in ("../outside.txt", f"documents/{brand['brand_id']}/../../../outside.txt", "/etc/passwd"):
                assert await status(signer.sign(SignedRef(evil, now + 300))) == 403
            # A valid link to a key that does not exist is 404.
            assert await status(signer.sign(SignedRef("documents/nothing/here.pdf", now + 300))) == 404
    finally:
        await driver.close()


async def test_bad_uploads_are_refused_with_the_field_and_nothing_stored(
    app, brand, sandbox, db, storage_dir, monkeypatch
) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        api = driver.api
        cases = [
            (form("SELFIE", "selfie.pdf", pdf(), "application/pdf"), 422, "file"),  # selfies are images
            (form("BANK_STATEMENT", "stmt.jpg", jpeg(), "image/jpeg"), 422, "file"),  # statements are PDFs
            (form("PAN_CARD", "pan.pdf", b"MZ\x90\x00" + os.urandom(4000), "application/pdf"), 422, "file"),
            (form("PAN_CARD", "pan.pdf", b"<html><script>alert(1)</script>", "application/pdf"), 422, "file"),
            (form("PAN_CARD", "pan.png", jpeg(), "image/png"), 422, "file"),  # a JPEG declared as PNG
            (form("PAN_CARD", "pan.pdf", jpeg(), "image/jpeg"), 422, "file"),  # name says PDF, bytes say JPEG
            (form("OTHER", "notes.txt", b"just text", "text/plain"), 422, "file"),
            (form("OTHER", "x.bin", b"\x00\x01\x02\x03", "application/octet-stream"), 422, "file"),
            (form("PAN_CARD", "empty.jpg", b"", "image/jpeg"), 422, "file"),
            (form("PASSPORT", "p.jpg", jpeg(), "image/jpeg"), 422, "docType"),  # unknown type
            (form(None, "p.jpg", jpeg(), "image/jpeg"), 422, "docType"),  # missing type
            ({"data": {"docType": "PAN_CARD"}, "files": {"other": ("a.jpg", jpeg(), "image/jpeg")}}, 422, "other"),
            ({"json": {"docType": "PAN_CARD"}}, 422, "file"),  # not multipart
        ]
        for kwargs, status, field in cases:
            r = await api.post(UPLOAD, headers=headers, **kwargs)
            assert r.status_code == status, (kwargs.get("data"), r.text)
            body = r.json()
            assert body["statusCode"] == status and body["path"] == UPLOAD
            assert body["errors"][0]["field"] == field and body["errors"][0]["reason"], body
        # A multipart form without the file part.
        r = await api.post(UPLOAD, headers=headers, files={"docType": (None, "PAN_CARD")})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file", r.text
        # A plain field named file, not a file part.
        r = await api.post(UPLOAD, headers=headers, files={"docType": (None, "OTHER"), "file": (None, "text")})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file", r.text
        # A body that is not (or not all of) a multipart form.
        for raw in (b"garbage", b'--zz\r\nContent-Disposition: form-data; name="docType"\r\n\r\nOTHER'):
            r = await api.post(
                UPLOAD, headers={**headers, "Content-Type": "multipart/form-data; boundary=zz"}, content=raw
            )
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file", r.text

        # 50 MB + 1 byte: refused while streaming (Content-Length alone would let it in).
        too_big = b"%PDF-1.7\n" + bytes(MAX_DOCUMENT_BYTES + 1 - 9)
        r = await api.post(UPLOAD, headers=headers, **form("BANK_STATEMENT", "big.pdf", too_big, "application/pdf"))
        assert r.status_code == 413 and r.json()["errors"][0]["field"] == "file", r.text
        del too_big

        # The same without a Content-Length (chunked): the cap still holds.
        boundary = "b0undary"

        async def chunked():  # noqa: ANN202
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="docType"\r\n\r\nOTHER\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
            ).encode()
            block = bytes(1024 * 1024)
            for _ in range(51):
                yield block
            yield f"\r\n--{boundary}--\r\n".encode()

        r = await api.post(
            UPLOAD,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=chunked(),
        )
        assert r.status_code == 413 and r.json()["errors"][0]["field"] == "file", r.text

        # A declared Content-Length over the cap is answered before any of the body is sent.
        reader, writer = await asyncio.open_connection("127.0.0.1", app.api.port)
        try:
            writer.write(
                (
                    f"POST {UPLOAD} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {headers['Authorization']}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), timeout=10)
            assert b" 413 " in status_line, status_line
        finally:
            writer.close()

        assert rows(db, cid) == 0
        assert stored_files(storage_dir, brand["brand_id"], cid) == []

        # The database refuses the row after the file was stored: the file is deleted again.
        import api.web.documents as web_documents

        monkeypatch.setattr(web_documents, "safe_file_name", lambda name, ctype: "x" * 200 + ".jpg")
        r = await api.post(UPLOAD, headers=headers, **form("PAN_CARD", "pan.jpg", jpeg(), "image/jpeg"))
        assert r.status_code == 500
        assert rows(db, cid) == 0
        assert stored_files(storage_dir, brand["brand_id"], cid) == []
    finally:
        await driver.close()


async def test_staff_verify_and_reject_within_their_brand(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:8]}", name="Other brand")
    other_driver = Driver(app.api.url, sandbox.url, other["brand_code"])
    try:
        headers, cid = await customer(driver, db)
        api = driver.api
        ids = []
        for doc_type, name, data, ctype in (
            ("PAN_CARD", "pan.jpg", jpeg(), "image/jpeg"),
            ("AADHAAR_FRONT", "front.webp", b"RIFF\x00\x10\x00\x00WEBPVP8 " + os.urandom(3000), "image/webp"),
            ("SALARY_SLIP", "slip.pdf", pdf(), "application/pdf"),
        ):
            r = await api.post(UPLOAD, headers=headers, **form(doc_type, name, data, ctype))
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        pan_id, aadhaar_id, slip_id = ids

        admin = await driver.staff_headers("ADMIN")
        bid = brand["brand_id"]
        base = f"/api/v1/partner/brand/{bid}/customers/{cid}/documents"
        listed = (await api.get(base, headers=admin)).json()
        assert {d["id"] for d in listed} == set(ids) and all(d["status"] == "PENDING" for d in listed)
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(listed[0]["url"])).status_code == 200

        r = await api.post(f"{base}/{pan_id}/verify", headers=admin)
        assert r.status_code == 200, r.text
        verified = r.json()
        with db.unit_of_work() as s:
            row = s.get_one(CustomerDocument, pan_id)
            admin_id = row.verified_by
        assert verified["status"] == "VERIFIED" and verified["decidedBy"] == admin_id and verified["decidedAt"]
        assert admin_id is not None and row.verified_at is not None
        # Decided once.
        assert (await api.post(f"{base}/{pan_id}/verify", headers=admin)).status_code == 409
        r = await api.post(f"{base}/{pan_id}/reject", headers=admin, json={"reason": "blurred"})
        assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"

        # Rejecting needs a reason.
        for body in ({}, {"reason": ""}, {"reason": "   "}):
            r = await api.post(f"{base}/{aadhaar_id}/reject", headers=admin, json=body)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason", (body, r.text)
        r = await api.post(f"{base}/{aadhaar_id}/reject", headers=admin, json={"reason": " Address is cut off "})
        assert r.status_code == 200 and r.json()["status"] == "REJECTED"
        assert r.json()["rejectReason"] == "Address is cut off"
        assert (await api.post(f"{base}/{aadhaar_id}/verify", headers=admin)).status_code == 409

        # The customer sees the decisions.
        mine = {d["id"]: d for d in (await api.get(LIST, headers=headers)).json()}
        assert mine[pan_id]["status"] == "VERIFIED" and mine[aadhaar_id]["rejectReason"] == "Address is cut off"

        # Collections staff may look but not decide.
        collector = await driver.staff_headers("COLLECTION_EXECUTIVE")
        assert (await api.get(base, headers=collector)).status_code == 200
        assert (await api.post(f"{base}/{slip_id}/verify", headers=collector)).status_code == 403

        # Another brand's staff: nothing of this brand exists for them.
        foreign = await other_driver.staff_headers("ADMIN")
        oid = other["brand_id"]
        assert (await api.get(base, headers=foreign)).status_code == 404
        assert (await api.post(f"{base}/{slip_id}/verify", headers=foreign)).status_code == 404
        assert (
            await api.get(f"/api/v1/partner/brand/{oid}/customers/{cid}/documents", headers=foreign)
        ).status_code == 404
        r = await api.post(f"/api/v1/partner/brand/{oid}/customers/{cid}/documents/{slip_id}/verify", headers=foreign)
        assert r.status_code == 404
        # ... and a document under another customer of the right brand, or a junk id, is not found either.
        _, other_cid = await customer(driver, db)
        other_base = f"/api/v1/partner/brand/{bid}/customers/{other_cid}/documents"
        assert (await api.post(f"{other_base}/{slip_id}/verify", headers=admin)).status_code == 404
        assert (await api.post(f"{base}/not-a-uuid/verify", headers=admin)).status_code == 404
        assert (await api.post(f"{base}/{uuid.uuid4()}/verify", headers=admin)).status_code == 404
        assert (
            await api.get(f"/api/v1/partner/brand/{bid}/customers/{uuid.uuid4()}/documents", headers=admin)
        ).status_code == 404
        # A customer token is not a staff token.
        assert (await api.get(base, headers=headers)).status_code == 401
        with db.unit_of_work() as s:
            assert s.get_one(CustomerDocument, slip_id).status == "PENDING"
    finally:
        await driver.close()
        await other_driver.close()


# --- S3, against moto's real S3-API server ------------------------------------------------------------
@pytest.fixture(scope="module")
def s3_server():  # noqa: ANN201
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_settings(endpoint: str, bucket: str, **kw) -> Settings:  # noqa: ANN003
    return Settings(
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region="ap-south-1",
        s3_access_key_id="test-key",
        s3_secret_access_key="test-secret",
        **kw,
    )


def new_bucket(endpoint: str) -> str:
    bucket = f"los-docs-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="ap-south-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    return bucket


async def test_s3_storage_put_get_presign_against_a_real_s3_api(s3_server) -> None:  # noqa: ANN001
    bucket = new_bucket(s3_server)
    store = build_storage(s3_settings(s3_server, bucket))
    assert isinstance(store, S3Storage) and store.bucket == bucket

    data = pdf(20_000)
    key = "documents/brand/customer/doc-statement.pdf"
    assert not store.exists(key)
    assert store.put(key, data, "application/pdf") == key
    assert store.exists(key) and store.get(key) == data

    # A file bigger than boto3's multipart threshold goes up in parts, never read whole.
    big = Path(f"/tmp/los-s3-{uuid.uuid4().hex}.bin")
    big.write_bytes(os.urandom(9 * 1024 * 1024))
    try:
        with big.open("rb") as f:
            store.put_file("documents/brand/customer/big.bin", f, "application/octet-stream")
        assert (
            hashlib.sha256(store.get("documents/brand/customer/big.bin")).digest()
            == hashlib.sha256(big.read_bytes()).digest()
        )
    finally:
        big.unlink()

    url = store.presign(key, 60, content_type="application/pdf", file_name="statement.pdf")
    assert url.startswith(f"{s3_server}/{bucket}/") and "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    async with httpx.AsyncClient(timeout=30) as http:
        got = await http.get(url)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "application/pdf"
        assert "response-content-disposition=inline" in url  # moto itself ignores it; S3 and MinIO honour it
        # The bucket is private: the object without a signature is refused. (moto accepts any signature
        # and ignores expiry on presigned URLs, so tampering and expiry are S3's to enforce, not testable here.)
        assert (await http.get(f"{s3_server}/{bucket}/{key}")).status_code == 403

    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(ValueError):
        store.presign("../escape", 60)
    with pytest.raises(ValueError):
        store.presign(key, 8 * 24 * 3600)  # longer than S3 allows


async def test_api_stores_and_serves_documents_from_s3(
    s3_server, database_url, sandbox, brand, db, storage_dir
) -> None:  # noqa: ANN001
    bucket = new_bucket(s3_server)
    port = free_port()
    settings = s3_settings(
        s3_server, bucket, database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}", api_port=port
    )
    client = s3_client(settings)
    with ThreadedServer(create_app(settings), port=port) as api:
        driver = Driver(api.url, sandbox.url, brand["brand_code"])
        try:
            headers, cid = await customer(driver, db)
            data = jpeg(300_000)
            r = await driver.api.post(UPLOAD, headers=headers, **form("AADHAAR_BACK", "back.jpeg", data, "image/jpeg"))
            assert r.status_code == 201, r.text
            doc = r.json()
            key = f"documents/{brand['brand_id']}/{cid}/{doc['id']}-back.jpeg"
            head = client.head_object(Bucket=bucket, Key=key)
            assert head["ContentLength"] == len(data) and head["ContentType"] == "image/jpeg"
            assert stored_files(storage_dir, brand["brand_id"], cid) == []  # nothing went to the local store

            listed = (await driver.api.get(LIST, headers=headers)).json()
            assert len(listed) == 1 and listed[0]["url"].startswith(f"{s3_server}/{bucket}/")
            async with httpx.AsyncClient(timeout=30) as http:
                got = await http.get(listed[0]["url"])
                assert got.status_code == 200 and got.content == data

            # Refused uploads leave nothing in the bucket.
            r = await driver.api.post(UPLOAD, headers=headers, **form("SELFIE", "me.pdf", pdf(), "application/pdf"))
            assert r.status_code == 422
            objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
            assert [o["Key"] for o in objects] == [key]

            admin = await driver.staff_headers("ADMIN")
            base = f"/api/v1/partner/brand/{brand['brand_id']}/customers/{cid}/documents"
            staff_view = (await driver.api.get(base, headers=admin)).json()
            assert staff_view[0]["url"].startswith(f"{s3_server}/{bucket}/")
            r = await driver.api.post(f"{base}/{doc['id']}/verify", headers=admin)
            assert r.status_code == 200 and r.json()["status"] == "VERIFIED"
        finally:
            await driver.close()


def test_file_names_are_made_safe() -> None:
    assert safe_file_name("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert safe_file_name("C:\\Users\\me\\PAN card (1).jpeg", "image/jpeg") == "PAN_card_1.jpeg"
    assert safe_file_name("", "image/png") == "document.png"
    assert safe_file_name("..hidden.pdf", "application/pdf") == "hidden.pdf"
    assert safe_file_name("आधार.png", "image/png") == "document.png"
    long = safe_file_name("a" * 500 + ".pdf", "application/pdf")
    assert len(long) == 100 and long.endswith(".pdf")


async def test_renderer_reuses_its_page_and_each_pdf_holds_only_its_document() -> None:
    """The renderer keeps a page open between documents (a new page per document costs a renderer
    process); each PDF must still be exactly its own document, and a page whose render fails is dropped."""
    import re

    from activities import documents
    from activities.documents import PdfRenderer

    renderer = PdfRenderer()
    limit = documents.PAGE_RENDERS
    try:
        long = await renderer.pdf("<html><body>" + "<p style='page-break-after:always'>x</p>" * 5 + "</body></html>")
        page = renderer._pages[-1]
        short = await renderer.pdf("<html><body><p>one page</p></body></html>")
        assert re.findall(rb"/Count (\d+)", long) == [b"5"] and re.findall(rb"/Count (\d+)", short) == [b"1"]
        assert renderer._pages == [page]  # the same page printed both

        await page.close()  # a page that died is not handed out again
        again = await renderer.pdf("<html><body><p>after</p></body></html>")
        assert again.startswith(b"%PDF-") and renderer._pages and renderer._pages[0] is not page

        # and a page is replaced after a number of documents
        documents.PAGE_RENDERS = 2
        fresh = renderer._pages[0]
        await renderer.pdf("<html><body><p>second on this page</p></body></html>")
        assert renderer._pages == [] and fresh.is_closed()
        await renderer.pdf("<html><body><p>on a new page</p></body></html>")
        assert renderer._pages and renderer._pages[0] is not fresh
    finally:
        documents.PAGE_RENDERS = limit
        await renderer.close()


async def test_pdfs_are_printed_by_the_headless_shell_with_the_full_browsers_fonts_and_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a configured browser the renderer takes Debian's chromium-headless-shell (a third of the CPU per
    document, bench/pdf.py); its certificate has the same pages, page size and embedded fonts as the full browser's."""
    import re
    import shutil
    from pathlib import Path

    from activities.documents import HEADLESS_SHELL, PdfRenderer, chromium_executable, render_html
    from bench.pdf import SAMPLE

    full = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(HEADLESS_SHELL).exists() or not Path(full).exists():
        pytest.skip("chromium-headless-shell or chromium not installed (bash scripts/install installs both)")
    monkeypatch.delenv("LOS_CHROMIUM_PATH", raising=False)
    assert chromium_executable() == HEADLESS_SHELL
    assert chromium_executable(full) == full  # a configured browser is kept
    monkeypatch.setenv("LOS_CHROMIUM_PATH", full)
    assert chromium_executable() == full

    html = render_html("noc.html", {**SAMPLE, "kind": "SETTLED", "settlement_amount_inr": "₹40,000.00"})

    def shape(pdf: bytes) -> tuple:
        return (
            re.findall(rb"/Count (\d+)", pdf),
            sorted(set(re.findall(rb"/BaseFont\s*/[A-Z]+\+([A-Za-z-]+)", pdf))),
            re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)[:1],
        )

    shapes = []
    for executable in (HEADLESS_SHELL, full):
        renderer = PdfRenderer(executable)
        try:
            shapes.append(shape(await renderer.pdf(html)))
        finally:
            await renderer.close()
    assert shapes[0] == shapes[1]
    assert shapes[0][0] == [b"1"] and b"DejaVuSans" in shapes[0][1]
