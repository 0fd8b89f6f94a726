"""Customer KYC documents, /api/v1/web/kyc: upload (multipart ``docType`` + ``file``) and list.

The upload is streamed: the multipart body is parsed as it arrives, the file part goes to a spooled
temporary file (memory up to 1 MB, then disk) while it is hashed and counted, and the request is refused
as soon as the file passes the 50 MB cap (or at once, if ``Content-Length`` already says so). Nothing is
stored unless every check passes; if the database refuses the row, the stored file is deleted again.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import uuid
import weakref
from dataclasses import dataclass, field
from typing import IO, Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import call_async, db_session
from api.files import KycDocument, document_view, storage
from api.guards import GUARDS, check_text
from api.security import Principal, current_customer
from api.types import multipart_body
from db.models import Customer, CustomerDocument
from domain.documents import (
    MAX_DOCUMENT_BYTES,
    SNIFF_BYTES,
    DocumentStatus,
    DocumentTooLarge,
    DocumentType,
    check_content,
    check_size,
    parse_doc_type,
    safe_file_name,
)
from domain.errors import NotFound, ValidationError

router = APIRouter(prefix="/api/v1/web/kyc", tags=["web (customer)"], dependencies=GUARDS)
Db = Annotated[Session, Depends(db_session, scope="function")]
Me = Annotated[Principal, Depends(current_customer)]

BODY_OVERHEAD = 64 * 1024  # boundaries, part headers and the docType field around the file
MAX_FIELD_BYTES = 1024
MAX_PARTS = 4
SPOOL_IN_MEMORY = 1024 * 1024
FIELDS = ("docType", "file")

UPLOAD_BODY = multipart_body(
    ["docType", "file"],
    {
        "docType": {"type": "string", "enum": [t.value for t in DocumentType]},
        "file": {
            "type": "string",
            "format": "binary",
            "description": "JPEG/PNG/WebP image or PDF (per docType), at most 50 MB",
        },
    },
)


@dataclass
class _Part:
    name: str = ""
    file_name: str | None = None
    content_type: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class StreamedUpload:
    """The parsed form: text fields, and the one file (spooled, hashed, counted, its first bytes kept)."""

    fields: dict[str, str] = field(default_factory=dict)
    file: IO[bytes] | None = None
    file_name: str | None = None
    content_type: str | None = None
    size: int = 0
    head: bytes = b""
    sha256: str = ""

    def close(self) -> None:
        if self.file is not None:
            self.file.close()  # a temporary file: closing it deletes it
            self.file = None


class _Collector:
    """python-multipart callbacks. File data is queued here and written to the spool between chunks, in
    the thread pool, so the event loop never blocks on the disk."""

    def __init__(self, limit: int, fields: tuple[str, ...] = FIELDS):
        self.limit = limit
        self.fields = fields
        self.out = StreamedUpload()
        self.part = _Part()
        self.parts = 0
        self.pending: list[bytes] = []
        self.hash = hashlib.sha256()
        self.ended = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ValidationError(f"too many form parts; send only {' and '.join(self.fields)}", field="file")
        self.part = _Part()
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.strip().lower()
        if name == b"content-disposition":
            self._disposition = self._header_value
        elif name == b"content-type":
            self.part.content_type = self._header_value.decode("latin-1").strip()
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise ValidationError("a form part has no name", field="file")
        self.part.name = name.decode("utf-8", "replace")
        if self.part.name not in self.fields:
            raise ValidationError(f"unknown field; send only {' and '.join(self.fields)}", field=self.part.name[:60])
        if b"filename" in options:
            self.part.file_name = options[b"filename"].decode("utf-8", "replace")
        if self.part.name == "file":
            if self.out.file is not None:
                raise ValidationError("send one file per upload", field="file")
            if self.part.file_name is None:
                raise ValidationError("file must be a file part (with a filename)", field="file")
            self.out.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # deleted by close()
            self.out.file_name = self.part.file_name
            self.out.content_type = self.part.content_type
        elif self.part.name in self.out.fields:
            raise ValidationError("sent twice", field=self.part.name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.name != "file":
            if len(self.part.data) + len(chunk) > MAX_FIELD_BYTES:
                raise ValidationError("too long", field=self.part.name)
            self.part.data.extend(chunk)
            return
        self.out.size += len(chunk)
        if self.out.size > self.limit:
            raise DocumentTooLarge(f"the file is larger than {self.limit // (1024 * 1024)} MB", field="file")
        if len(self.out.head) < SNIFF_BYTES:
            self.out.head += chunk[: SNIFF_BYTES - len(self.out.head)]
        self.hash.update(chunk)
        self.pending.append(chunk)

    def on_part_end(self) -> None:
        if self.part.name != "file":
            self.out.fields[self.part.name] = self.part.data.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True

    async def flush(self) -> None:
        if self.pending and self.out.file is not None:
            data, self.pending = b"".join(self.pending), []
            # its own threads: the route reading the upload holds one of the shared pool (api.deps), and a write
            # waiting for another would deadlock once every thread of the pool is such a route
            await anyio.to_thread.run_sync(self.out.file.write, data, limiter=_upload_writes())


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _upload_writes() -> anyio.CapacityLimiter:
    """The threads that write uploads to their spool files: 8 per event loop (one loop per API process)."""
    loop = asyncio.get_running_loop()
    if loop not in _WRITERS:
        _WRITERS[loop] = anyio.CapacityLimiter(8)
    return _WRITERS[loop]


async def read_upload(
    request: Request, limit: int = MAX_DOCUMENT_BYTES, fields: tuple[str, ...] = FIELDS
) -> StreamedUpload:
    """Parse a multipart upload as it streams in; refuse it as soon as the file passes ``limit``."""
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise ValidationError("send the upload as multipart/form-data, the file in the form's file field", field="file")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ValidationError("invalid Content-Length", field="file")
        if int(declared) > limit + BODY_OVERHEAD:
            # Refused before a byte of the body is read.
            raise DocumentTooLarge(f"the file is larger than {limit // (1024 * 1024)} MB", field="file")
    collector = _Collector(limit, fields)
    try:
        parser = MultipartParser(params[b"boundary"], collector.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            await collector.flush()
        parser.finalize()
        if not collector.ended:
            raise ValidationError("the multipart body is incomplete", field="file")
    except FormParserError as exc:
        collector.out.close()
        raise ValidationError(f"malformed multipart body: {exc}", field="file") from exc
    except BaseException:
        collector.out.close()
        raise
    collector.out.sha256 = collector.hash.hexdigest()
    if collector.out.file is not None:
        collector.out.file.seek(0)
    return collector.out


@router.post("/upload-document", status_code=201, response_model=KycDocument, openapi_extra=UPLOAD_BODY)
def upload_document(request: Request, me: Me, session: Db) -> dict:
    """Upload a KYC document (multipart: ``docType``, ``file``). Images (JPEG/PNG/WebP) or PDF as the
    type allows, at most 50 MB; the content must be what it is declared to be. Stored privately as
    PENDING until staff verify or reject it."""
    return store_upload(request, me, session)


def store_upload(
    request: Request,
    me: Principal,
    session: Session,
    doc_type: DocumentType | None = None,
    *,
    with_password: bool = False,
) -> dict:
    """Read, check and store one multipart document upload of customer ``me``; returns the document as
    the API shows it. With ``doc_type`` the form's ``docType`` may be left out (if sent, it must agree).
    Commits ``session`` (the row, and whatever else it holds) before returning, and deletes the stored
    file again if that commit fails."""
    upload = call_async(read_upload, request, fields=(*FIELDS, "password") if with_password else FIELDS)
    try:
        for name, value in (*upload.fields.items(), ("file", upload.file_name)):
            check_text(value, name)
        sent = upload.fields.get("docType")
        if doc_type is None or sent is not None:
            parsed = parse_doc_type(sent)
            if doc_type is not None and parsed is not doc_type:
                raise ValidationError(f"this upload takes {doc_type.value} only", field="docType")
            doc_type = parsed
        if upload.file is None:
            raise ValidationError("file is required", field="file")
        check_size(upload.size)
        content_type = check_content(doc_type, upload.content_type, upload.head, upload.file_name or "")
        password = (upload.fields.get("password") or "") if with_password else ""
        if len(password) > 100:
            raise ValidationError("at most 100 characters", field="password")
        name = safe_file_name(upload.file_name, content_type)

        # The body is in; only now take a database connection.
        customer = session.get(Customer, me.id)
        if customer is None or customer.brand_id != me.brand_id:
            raise NotFound("customer not found")
        doc_id = str(uuid.uuid4())
        key = f"documents/{me.brand_id}/{me.id}/{doc_id}-{name}"
        store = storage(request)
        try:
            store.put_file(key, upload.file, content_type)
            doc = CustomerDocument(
                id=doc_id,
                brand_id=me.brand_id,
                customer_id=me.id,
                doc_type=doc_type.value,
                storage_key=key,
                file_name=name,
                content_type=content_type,
                size_bytes=upload.size,
                sha256=upload.sha256,
                status=DocumentStatus.PENDING.value,
                password_sealed=seal_statement_password(request, password) if password else None,
            )
            session.add(doc)
            session.commit()  # before answering: a row we could not keep means no file either
        except BaseException:
            session.rollback()
            _forget(store, key)
            raise
    finally:
        upload.close()
    return document_view(request, doc)


def seal_statement_password(request: Request, password: str) -> str:
    """Kept encrypted for the statement analysis; never shown back."""
    from los.crypto import STATEMENT_PASSWORD, seal

    return seal(request.app.state.settings.field_key(), STATEMENT_PASSWORD, password)


def _forget(store, key: str) -> None:  # noqa: ANN001
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


@router.get("/documents", response_model=list[KycDocument])
def my_documents(request: Request, me: Me, session: Db) -> list[dict]:
    """The customer's own documents, newest first, each with a short-lived download URL."""
    docs = session.scalars(
        select(CustomerDocument)
        .where(CustomerDocument.customer_id == me.id, CustomerDocument.brand_id == me.brand_id)
        .order_by(CustomerDocument.created_at.desc(), CustomerDocument.id)
    ).all()
    return [document_view(request, d) for d in docs]
