"""KYC documents: which types exist, what each may contain, how big, and who may decide on them.

Pure rules over bytes and strings (standard library only). The API streams an upload, hands the first
bytes, the size and the declared content type here, and stores nothing unless every check passes.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from domain.errors import Conflict, ValidationError

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024  # 50 MiB per file
SNIFF_BYTES = 16  # enough of the head of a file to recognise every allowed format

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
IMAGES = frozenset({JPEG, PNG, WEBP})
IMAGES_OR_PDF = IMAGES | {PDF}

# Who may verify or reject a customer's documents: the documents.verify permission (domain.access).


class DocumentType(StrEnum):
    PAN_CARD = "PAN_CARD"
    AADHAAR_FRONT = "AADHAAR_FRONT"
    AADHAAR_BACK = "AADHAAR_BACK"
    SELFIE = "SELFIE"
    SALARY_SLIP = "SALARY_SLIP"
    BANK_STATEMENT = "BANK_STATEMENT"
    OTHER = "OTHER"


class DocumentStatus(StrEnum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


ALLOWED_CONTENT_TYPES: dict[DocumentType, frozenset[str]] = {
    DocumentType.PAN_CARD: IMAGES_OR_PDF,
    DocumentType.AADHAAR_FRONT: IMAGES_OR_PDF,
    DocumentType.AADHAAR_BACK: IMAGES_OR_PDF,
    DocumentType.SELFIE: IMAGES,  # a photo of a person, never a scan
    DocumentType.SALARY_SLIP: IMAGES_OR_PDF,
    DocumentType.BANK_STATEMENT: frozenset({PDF}),  # statement analysis reads PDFs
    DocumentType.OTHER: IMAGES_OR_PDF,
}

# What clients send for the same thing.
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF, "application/acrobat": PDF}
# Declarations that say nothing: the content decides.
_UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}

EXTENSIONS: dict[str, str] = {".jpg": JPEG, ".jpeg": JPEG, ".jfif": JPEG, ".png": PNG, ".webp": WEBP, ".pdf": PDF}
CANONICAL_EXTENSION = {JPEG: ".jpg", PNG: ".png", WEBP: ".webp", PDF: ".pdf"}
MAX_FILE_NAME = 100


class DocumentTooLarge(ValidationError):
    """The body is over the cap: 413 rather than 422, still a field error on ``file``."""

    status_code = 413
    error = "Payload Too Large"


def parse_doc_type(value: str | None) -> DocumentType:
    if value is None or not value.strip():
        raise ValidationError("docType is required", field="docType")
    try:
        return DocumentType(value.strip().upper())
    except ValueError:
        allowed = ", ".join(t.value for t in DocumentType)
        raise ValidationError(
            f"unknown document type {value.strip()[:40]!r}; one of {allowed}", field="docType"
        ) from None


def sniff_content_type(head: bytes) -> str | None:
    """The format the first bytes of a file announce (magic numbers), or None if not an allowed one."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def normalise_content_type(declared: str | None) -> str:
    base = (declared or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def check_size(size: int) -> None:
    if size <= 0:
        raise ValidationError("the file is empty", field="file")
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(f"the file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB", field="file")


def check_content(doc_type: DocumentType, declared: str | None, head: bytes, file_name: str = "") -> str:
    """The content type to store: the declared type must be allowed for ``doc_type`` and must match the
    file's magic bytes (and a known extension in the name must not contradict them)."""
    allowed = ALLOWED_CONTENT_TYPES[doc_type]
    allowed_text = ", ".join(sorted(allowed))
    actual = sniff_content_type(head)
    claimed = normalise_content_type(declared)
    if claimed in _UNDECLARED:
        claimed = actual or claimed
    if not claimed:
        raise ValidationError(
            f"the content is not a recognised image or PDF; {doc_type.value} accepts {allowed_text}", field="file"
        )
    if claimed not in allowed:
        what = claimed
        raise ValidationError(f"{doc_type.value} accepts {allowed_text}; got {what}", field="file")
    if actual != claimed:
        found = f"looks like {actual}" if actual else "is not a recognised image or PDF"
        raise ValidationError(f"declared as {claimed} but the content {found}", field="file")
    ext = _extension(file_name)
    if ext in EXTENSIONS and EXTENSIONS[ext] != actual:
        raise ValidationError(f"the file name ends in {ext} but the content is {actual}", field="file")
    return actual


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def safe_file_name(name: str | None, content_type: str | None = None) -> str:
    """A file name safe for a storage key and a Content-Disposition header: the last path segment,
    ASCII letters, digits, ``.``, ``-`` and ``_`` only, no leading dots, at most 100 characters, ending in
    the extension of ``content_type`` (appended when the name has another one or none)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    match = re.search(r"\.[A-Za-z0-9]{1,10}$", base)
    stem, ext = (base[: match.start()], match.group()) if match else (base, "")
    want = CANONICAL_EXTENSION.get(content_type or "")
    if want and EXTENSIONS.get(ext.lower()) != content_type:
        stem, ext = stem + ext, want
    stem = re.sub(r"_{2,}", "_", stem).strip("._-") or "document"
    return stem[: MAX_FILE_NAME - len(ext)].rstrip("._-") + ext


def check_decision(current: str, decision: DocumentStatus) -> None:
    """Documents are decided once: only a PENDING document can be verified or rejected."""
    if decision is DocumentStatus.PENDING:
        raise ValidationError("a decision is VERIFIED or REJECTED", field="status")
    if current != DocumentStatus.PENDING:
        raise Conflict(f"document is already {current}", field="status")


def reject_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError("a reason is required to reject a document", field="reason")
    return text
