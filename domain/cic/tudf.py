"""The consumer data file for the credit information companies, in TransUnion CIBIL's TUDF layout.

Layout followed: TransUnion CIBIL, *Consumer Credit Information System — Guide to Data Input File Format* (the
"TUDF" format, version 12 of the header; guide version 3.71 of 21 July 2021, listed at
https://pt.scribd.com/document/699992944/TUDF-Guide-CIBIL-v3-71), which Equifax, Experian and CRIF High Mark also
accept for consumer data (the uniform data format of the CICs keeps its segments). The stored copies available
when this was written gave the guide's table of contents and the list of segments and fields
(https://bizopedia.in/finance/structure-of-a-consumer-cibil-report/: header; name; identification; telephone;
e-mail; address; account with member code, short name, account number, account type, ownership indicator, dates
opened / last payment / closed / reported and certified, high credit or sanctioned amount, current balance, amount
overdue, days past due...), not the guide's field tables: the tags, lengths and code values below are those of
the guide as published, from the project's reading of it, and **must be checked against the member's current copy
of the guide** (issued by the CIC with the member code) before the first live submission. docs/bureau-reporting.md
lists them.

Structure (one line per record, ``\\n`` between lines):

* **header** ``TUDF``: fixed-length, 146 characters: ``TUDF`` · version ``12`` · member user id (30) · member
  short name (16) · cycle identification (2) · date reported and certified (8, DDMMYYYY) · reporting password (30,
  left blank: keyed in at upload, never stored) · authentication method (1, ``L``) · future use (5) · member data
  (48);
* one **record** per account: segments in the order PN, ID, PT, EC, PA, TL, each ``tag`` + 2-digit length +
  segment value (``PN03N01``), then its fields, each ``tag`` (2 digits) + 2-digit length + value; fields with no
  value are left out (the guide's "when available"); the record ends with ``ES02**``;
* **trailer** ``TRLR``.

Values: upper case; dates DDMMYYYY; amounts in **whole rupees** (paise rounded half up), no sign, no separators;
days past due 3 digits zero-padded; rate of interest as a percentage with 2 decimals.

Codes (the guide's tables):

* gender (PN 08): 1 female, 2 male, 3 transgender;
* ID type (ID 01): 01 income-tax PAN, 02 passport, 03 voter id, 04 driving licence, 05 ration card, 06 UID
  (Aadhaar: never reported here, the system keeps it masked), 09 CKYC number (:data:`ID_CKYC`: the borrower's
  14-digit KYC identification number, reported where available as RBI's Credit Information Reporting Directions
  ask, paragraph 12(10); the code is the project's reading of the guide's ID type table, to be checked with the
  rest). One ID segment per identifier, numbered ``I01``, ``I02``...: the PAN first, then the CKYC number (kept on
  the customer by the KYC pipeline's CKYC step, ``customers.ckyc_number``);
* telephone type (PT 03): 01 mobile, 02 home, 03 office, 00 not classified;
* address category (PA 08): 01 permanent, 02 residence, 03 office, 04 not categorised; state code (PA 06): the
  guide's two-digit table (:data:`STATE_CODES`);
* account type (TL 04): 05 personal loan (default), 69 short-term personal loan, 06 consumer loan...;
  ownership (TL 05): 1 individual, 2 authorised user, 3 guarantor, 4 joint;
* written-off and settled status (TL 22): 00 restructured, 02 written off, 03 settled;
* asset classification (TL 26): 01 standard, 02 sub-standard, 03 doubtful, 04 loss, 05 special mention account
  (SMA-0/1/2; the degree is in the days past due);
* payment frequency (TL 44): 01 weekly, 02 fortnightly, 03 monthly, 04 quarterly, 05 bullet, 06 daily.

The **DPD history** the CIC shows (36 months of days past due) is built by the CIC from the days past due of each
submission; the input file carries the number of days past due as on the reference date (TL 15).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

VERSION = "12"
HEADER_LENGTH = 146
END_OF_RECORD = "ES02**"
TRAILER = "TRLR"
ACCOUNT_NUMBER_LENGTH = 25
PAN = re.compile(r"^[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]$")  # the fourth letter: the holder's status (P person)
PINCODE = re.compile(r"^[1-9][0-9]{5}$")
PHONE = re.compile(r"^[0-9]{10,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MEMBER_CODE = re.compile(r"^[A-Z0-9]{10}$")

GENDER = {"F": "1", "FEMALE": "1", "M": "2", "MALE": "2", "T": "3", "TRANSGENDER": "3", "O": "3", "OTHER": "3"}
ID_PAN = "01"
ID_CKYC = "09"
CKYC_NUMBER = re.compile(r"^[0-9]{14}$")  # CERSAI's KYC identification number (KIN)
TELEPHONE_MOBILE = "01"
ADDRESS_RESIDENCE = "02"
ACCOUNT_TYPES = {"05": "personal loan", "06": "consumer loan", "69": "short term personal loan"}
OWNERSHIP_INDIVIDUAL = "1"
WO_SETTLED = {"RESTRUCTURED": "00", "WRITTEN_OFF": "02", "SETTLED": "03"}
ASSET_CLASS = {"STANDARD": "01", "SUBSTANDARD": "02", "DOUBTFUL": "03", "LOSS": "04", "SMA": "05"}
PAYMENT_FREQUENCY = {"WEEKLY": "01", "FORTNIGHTLY": "02", "MONTHLY": "03", "QUARTERLY": "04", "BULLET": "05",
                     "DAILY": "06"}  # fmt: skip
STATE_CODES = {
    "JAMMU AND KASHMIR": "01", "HIMACHAL PRADESH": "02", "PUNJAB": "03", "CHANDIGARH": "04", "UTTARAKHAND": "05",
    "UTTARANCHAL": "05", "HARYANA": "06", "DELHI": "07", "RAJASTHAN": "08", "UTTAR PRADESH": "09", "BIHAR": "10",
    "SIKKIM": "11", "ARUNACHAL PRADESH": "12", "NAGALAND": "13", "MANIPUR": "14", "MIZORAM": "15", "TRIPURA": "16",
    "MEGHALAYA": "17", "ASSAM": "18", "WEST BENGAL": "19", "JHARKHAND": "20", "ODISHA": "21", "ORISSA": "21",
    "CHHATTISGARH": "22", "MADHYA PRADESH": "23", "GUJARAT": "24", "DAMAN AND DIU": "25",
    "DADRA AND NAGAR HAVELI": "26", "MAHARASHTRA": "27", "ANDHRA PRADESH": "28", "KARNATAKA": "29", "GOA": "30",
    "LAKSHADWEEP": "31", "KERALA": "32", "TAMIL NADU": "33", "PUDUCHERRY": "34", "PONDICHERRY": "34",
    "ANDAMAN AND NICOBAR ISLANDS": "35", "TELANGANA": "36", "LADAKH": "38", "APO ADDRESS": "99",
}  # fmt: skip


# ------------------------------------------------------------------------------------------- the layout
@dataclass(frozen=True)
class Spec:
    """One field of a segment: its tag, name, maximum length, kind (``A`` alphanumeric, ``N`` digits, ``D`` a
    DDMMYYYY date) and whether the record is refused without it."""

    tag: str
    name: str
    length: int
    kind: str = "A"
    mandatory: bool = False
    exact: bool = False  # the value has exactly ``length`` characters


@dataclass(frozen=True)
class Segment:
    tag: str
    value: str  # the segment tag's own value (``N01``)
    name: str
    fields: tuple[Spec, ...]
    mandatory: bool = False


PN = Segment("PN", "N01", "name", (
    Spec("01", "Consumer Name Field 1", 26, mandatory=True),
    Spec("02", "Consumer Name Field 2", 26),
    Spec("03", "Consumer Name Field 3", 26),
    Spec("04", "Consumer Name Field 4", 26),
    Spec("05", "Consumer Name Field 5", 26),
    Spec("07", "Date of Birth", 8, "D", mandatory=True, exact=True),
    Spec("08", "Gender", 1, "N", mandatory=True, exact=True),
), mandatory=True)  # fmt: skip
ID = Segment("ID", "I01", "identification", (
    Spec("01", "ID Type", 2, "N", mandatory=True, exact=True),
    Spec("02", "ID Number", 30, mandatory=True),
))  # fmt: skip


def id_segment(n: int) -> Segment:
    """The record's ``n``-th ID segment (1: ``I01``, 2: ``I02``...): the same fields as :data:`ID`."""
    return ID if n == 1 else Segment(ID.tag, f"I{n:02d}", ID.name, ID.fields)

PT = Segment("PT", "T01", "telephone", (
    Spec("01", "Telephone Number", 20, "N", mandatory=True),
    Spec("02", "Telephone Extension", 10, "N"),
    Spec("03", "Telephone Type", 2, "N", mandatory=True, exact=True),
))  # fmt: skip
EC = Segment("EC", "C01", "email contact", (Spec("01", "E-Mail ID", 70, mandatory=True),))
PA = Segment("PA", "A01", "address", (
    Spec("01", "Address Line 1", 40, mandatory=True),
    Spec("02", "Address Line 2", 40),
    Spec("03", "Address Line 3", 40),
    Spec("04", "Address Line 4", 40),
    Spec("05", "Address Line 5", 40),
    Spec("06", "State Code", 2, "N", mandatory=True, exact=True),
    Spec("07", "PIN Code", 10, "N", mandatory=True),
    Spec("08", "Address Category", 2, "N", mandatory=True, exact=True),
), mandatory=True)  # fmt: skip
TL = Segment("TL", "T001", "account", (
    Spec("01", "Reporting Member Code", 10, mandatory=True, exact=True),
    Spec("02", "Member Short Name", 16, mandatory=True),
    Spec("03", "Account Number", 25, mandatory=True),
    Spec("04", "Account Type", 2, "N", mandatory=True, exact=True),
    Spec("05", "Ownership Indicator", 1, "N", mandatory=True, exact=True),
    Spec("08", "Date Opened/Disbursed", 8, "D", mandatory=True, exact=True),
    Spec("09", "Date of Last Payment", 8, "D", exact=True),
    Spec("10", "Date Closed", 8, "D", exact=True),
    Spec("11", "Date Reported and Certified", 8, "D", mandatory=True, exact=True),
    Spec("12", "High Credit/Sanctioned Amount", 9, "N", mandatory=True),
    Spec("13", "Current Balance", 9, "N", mandatory=True),
    Spec("14", "Amount Overdue", 9, "N"),
    Spec("15", "Number of Days Past Due", 3, "N", exact=True),
    Spec("22", "Written-off and Settled Status", 2, "N", exact=True),
    Spec("26", "Asset Classification", 2, "N", exact=True),
    Spec("38", "Rate of Interest", 6),
    Spec("39", "Repayment Tenure", 3, "N"),
    Spec("40", "EMI Amount", 9, "N"),
    Spec("41", "Written-off Amount (Total)", 9, "N"),
    Spec("42", "Written-off Amount (Principal)", 9, "N"),
    Spec("43", "Settlement Amount", 9, "N"),
    Spec("44", "Payment Frequency", 2, "N", exact=True),
    Spec("45", "Actual Payment Amount", 9, "N"),
), mandatory=True)  # fmt: skip
SEGMENTS = (PN, ID, PT, EC, PA, TL)


# ------------------------------------------------------------------------------------------- values
def ddmmyyyy(d: date | None) -> str:
    """A date as the format writes it (``31122026``); ``None`` → empty."""
    return d.strftime("%d%m%Y") if d is not None else ""


def rupees(paise: int | None) -> str:
    """Paise as whole rupees, rounded half up (``12345050`` → ``123451``); ``None`` → empty. A negative amount is
    written with its sign so the validator refuses it (the format has none)."""
    if paise is None:
        return ""
    value = (Decimal(paise) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return str(int(value))


def rate(bps: int | None) -> str:
    """Basis points as a percentage with 2 decimals (``2400`` → ``24.00``)."""
    if bps is None:
        return ""
    return f"{Decimal(bps) / 100:.2f}"


def account_number(loan_id: str) -> str:
    """The account number reported for a loan: its UUID as a 25-character base-36 number (upper case, zero-padded),
    which fits the format's 25 characters and maps back to the loan (:func:`loan_id_of_account`)."""
    n = uuid.UUID(loan_id).int
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(ACCOUNT_NUMBER_LENGTH, "0")


def loan_id_of_account(number: str) -> str | None:
    """The loan id of a reported account number, ``None`` if it is not one."""
    text = number.strip().upper()
    if not text or len(text) > ACCOUNT_NUMBER_LENGTH or not text.isalnum() or not text.isascii():
        return None
    n = int(text, 36)
    if n >= 1 << 128:
        return None
    return str(uuid.UUID(int=n))


def split_name(name: str, width: int = 26, parts: int = 5) -> list[str]:
    """A full name over the name fields (26 characters each), cut between words; what does not fit is left in the
    last field whole (so the validator reports it too long instead of the file losing it silently)."""
    words = name.upper().split()
    fields: list[str] = []
    current = ""
    for w in words:
        if current and len(current) + 1 + len(w) > width and len(fields) < parts - 1:
            fields.append(current)
            current = w
        else:
            current = f"{current} {w}".strip()
    if current:
        fields.append(current)
    return fields


def _clean(text: str | None) -> str:
    return " ".join((text or "").upper().split())


def address_lines(address: str | None, width: int = 40, lines: int = 5) -> list[str]:
    """An address over the five address lines (40 characters each), cut between words."""
    return split_name(address or "", width, lines)


def state_code(state: str | None) -> str:
    """The guide's state code of a state's name (``Karnataka`` → ``29``), or a two-digit code passed through;
    empty if unknown."""
    text = _clean(state).replace("&", "AND")
    if text.isdigit() and len(text) == 2:
        return text
    return STATE_CODES.get(text, "")


# ------------------------------------------------------------------------------------------- the record
@dataclass(frozen=True)
class Header:
    member_code: str  # the member (user) id the CIC issued, 10 characters (e.g. NB12345678)
    member_short_name: str  # up to 16 characters
    reported_on: date  # the reference date
    cycle: str = ""  # cycle identification (2), when the CIC asks for one

    def render(self) -> str:
        return (
            "TUDF"
            + VERSION
            + self.member_code.upper().ljust(30)[:30]
            + self.member_short_name.upper().ljust(16)[:16]
            + self.cycle.ljust(2)[:2]
            + ddmmyyyy(self.reported_on)
            + " " * 30  # reporting password: keyed in at upload
            + "L"
            + " " * 5
            + " " * 48
        )


@dataclass(frozen=True)
class AccountRecord:
    """One account as reported: the borrower and the loan, in the system's units (paise, basis points, dates).
    ``None`` or empty means not known; the validator says which of those the format needs."""

    loan_id: str
    member_code: str
    member_short_name: str
    reported_on: date
    name: str | None
    dob: date | None
    gender: str | None  # M / F / T (or MALE / FEMALE / TRANSGENDER)
    pan: str | None
    phone: str | None
    email: str | None
    address: str | None
    state: str | None
    pincode: str | None
    opened_on: date | None
    sanctioned: int  # paise
    balance: int  # paise: principal outstanding
    overdue: int  # paise
    dpd: int
    asset_class: str  # STANDARD / SMA-0..2 / NPA
    npa_since: date | None = None  # the date of NPA (asset_class_since): doubtful after 12 months as NPA
    last_payment_on: date | None = None
    last_payment: int | None = None  # paise
    closed_on: date | None = None
    bureau_flag: str | None = None  # RESTRUCTURED / WRITTEN_OFF / SETTLED
    written_off_total: int | None = None  # paise
    written_off_principal: int | None = None  # paise
    settlement_amount: int | None = None  # paise
    rate_bps: int | None = None
    tenure: int | None = None  # installments
    emi: int | None = None  # paise
    frequency: str | None = None  # MONTHLY / WEEKLY / FORTNIGHTLY / ...
    account_type: str = "05"
    ckyc: str | None = None  # the CKYC number (14 digits), when the CKYC step found the borrower's record
    extra_errors: tuple[str, ...] = field(default=())

    @property
    def account_number(self) -> str:
        return account_number(self.loan_id)


def asset_classification(asset_class: str, npa_since: date | None, on: date) -> str:
    """TL 26 of the system's asset class: STANDARD 01; SMA-0/1/2 05; NPA 02 sub-standard, or 03 doubtful once it
    has been NPA for more than 12 months (RBI IRACP: sub-standard up to 12 months). The system does not classify
    loss assets (04)."""
    text = (asset_class or "").upper()
    if text == "STANDARD":
        return ASSET_CLASS["STANDARD"]
    if text.startswith("SMA"):
        return ASSET_CLASS["SMA"]
    if text == "NPA":
        if npa_since is not None and (on.year - npa_since.year) * 12 + on.month - npa_since.month > 12:
            return ASSET_CLASS["DOUBTFUL"]
        return ASSET_CLASS["SUBSTANDARD"]
    return ""


def segments(rec: AccountRecord) -> list[tuple[Segment, dict[str, str]]]:
    """The record's segments with their field values (tag → text), before rendering: what the validator reads.
    Optional segments with nothing to say (no PAN or CKYC number, no phone, no e-mail) are left out; the PAN and
    the CKYC number each have an ID segment (``I01``, ``I02``), the PAN first."""
    out: list[tuple[Segment, dict[str, str]]] = []
    names = split_name(rec.name or "")
    pn = {f"0{i + 1}": part for i, part in enumerate(names)}
    pn["07"] = ddmmyyyy(rec.dob)
    pn["08"] = GENDER.get((rec.gender or "").strip().upper(), (rec.gender or "").strip())
    out.append((PN, pn))
    ids = [(ID_PAN, rec.pan.strip().upper())] if rec.pan and rec.pan.strip() else []
    ids += [(ID_CKYC, rec.ckyc.strip())] if rec.ckyc and rec.ckyc.strip() else []
    for n, (kind, number) in enumerate(ids, start=1):
        out.append((id_segment(n), {"01": kind, "02": number}))
    if rec.phone:
        out.append((PT, {"01": rec.phone.strip().removeprefix("+91"), "03": TELEPHONE_MOBILE}))
    if rec.email:
        out.append((EC, {"01": rec.email.strip().upper()}))
    lines = address_lines(rec.address)
    pa = {f"0{i + 1}": line for i, line in enumerate(lines)}
    pa["06"] = state_code(rec.state)
    pa["07"] = (rec.pincode or "").strip()
    pa["08"] = ADDRESS_RESIDENCE
    out.append((PA, pa))
    closed_on = rec.closed_on if rec.closed_on is not None and rec.closed_on <= rec.reported_on else None
    tl = {
        "01": rec.member_code.strip().upper(),
        "02": _clean(rec.member_short_name),
        "03": rec.account_number,
        "04": rec.account_type,
        "05": OWNERSHIP_INDIVIDUAL,
        "08": ddmmyyyy(rec.opened_on),
        "09": ddmmyyyy(rec.last_payment_on),
        "10": ddmmyyyy(closed_on),
        "11": ddmmyyyy(rec.reported_on),
        "12": rupees(rec.sanctioned),
        "13": rupees(rec.balance),
        "14": rupees(rec.overdue),
        "15": f"{rec.dpd:03d}" if rec.dpd >= 0 else str(rec.dpd),
        "22": WO_SETTLED.get(rec.bureau_flag or "", ""),
        "26": asset_classification(rec.asset_class, rec.npa_since, rec.reported_on),
        "38": rate(rec.rate_bps),
        "39": str(rec.tenure) if rec.tenure else "",
        "40": rupees(rec.emi),
        "41": rupees(rec.written_off_total),
        "42": rupees(rec.written_off_principal),
        "43": rupees(rec.settlement_amount),
        "44": PAYMENT_FREQUENCY.get((rec.frequency or "").upper(), ""),
        "45": rupees(rec.last_payment),
    }
    out.append((TL, tl))
    return out


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def render_segment(seg: Segment, values: dict[str, str]) -> str:
    """``tag`` + length + segment value, then each field with a value in the layout's order as tag + 2-digit
    length + value."""
    out = _tlv(seg.tag, seg.value)
    for spec in seg.fields:
        value = values.get(spec.tag, "")
        if value:
            out += _tlv(spec.tag, value)
    return out


def render_record(rec: AccountRecord) -> str:
    """The account's record: its segments, then ``ES02**``."""
    return "".join(render_segment(seg, values) for seg, values in segments(rec)) + END_OF_RECORD


def render_file(header: Header, records: Iterable[AccountRecord]) -> str:
    """The whole file: the header line, one line per record, the trailer line (``\\n`` after each)."""
    lines = [header.render(), *(render_record(r) for r in records), TRAILER]
    return "\n".join(lines) + "\n"
