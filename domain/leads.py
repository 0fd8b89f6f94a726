"""Facebook Lead Ads exports, parsed: the file Ads Manager's "Download leads" gives (CSV, or the TSV the export URL
``/ads/lead_gen/export_csv/`` answers, often UTF-16) → one row per lead with the standard columns and the form's
answers, or the row's errors with its line number.

Columns, after the Marketing API guide "Retrieving Leads"
(https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving): ``id``, ``created_time``,
``ad_id``, ``ad_name``, ``adset_id``, ``adset_name``, ``campaign_id``, ``campaign_name``, ``form_id``,
``form_name``, ``is_organic`` (1 for organic reach, then the ad columns are empty, else 0), ``platform`` (fb/ig),
then one column per question: ``full_name``, ``phone_number``, ``email`` and any custom ones, kept as responses.

Pure: standard library only, no database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

STANDARD = (
    "id",
    "created_time",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "form_id",
    "form_name",
    "is_organic",
    "platform",
)
CONTACT = ("full_name", "phone_number", "email")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PREFIX = re.compile(r"^[a-z]{1,2}:", re.IGNORECASE)  # typed prefixes of the export: p:+91..., ag:123...
MAX_CELL = 2000


class LeadFileError(ValueError):
    """The file as a whole cannot be read (not text, no header, no contact column)."""


@dataclass
class LeadRow:
    line: int
    external_id: str | None
    created_time: datetime | None
    ad_id: str | None
    ad_name: str | None
    adset_id: str | None
    adset_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    form_id: str | None
    form_name: str | None
    is_organic: bool
    platform: str | None
    full_name: str | None
    phone: str | None
    email: str | None
    responses: dict[str, str] = field(default_factory=dict)
    duplicate_of_line: int | None = None  # an earlier row of the same file with this phone or e-mail


@dataclass
class RowError:
    line: int
    column: str
    reason: str


@dataclass
class ParsedLeads:
    rows: list[LeadRow]
    errors: list[RowError]


def _strip_prefix(value: str) -> str:
    value = value.strip()
    match = _PREFIX.match(value)
    return value[match.end() :].strip() if match else value


def normalise_phone(raw: str) -> str | None:
    """An Indian mobile number as its 10 digits (``+91 98765 43210``, ``p:+919876543210``, ``09876543210``,
    ``91-98765-43210``); None when it is not one."""
    value = _strip_prefix(raw)
    if not re.fullmatch(r"[+\d\s().-]+", value):
        return None
    digits = re.sub(r"\D", "", value)
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    elif len(digits) == 13 and digits.startswith("091"):
        digits = digits[3:]
    if len(digits) != 10 or digits[0] not in "6789":
        return None
    return digits


def normalise_email(raw: str) -> str | None:
    """An e-mail address lower-cased, or None when it does not look like one."""
    value = _strip_prefix(raw).lower()
    return value if len(value) <= 200 and EMAIL_RE.match(value) else None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LeadFileError("the file is not UTF-8 or UTF-16 text") from exc


def _when(raw: str) -> datetime | None:
    value = raw.strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _key(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def parse_leads(data: bytes | str, *, max_rows: int | None = None) -> ParsedLeads:
    """Parse an export; raises LeadFileError for an unreadable file or more than ``max_rows`` rows."""
    text = _decode(data) if isinstance(data, bytes) else data
    if "\x00" in text:
        raise LeadFileError("the file holds a NUL character: not a CSV text file")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise LeadFileError("the file is empty") from None
    except csv.Error as exc:
        raise LeadFileError(f"not a CSV file: {exc}") from exc
    keys = [_key(h) for h in header]
    if not ({"phone_number", "email"} & set(keys)):
        raise LeadFileError("the header has neither phone_number nor email")
    rows: list[LeadRow] = []
    errors: list[RowError] = []
    seen_phone: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    count = 0
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            count += 1
            if max_rows is not None and count > max_rows:
                raise LeadFileError(f"more than {max_rows} rows")
            cells = {k: (record[i].strip() if i < len(record) else "") for i, k in enumerate(keys)}
            row_errors: list[RowError] = []
            if len(record) > len(keys):
                row_errors.append(RowError(line, "*", f"{len(record)} cells for {len(keys)} columns"))
            for k, v in cells.items():
                if len(v) > MAX_CELL:
                    row_errors.append(RowError(line, k, f"longer than {MAX_CELL} characters"))
            phone = email = None
            if cells.get("phone_number"):
                phone = normalise_phone(cells["phone_number"])
                if phone is None:
                    row_errors.append(RowError(line, "phone_number", "not an Indian mobile number"))
            if cells.get("email"):
                email = normalise_email(cells["email"])
                if email is None:
                    row_errors.append(RowError(line, "email", "not an e-mail address"))
            if not cells.get("phone_number") and not cells.get("email"):
                row_errors.append(RowError(line, "phone_number", "neither a phone number nor an e-mail"))
            if row_errors:
                errors.extend(row_errors)
                continue
            organic = cells.get("is_organic", "").strip().lower() in ("1", "true", "yes")
            row = LeadRow(
                line=line,
                external_id=cells.get("id") or None,
                created_time=_when(cells.get("created_time", "")),
                ad_id=_strip_prefix(cells.get("ad_id", "")) or None,
                ad_name=cells.get("ad_name") or None,
                adset_id=_strip_prefix(cells.get("adset_id", "")) or None,
                adset_name=cells.get("adset_name") or None,
                campaign_id=_strip_prefix(cells.get("campaign_id", "")) or None,
                campaign_name=cells.get("campaign_name") or None,
                form_id=_strip_prefix(cells.get("form_id", "")) or None,
                form_name=cells.get("form_name") or None,
                is_organic=organic,
                platform=cells.get("platform") or None,
                full_name=cells.get("full_name") or None,
                phone=phone,
                email=email,
                responses={k: v for k, v in cells.items() if k not in STANDARD and k not in CONTACT and v},
            )
            earlier = (seen_phone.get(phone) if phone else None) or (seen_email.get(email) if email else None)
            if earlier is not None:
                row.duplicate_of_line = earlier
            else:
                if phone:
                    seen_phone[phone] = line
                if email:
                    seen_email[email] = line
            rows.append(row)
    except csv.Error as exc:
        raise LeadFileError(f"line {reader.line_num}: {exc}") from exc
    return ParsedLeads(rows, errors)
